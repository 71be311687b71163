"""``python -m arabtoday extract``: saved pages through the same pipeline as the crawl."""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import subprocess
import sys
import zlib
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from conftest import ROOT, SNAPSHOT, expected_records

BASE = "https://www.arabstoday.net"
EXPECTED = expected_records(BASE)
RAQA = "en/middle-east/104257/dozens-of-is-fighters-surrender-as-raqas-fall-nears"


def page(rel: str) -> bytes:
    return (SNAPSHOT / rel / "index.html").read_bytes().replace(b"__BASE__", BASE.encode())


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "arabtoday", "extract", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)


def records(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_html_and_gzip_pages(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_bytes(page(RAQA))
    (tmp_path / "b.html.gz").write_bytes(gzip.compress(page("en/politics/103907/uae-french-relations-discussed")))
    result = run(str(tmp_path / "a.html"), str(tmp_path / "b.html.gz"))
    assert result.returncode == 0, result.stderr
    got = {r["id"]: r for r in records(result.stdout)}
    assert set(got) == {"en-104257", "en-103907"}
    for article_id, record in got.items():
        assert record == {**record, **{k: v for k, v in EXPECTED[article_id].items()}}
    assert "العرب" not in result.stdout  # English records; Arabic is checked below


def test_url_option_and_arabic_output_as_written(tmp_path: Path) -> None:
    rel = next(SNAPSHOT.glob("ar/politics/680115/*/index.html")).parent.relative_to(SNAPSHOT).as_posix()
    path = tmp_path / "ar.html"
    path.write_bytes(page(rel).replace(b'<link rel="canonical"', b'<link rel="x-canonical"'))
    result = run(str(path), "--url", EXPECTED["ar-680115"]["url"])
    assert result.returncode == 0, result.stderr
    [record] = records(result.stdout)
    assert record["body"] == EXPECTED["ar-680115"]["body"]
    assert "\\u06" not in result.stdout


def test_warc_input(tmp_path: Path) -> None:
    warc = tmp_path / "crawl.warc.gz"
    with warc.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for rel in (RAQA, "en/amp/104257"):
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(f"{BASE}/{rel}", "response", payload=io.BytesIO(page(rel)),
                                                          http_headers=headers))
    result = run(str(warc))
    assert result.returncode == 0, result.stderr
    assert [r["id"] for r in records(result.stdout)] == ["en-104257"]
    assert "not an article: AMP copy" in result.stderr


def test_same_pipeline_drops_copies_and_pages_that_are_not_articles(tmp_path: Path) -> None:
    files = []
    for rel in (RAQA, "en/politics/104257/dozens-of-is-fighters-surrender-as-raqas-fall-nears",
                "en/sports/104306/five-companies-hit-as-the-football-federation-cancelled-a-trade-deal",
                "en/sports/104399/five-companies-hit-as-the-football-federation-cancelled-a-trade-deal-update",
                "en/print/104257", "en/politics"):
        path = tmp_path / (rel.replace("/", "_") + ".html")
        path.write_bytes(page(rel))
        files.append(str(path))
    result = run(*files)
    assert result.returncode == 0, result.stderr
    lines = records(result.stdout)
    assert [r["id"] for r in lines if r["status"] == "live"] == ["en-104257", "en-104306"]
    assert [(r["id"], r["duplicate_of"]) for r in lines if r["status"] == "superseded"] == [("en-104399", "en-104306")]
    assert "articles/duplicate/exact 1" in result.stderr
    assert "skipped/not_article 2" in result.stderr


def test_bad_input_is_reported_and_counted_never_a_crash(tmp_path: Path) -> None:
    (tmp_path / "good.html").write_bytes(page(RAQA))
    (tmp_path / "broken.html.gz").write_bytes(b"\x1f\x8b\x08not really gzip")
    (tmp_path / "binary.html").write_bytes(bytes(range(256)) * 10)
    result = run(str(tmp_path / "missing.html"), str(tmp_path / "broken.html.gz"), str(tmp_path / "binary.html"),
                 str(tmp_path / "good.html"))
    assert result.returncode == 1
    assert [r["id"] for r in records(result.stdout)] == ["en-104257"]
    assert "missing.html: cannot read" in result.stderr
    assert "broken.html.gz: not valid gzip" in result.stderr
    assert "binary.html: skipped" in result.stderr
    assert "Traceback" not in result.stderr


def test_url_needs_a_single_path(tmp_path: Path) -> None:
    result = run("a.html", "b.html", "--url", BASE + "/en/politics/1/x")
    assert result.returncode == 2
    assert "exactly one PATH" in result.stderr


# ----------------------------------------------------------------------------- bounds, WARC framing, bad files


BOMB_MEMBER = 64 * 1024**2
BOMB_INFLATED = 2 * 1024**3
RSS_GROWTH_LIMIT_KB = 50 * 1024  # over the same command on one ordinary page

# Runs the command and reports its peak RSS. A small process of its own in between:
# a child's ru_maxrss starts from its parent's peak (Linux keeps it across fork and
# exec), and pytest's own peak would hide the command's.
MEASURE = ("import os, subprocess, sys; "
           "out, err = open(sys.argv[1], 'wb'), open(sys.argv[2], 'wb'); "
           "p = subprocess.Popen(sys.argv[3:], stdout=out, stderr=err); "
           "_, status, usage = os.wait4(p.pid, 0); "
           "print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)")


def run_measured(args: list[str], tmp_path: Path, name: str) -> tuple[int, str, str, int]:
    """``extract ARGS`` in a subprocess: (status, stdout, stderr, peak RSS in KiB of that process)."""
    out, err = tmp_path / f"{name}.out", tmp_path / f"{name}.err"
    measured = subprocess.run([sys.executable, "-c", MEASURE, str(out), str(err),
                               sys.executable, "-m", "arabtoday", "extract", *args],
                              cwd=ROOT, capture_output=True, text=True, timeout=300, check=True)
    code, peak = (int(n) for n in measured.stdout.split())
    return code, out.read_text("utf-8"), err.read_text("utf-8"), peak


def test_gzip_bomb_is_an_oversized_error_in_bounded_memory(tmp_path: Path) -> None:
    member = zlib.compressobj(9, zlib.DEFLATED, 31)
    data = member.compress(bytes(BOMB_MEMBER)) + member.flush()
    bomb = tmp_path / "bomb.html.gz"
    with bomb.open("wb") as fh:  # 2 GiB of zeros in ~2 MB: one member, repeated
        for _ in range(BOMB_INFLATED // BOMB_MEMBER):
            fh.write(data)
    (tmp_path / "good.html").write_bytes(page(RAQA))
    code, _, _, baseline = run_measured([str(tmp_path / "good.html")], tmp_path, "baseline")
    assert code == 0
    code, stdout, stderr, peak = run_measured([str(bomb), str(tmp_path / "good.html")], tmp_path, "bomb")
    assert code == 1
    assert [r["id"] for r in records(stdout)] == ["en-104257"]
    assert f"{bomb}: larger than 10485760 bytes" in stderr
    assert "errors/oversized 1" in stderr
    assert peak - baseline < RSS_GROWTH_LIMIT_KB, f"peak RSS {peak} KiB, {baseline} KiB on one ordinary page"


def warc_record(url: str, body: bytes) -> bytes:
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=False)
    headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=headers))
    return out.getvalue()


def with_length(record: bytes, delta: int) -> bytes:
    """The record with its WARC Content-Length off by ``delta`` (a broken writer, a hand edit)."""
    length = int(re.search(rb"Content-Length: (\d+)", record)[1])
    return record.replace(b"Content-Length: %d" % length, b"Content-Length: %d" % (length + delta), 1)


UAE = "en/politics/103907/uae-french-relations-discussed"
SPORTS = "en/sports/104306/five-companies-hit-as-the-football-federation-cancelled-a-trade-deal"


def test_warc_records_with_wrong_lengths_are_counted_and_the_rest_is_read(tmp_path: Path) -> None:
    raqa, uae, sports = (warc_record(f"{BASE}/{rel}", page(rel)) for rel in (RAQA, UAE, SPORTS))
    swallowing = tmp_path / "swallowing.warc.gz"  # the first record claims the two after it
    swallowing.write_bytes(b"".join(gzip.compress(r) for r in (with_length(raqa, len(uae) + 100), uae, sports)))
    cut = tmp_path / "cut.warc"  # the second record is cut short by the end of the file
    cut.write_bytes(raqa + sports[:-3000])
    result = run(str(swallowing), str(cut))
    assert result.returncode == 1
    assert [r["id"] for r in records(result.stdout)] == ["en-103907", "en-104306", "en-104257"]
    assert f"{swallowing}#{BASE}/{RAQA}: Content-Length" in result.stderr
    assert f"{cut}#{BASE}/{SPORTS}: cut short" in result.stderr
    assert "errors/bad_record_length 1" in result.stderr
    assert "errors/truncated_record 1" in result.stderr
    assert "Traceback" not in result.stderr


def test_files_that_are_not_pages_are_named_for_what_they_are(tmp_path: Path) -> None:
    (tmp_path / "empty.html").write_bytes(b"")
    (tmp_path / "photo.html").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200))
    (tmp_path / "records.html").write_text('{"id": "en-104257"}\n')
    (tmp_path / "good.html").write_bytes(page(RAQA))
    result = run(*(str(tmp_path / n) for n in ("empty.html", "photo.html", "records.html", "good.html")))
    assert result.returncode == 1
    assert [r["id"] for r in records(result.stdout)] == ["en-104257"]
    assert f"{tmp_path / 'empty.html'}: skipped, empty file" in result.stderr
    assert f"{tmp_path / 'photo.html'}: skipped, not HTML (looks like PNG)" in result.stderr
    assert f"{tmp_path / 'records.html'}: skipped, not HTML (looks like JSON)" in result.stderr
    assert "not an article" not in result.stderr
    assert "errors/empty_file 1" in result.stderr and "errors/not_html 2" in result.stderr


def test_deeply_nested_markup_is_read_and_the_others_go_on(tmp_path: Path) -> None:
    depth = 10_000
    deep = page(RAQA).replace(b'<div class="article-body">',
                              b'<div class="article-body">' + b"<div>" * depth + b"<p>deep</p>" + b"</div>" * depth)
    (tmp_path / "deep.html").write_bytes(deep)
    (tmp_path / "good.html").write_bytes(page(UAE))
    result = run(str(tmp_path / "deep.html"), str(tmp_path / "good.html"))
    # extraction is iterative and re-reads pages deeper than the parser holds: the deep page is an
    # ordinary article now (its text included), and the file after it is read too
    got = {r["id"]: r for r in records(result.stdout)}
    assert set(got) == {"en-104257", "en-103907"}
    assert "deep" in got["en-104257"]["body"].split()
    assert "Traceback" not in result.stderr
    assert result.returncode == 0, result.stderr


def test_stdin_page_with_url(tmp_path: Path) -> None:
    body = page(RAQA).replace(b'<link rel="canonical"', b'<link rel="x-canonical"')
    result = subprocess.run([sys.executable, "-m", "arabtoday", "extract", "-", "--url", f"{BASE}/{RAQA}"],
                            cwd=ROOT, input=gzip.compress(body), capture_output=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    [record] = records(result.stdout.decode("utf-8"))
    assert record == {**record, **EXPECTED["en-104257"]}


# ----------------------------------------------------------------------------- Wayback Machine copies


TIMESTAMP = "20171015064916"
ARCHIVE = f"https://web.archive.org/web/{TIMESTAMP}"
WAYBACK_CAPTURED = "2017-10-15T06:49:16Z"  # TIMESTAMP as the record writes a time

WAYBACK_HEAD = (
    '<script src="//archive.org/includes/athena.js" type="text/javascript"></script>\n'
    '<script type="text/javascript" src="https://web-static.archive.org/_static/js/bundle-playback.js?v=1" '
    'charset="utf-8"></script>\n'
    f'<script type="text/javascript">__wm.init("https://web.archive.org/web"); __wm.wombat("{BASE}/",'
    f'"{TIMESTAMP}","https://web.archive.org/","web","https://web-static.archive.org/_static/");</script>\n'
    '<link rel="stylesheet" type="text/css" href="https://web-static.archive.org/_static/css/banner-styles.css?v=1">\n'
    "<!-- End Wayback Rewrite JS Include -->\n")

WAYBACK_TOOLBAR = (
    "<!-- BEGIN WAYBACK TOOLBAR INSERT -->\n"
    '<div id="wm-ipp-base" lang="en"><div id="wm-ipp"><a href="/web/">The Wayback Machine</a>'
    f'<p>Capture of {BASE}/{RAQA} on 15 Oct 2017. 2 captures between 2017 and 2019.</p>'
    f'<a href="/web/20171015000000*/{BASE}/{RAQA}">Calendar</a></div></div>\n'
    "<!-- END WAYBACK TOOLBAR INSERT -->\n")

_ATTR_URL = re.compile(r'(?P<attr>\b(?:href|src|content))="(?P<url>(?:https?://|/)[^"]*)"')


def wayback_copy(rel: str) -> bytes:
    """``rel`` as the Wayback Machine serves it: its scripts and toolbar inserted, every address pointing
    at its copies (absolute for links, rooted with ``im_`` for images, site-relative ones made absolute)."""
    html = page(rel).decode("utf-8")

    def rewrite(m: re.Match[str]) -> str:
        url = m["url"] if m["url"].startswith("http") else BASE + m["url"]
        if re.search(r"\.(?:jpe?g|png|gif)$", url):
            return f'{m["attr"]}="/web/{TIMESTAMP}im_/{url}"'
        return f'{m["attr"]}="{ARCHIVE}/{url}"'

    html = _ATTR_URL.sub(rewrite, html)
    html = re.sub(r"(<head[^>]*>)", lambda m: m[1] + WAYBACK_HEAD, html, count=1)
    html = re.sub(r"(<body[^>]*>)", lambda m: m[1] + WAYBACK_TOOLBAR, html, count=1)
    return (html + "\n<!--\n     FILE ARCHIVED ON 06:49:16 Oct 15, 2017 AND RETRIEVED FROM THE\n"
                   "     INTERNET ARCHIVE ON 10:00:00 Jan 01, 2025.\n-->").encode("utf-8")


def test_wayback_copy_gives_the_site_record(tmp_path: Path) -> None:
    copy = wayback_copy(RAQA)
    assert f'href="{ARCHIVE}/{BASE}/{RAQA}"'.encode() in copy  # its canonical link names the archive
    (tmp_path / "wayback.html").write_bytes(copy)
    result = run(str(tmp_path / "wayback.html"))
    assert result.returncode == 0, result.stderr
    [record] = records(result.stdout)
    assert record == {**record, **EXPECTED["en-104257"]}  # url, image_url, body: the site's, no toolbar
    assert "archive.org" not in result.stdout and "Wayback" not in result.stdout


def test_wayback_address_as_url_option(tmp_path: Path) -> None:
    copy = wayback_copy(RAQA).replace(b'<link rel="canonical"', b'<link rel="x-canonical"')
    (tmp_path / "saved.html").write_bytes(copy)
    result = run(str(tmp_path / "saved.html"), "--url", f"{ARCHIVE}/{BASE}/{RAQA}")
    assert result.returncode == 0, result.stderr
    [record] = records(result.stdout)
    assert record == {**record, **EXPECTED["en-104257"]}
    assert (record["origin"], record["captured_at"]) == ("wayback", WAYBACK_CAPTURED)


def test_wayback_target_uri_in_a_warc(tmp_path: Path) -> None:
    raw = page(RAQA).replace(b'<link rel="canonical"', b'<link rel="x-canonical"')  # id_ mode: original bytes
    warc = tmp_path / "wayback.warc.gz"
    warc.write_bytes(gzip.compress(warc_record(f"https://web.archive.org/web/{TIMESTAMP}id_/{BASE}/{RAQA}", raw)))
    result = run(str(warc))
    assert result.returncode == 0, result.stderr
    [record] = records(result.stdout)
    assert record == {**record, **EXPECTED["en-104257"]}
    # the archive's capture time, not the WARC record's (when the archive was fetched); the file and record named
    assert (record["origin"], record["captured_at"]) == ("wayback", WAYBACK_CAPTURED)
    assert record["warc_file"] == "wayback.warc.gz" and record["warc_record_id"].startswith("<urn:uuid:")


def test_a_saved_page_was_captured_when_it_was_saved(tmp_path: Path) -> None:
    path = tmp_path / "a.html"
    path.write_bytes(page(RAQA))
    os.utime(path, (1_500_000_000, 1_500_000_000))
    [record] = records(run(str(path)).stdout)
    assert (record["origin"], record["captured_at"], record["warc_file"]) == ("live", "2017-07-14T02:40:00Z", None)


FAULTY_SETTINGS = '''
from arabtoday.settings import *  # the project's settings, plus one stage that fails on one page

ITEM_PIPELINES = {**ITEM_PIPELINES, "faulty_settings.FailOnTitle": 150}


class FailOnTitle:
    """Raises on the page whose title has the marker: a pipeline bug that one page triggers."""

    def __init__(self, marker):
        self.marker = marker

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.get("FAIL_ON_TITLE"))

    def process_item(self, item):
        if self.marker in item.title:
            raise RuntimeError("injected pipeline failure")
        return item
'''


def test_a_pipeline_failing_on_one_page_is_counted_and_the_others_go_on(tmp_path: Path) -> None:
    (tmp_path / "faulty_settings.py").write_text(FAULTY_SETTINGS + 'FAIL_ON_TITLE = "Raqa"\n')
    for rel in (UAE, RAQA, SPORTS):
        (tmp_path / (rel.split("/")[2] + ".html")).write_bytes(page(rel))
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "faulty_settings", "PYTHONPATH": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "arabtoday", "extract",
                             *(str(tmp_path / n) for n in ("103907.html", "104257.html", "104306.html"))],
                            cwd=ROOT, capture_output=True, text=True, timeout=120, check=False, env=env)
    assert result.returncode == 1
    assert [r["id"] for r in records(result.stdout)] == ["en-103907", "en-104306"]
    assert f"{tmp_path / '104257.html'}: pipeline failed: RuntimeError: injected pipeline failure" in result.stderr
    assert "errors/pipeline 1" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_bound_is_the_projects_download_maxsize(tmp_path: Path) -> None:
    (tmp_path / "small_settings.py").write_text("from arabtoday.settings import *\n\nDOWNLOAD_MAXSIZE = 12000\n")
    (tmp_path / "small.html").write_bytes(page(UAE))
    (tmp_path / "large.html.gz").write_bytes(gzip.compress(page(RAQA)))
    assert len(page(UAE)) <= 12000 < len(page(RAQA))
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "small_settings", "PYTHONPATH": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "arabtoday", "extract", str(tmp_path / "large.html.gz"),
                             str(tmp_path / "small.html")], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            check=False, env=env)
    assert result.returncode == 1
    assert [r["id"] for r in records(result.stdout)] == ["en-103907"]
    assert f"{tmp_path / 'large.html.gz'}: larger than 12000 bytes" in result.stderr


GOLDEN_BASE = "http://golden.test"  # the base the snapshot page below is served under
DEPTH = 10_000


def snapshot_page(rel: str) -> tuple[str, str]:
    path = next(SNAPSHOT.glob(f"{rel}/*/index.html"))
    return path.read_text("utf-8").replace("__BASE__", GOLDEN_BASE), f"{GOLDEN_BASE}/{rel}/x"


def nested(depth: int, inner: str, tag: str = "div") -> str:
    return f"<{tag}>" * depth + inner + f"</{tag}>" * depth


PARAGRAPHS = "".join(f"<p>Paragraph {i}: the ministry said on Monday that the new water plan would cost more than "
                     f"expected, and that work would start next spring.</p>" for i in range(6))


def test_extract_command_goes_on_after_a_deep_page(tmp_path: Path) -> None:
    deep = ('<html><head><meta property="og:title" content="Deep page"><meta property="article:published_time" '
            f'content="2020-05-01T10:00:00Z"></head><body>{nested(DEPTH, PARAGRAPHS)}</body></html>')
    (tmp_path / "a-deep.html").write_text(deep, "utf-8")
    html, _ = snapshot_page("en/politics/103907")
    (tmp_path / "b-normal.html").write_text(html, "utf-8")
    result = subprocess.run([sys.executable, "-m", "arabtoday", "extract", str(tmp_path / "a-deep.html"),
                             str(tmp_path / "b-normal.html")], cwd=ROOT, capture_output=True, text=True,
                            timeout=120, check=False)
    assert "RecursionError" not in result.stderr, result.stderr[-2000:]
    titles = [json.loads(line)["title"] for line in result.stdout.splitlines()]
    assert EXPECTED["en-103907"]["title"] in titles


def test_jobs_change_nothing_but_the_speed(tmp_path: Path) -> None:
    """Pages parsed by several processes: the same lines in the same order, the same messages and counts
    (a missing file, one that is not a page, a copy, a listing) as one process gives."""
    files = [str(tmp_path / "missing.html")]
    for n, rel in enumerate((RAQA, "en/sports/104399/five-companies-hit-as-the-football-federation-cancelled-a-"
                             "trade-deal-update", "en/politics", UAE, SPORTS) * 7):
        path = tmp_path / f"{n:02d}.html"
        path.write_bytes(page(rel))
        files.append(str(path))
    (tmp_path / "binary.html").write_bytes(bytes(range(256)) * 10)
    files.append(str(tmp_path / "binary.html"))
    one, three = run("--jobs", "1", *files), run("--jobs", "3", *files)
    assert one.returncode == three.returncode == 1  # the missing file
    strip = [{**r, "crawled_at": None} for r in records(one.stdout)]
    assert strip == [{**r, "crawled_at": None} for r in records(three.stdout)]
    assert [r["id"] for r in records(one.stdout) if r["status"] == "live"] == ["en-104257", "en-104399", "en-103907",
                                                                              "en-104306"]
    assert one.stderr == three.stderr and "skipped/not_article 7" in one.stderr


def test_jobs_must_be_at_least_one(tmp_path: Path) -> None:
    result = run("--jobs", "0", str(tmp_path / "a.html"))
    assert result.returncode == 2 and "--jobs 0" in result.stderr
