"""Saved inputs (``arabtoday/saved.py``): real gzip and WARC files, built here, read back with their bounds."""

from __future__ import annotations

import gzip
import io
import json
import re
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from arabtoday.offline.saved import (
    BAD_RECORD_LENGTH,
    EMPTY,
    NOT_HTML,
    OVERSIZED,
    TRUNCATED_RECORD,
    UNREADABLE,
    Problem,
    SavedPage,
    describe_non_html,
    original_url,
    read_input,
    restore_archived_page,
)
from conftest import ROOT, SNAPSHOT

BASE = "https://www.arabstoday.net"
MAX = 10 * 1024 * 1024
PAGES = ["en/middle-east/104257/dozens-of-is-fighters-surrender-as-raqas-fall-nears",
         "en/politics/103907/uae-french-relations-discussed",
         "en/sports/104306/five-companies-hit-as-the-football-federation-cancelled-a-trade-deal"]
BOMB_INFLATED = 2 * 1024**3  # 2 GiB of zeros
BOMB_MEMBER = 64 * 1024**2
RSS_LIMIT_KB = 100 * 1024
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)


def page(rel: str) -> bytes:
    return (SNAPSHOT / rel / "index.html").read_bytes().replace(b"__BASE__", BASE.encode())


def read(path: Path | str, url: str | None = None, max_size: int = MAX) -> list[SavedPage | Problem]:
    return list(read_input(path, url, max_size))


def warc_record(rel: str, body: bytes | None = None, ctype: str = "text/html; charset=utf-8") -> bytes:
    """One uncompressed WARC response record for ``rel``, as warcio writes it."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=False)
    headers = StatusAndHeaders("200 OK", [("Content-Type", ctype)], protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record(f"{BASE}/{rel}", "response",
                                                  payload=io.BytesIO(page(rel) if body is None else body),
                                                  http_headers=headers))
    return out.getvalue()


def with_length(record: bytes, length: int) -> bytes:
    """The record with its WARC Content-Length replaced (what a broken writer or a hand edit leaves)."""
    return re.sub(rb"Content-Length: \d+", b"Content-Length: %d" % length, record, count=1)


def declared_length(record: bytes) -> int:
    m = re.search(rb"Content-Length: (\d+)", record)
    assert m
    return int(m[1])


def ids(items: list[SavedPage | Problem]) -> list[str]:
    return [re.search(r"/(\d+)/", i.url or "")[1] for i in items if isinstance(i, SavedPage)]


def problems(items: list[SavedPage | Problem]) -> list[str]:
    return [i.kind for i in items if isinstance(i, Problem)]


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ~2 MB gzip file that inflates to 2 GiB of zeros: one deflated member, repeated (gzip allows many)."""
    member = zlib.compressobj(9, zlib.DEFLATED, 31)
    data = member.compress(bytes(BOMB_MEMBER)) + member.flush()
    path = tmp_path_factory.mktemp("bomb") / "bomb.html.gz"
    with path.open("wb") as fh:
        for _ in range(BOMB_INFLATED // BOMB_MEMBER):
            fh.write(data)
    return path


def test_gzip_bomb_stops_at_the_cap_in_bounded_memory(bomb: Path) -> None:
    assert bomb.stat().st_size < 3 * 1024**2
    with gzip.open(bomb, "rb") as fh:  # the file really is what it claims: zeros far past the cap
        assert len(fh.read(MAX + 1)) == MAX + 1
    # VmHWM, the peak RSS of this process's own memory: unlike ru_maxrss, it does not
    # carry over the parent's peak across fork and exec (here, pytest's).
    code = ("import json, re, sys; from arabtoday.offline.saved import read_input; "
            "kinds = [getattr(i, 'kind', 'page') for i in read_input(sys.argv[1], None, int(sys.argv[2]))]; "
            "hwm = re.search(r'VmHWM:\\s+(\\d+) kB', open('/proc/self/status').read())[1]; "
            "print(json.dumps({'kinds': kinds, 'rss': int(hwm)}))")
    proc = subprocess.run([sys.executable, "-c", code, str(bomb), str(MAX)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=True)
    result = json.loads(proc.stdout)
    assert result["kinds"] == [OVERSIZED]
    assert result["rss"] < RSS_LIMIT_KB, f"peak RSS {result['rss']} KiB reading a 2 GiB gzip bomb"


def test_html_and_gzip_read_within_the_bound(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_bytes(page(PAGES[0]))
    (tmp_path / "a.html.gz").write_bytes(gzip.compress(page(PAGES[0])))
    [plain], [packed] = read(tmp_path / "a.html"), read(tmp_path / "a.html.gz")
    assert isinstance(plain, SavedPage) and isinstance(packed, SavedPage)
    assert plain.body == packed.body == page(PAGES[0])
    [over] = read(tmp_path / "a.html.gz", max_size=len(page(PAGES[0])) - 1)
    assert isinstance(over, Problem) and over.kind == OVERSIZED


def test_warc_records_plain_and_gzip(tmp_path: Path) -> None:
    records = [warc_record(rel) for rel in PAGES]
    (tmp_path / "a.warc").write_bytes(b"".join(records))
    (tmp_path / "a.warc.gz").write_bytes(b"".join(gzip.compress(r) for r in records))  # a member per record
    (tmp_path / "misnamed.html").write_bytes(b"".join(records))  # recognised by its content
    for name in ("a.warc", "a.warc.gz", "misnamed.html"):
        items = read(tmp_path / name)
        assert problems(items) == [], name
        assert ids(items) == ["104257", "103907", "104306"], name


def test_truncated_record_is_counted_and_never_a_page(tmp_path: Path) -> None:
    first, second = warc_record(PAGES[0]), warc_record(PAGES[1])
    cut = first + second[: len(second) - 4000]  # the file ends inside the second record's payload
    (tmp_path / "cut.warc").write_bytes(cut)
    (tmp_path / "cut.warc.gz").write_bytes(gzip.compress(first) + gzip.compress(second)[:-3000])
    for name in ("cut.warc", "cut.warc.gz"):
        items = read(tmp_path / name)
        assert ids(items) == ["104257"], name
        assert problems(items) == [TRUNCATED_RECORD], name


@pytest.mark.parametrize("compress", [False, True], ids=["warc", "warc.gz"])
def test_overstated_length_is_detected_and_the_records_after_it_are_read(tmp_path: Path, compress: bool) -> None:
    first, second, third = (warc_record(rel) for rel in PAGES)
    swallowing = with_length(first, declared_length(first) + len(second) + len(third) // 2)
    parts = [swallowing, second, third]
    data = b"".join(gzip.compress(p) for p in parts) if compress else b"".join(parts)
    path = tmp_path / ("over.warc.gz" if compress else "over.warc")
    path.write_bytes(data)
    items = read(path)
    assert problems(items) == [BAD_RECORD_LENGTH]
    assert ids(items) == ["103907", "104306"]
    assert "runs into the next record" in next(i for i in items if isinstance(i, Problem)).message


def test_overstated_length_that_ends_exactly_on_a_later_record_is_still_detected(tmp_path: Path) -> None:
    first, second, third = (warc_record(rel) for rel in PAGES)
    path = tmp_path / "exact.warc"
    path.write_bytes(with_length(first, declared_length(first) + len(second)) + second + third)
    items = read(path)
    assert problems(items) == [BAD_RECORD_LENGTH]
    assert ids(items) == ["103907", "104306"]


def test_understated_length_is_detected_and_reading_resumes_at_the_next_record(tmp_path: Path) -> None:
    first, second = warc_record(PAGES[0]), warc_record(PAGES[1])
    path = tmp_path / "short.warc"
    path.write_bytes(with_length(first, declared_length(first) - 500) + second)
    items = read(path)
    assert problems(items) == [BAD_RECORD_LENGTH]
    assert ids(items) == ["103907"]


def test_garbage_between_records_is_skipped_within_a_bound(tmp_path: Path) -> None:
    first, second = warc_record(PAGES[0]), warc_record(PAGES[1])
    (tmp_path / "short.warc").write_bytes(first + b"junk " * 1000 + b"\r\n\r\n" + second)
    items = read(tmp_path / "short.warc", max_size=100_000)
    assert problems(items) == [BAD_RECORD_LENGTH]  # the record before the junk: its length cannot be trusted
    assert ids(items) == ["103907"]
    (tmp_path / "long.warc").write_bytes(first + b"junk " * 40_000 + b"\r\n\r\n" + second)
    items = read(tmp_path / "long.warc", max_size=100_000)
    assert problems(items) == [BAD_RECORD_LENGTH, BAD_RECORD_LENGTH]
    assert ids(items) == []
    assert "the rest of the file is skipped" in items[-1].message


def test_oversized_record_is_counted_and_the_next_one_read(tmp_path: Path) -> None:
    big = page(PAGES[0]) + b"<!-- " + b"x" * 200_000 + b" -->"
    path = tmp_path / "big.warc.gz"
    path.write_bytes(gzip.compress(warc_record(PAGES[0], big)) + gzip.compress(warc_record(PAGES[1])))
    items = read(path, max_size=100_000)
    assert problems(items) == [OVERSIZED]
    assert ids(items) == ["103907"]


def test_resource_records_hold_pages_without_an_http_head(tmp_path: Path) -> None:
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    writer.write_record(writer.create_warc_record(f"{BASE}/{PAGES[2]}", "resource", payload=io.BytesIO(page(PAGES[2])),
                                                  warc_content_type="text/html; charset=utf-8"))
    (tmp_path / "resource.warc.gz").write_bytes(out.getvalue())
    [item] = read(tmp_path / "resource.warc.gz")
    assert isinstance(item, SavedPage) and item.body == page(PAGES[2]) and item.url == f"{BASE}/{PAGES[2]}"


def test_chunked_and_compressed_payloads_are_decoded(tmp_path: Path) -> None:
    packed = gzip.compress(page(PAGES[0]))
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(packed[i:i + 4000]), packed[i:i + 4000])
                       for i in range(0, len(packed), 4000)) + b"0\r\n\r\n"
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=False)
    headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html"), ("Content-Encoding", "gzip"),
                                          ("Transfer-Encoding", "chunked")], protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record(f"{BASE}/{PAGES[0]}", "response", payload=io.BytesIO(chunked),
                                                  http_headers=headers))
    (tmp_path / "encoded.warc").write_bytes(out.getvalue())
    [item] = read(tmp_path / "encoded.warc")
    assert isinstance(item, SavedPage) and item.body == page(PAGES[0])


def test_non_html_records_are_passed_over_silently(tmp_path: Path) -> None:
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=False)
    writer.write_record(writer.create_warc_record("dns:www.arabstoday.net", "response", warc_content_type="text/dns",
                                                  payload=io.BytesIO(b"20171015064916\nwww.arabstoday.net. 300 IN A "
                                                                     b"192.0.2.1\n")))
    path = tmp_path / "mixed.warc"
    path.write_bytes(out.getvalue() + warc_record("img/raqa.png", PNG, "image/png") + warc_record(PAGES[1]))
    items = read(path)
    assert problems(items) == []
    assert ids(items) == ["103907"]


def test_files_that_are_not_pages_say_what_they_are(tmp_path: Path) -> None:
    cases = {"empty.html": (b"", EMPTY, "empty file"), "blank.html": (b" \n\n", EMPTY, "empty file"),
             "pic.html": (PNG, NOT_HTML, "not HTML (looks like PNG)"),
             "data.html": (b'{"id": "en-1"}\n', NOT_HTML, "not HTML (looks like JSON)"),
             "noise.html": (bytes(range(256)) * 4, NOT_HTML, "not HTML (binary data)"),
             "fake.warc": (page(PAGES[0]), UNREADABLE, "not a WARC file"),
             "bad.html.gz": (b"\x1f\x8b\x08 not really gzip", UNREADABLE, "not valid gzip")}
    for name, (data, kind, message) in cases.items():
        (tmp_path / name).write_bytes(data)
        [item] = read(tmp_path / name)
        assert isinstance(item, Problem) and item.kind == kind and message in item.message, (name, item)
    [missing] = read(tmp_path / "nowhere.html")
    assert isinstance(missing, Problem) and missing.kind == UNREADABLE and "cannot read" in missing.message
    assert describe_non_html(page(PAGES[0])) is None
    assert describe_non_html("<html><body>مرحبا</body></html>".encode("utf-16")) is None


def test_stdin_is_read_once_as_one_page() -> None:
    stream = io.BytesIO(gzip.compress(page(PAGES[0])))
    [item] = list(read_input("-", f"{BASE}/{PAGES[0]}", MAX, stdin=stream))
    assert isinstance(item, SavedPage) and item.label == "<stdin>" and item.body == page(PAGES[0])


@pytest.mark.parametrize(("archived", "original"), [
    (f"https://web.archive.org/web/20171015064916/{BASE}/{PAGES[0]}", f"{BASE}/{PAGES[0]}"),
    (f"https://web.archive.org/web/20171015064916id_/{BASE}/{PAGES[0]}", f"{BASE}/{PAGES[0]}"),
    (f"http://web.archive.org/web/2017if_/{BASE}/{PAGES[0]}?utm_source=x", f"{BASE}/{PAGES[0]}?utm_source=x"),
    (f"//web.archive.org/web/20171015064916im_/{BASE}/img/a.jpg", f"{BASE}/img/a.jpg"),
    (f"https://web.archive.org/web/20171015064916/http://www.arabstoday.net:80/{PAGES[0]}",
     f"http://www.arabstoday.net/{PAGES[0]}"),
    (f"https://web.archive.org/web/20171015064916/www.arabstoday.net/{PAGES[0]}",
     f"http://www.arabstoday.net/{PAGES[0]}"),
    (f"{BASE}/{PAGES[0]}", f"{BASE}/{PAGES[0]}"),
    ("https://example.org/web/2017/not-an-archive", "https://example.org/web/2017/not-an-archive"),
])
def test_web_archive_addresses_map_to_the_site(archived: str, original: str) -> None:
    assert original_url(archived) == original


def test_archived_page_is_restored_to_the_site_page() -> None:
    archived = ('<html><head><script src="//archive.org/includes/athena.js"></script>'
                '<link rel="stylesheet" href="https://web-static.archive.org/_static/css/banner-styles.css">'
                '<!-- End Wayback Rewrite JS Include -->'
                f'<link rel="canonical" href="https://web.archive.org/web/20171015064916/{BASE}/{PAGES[0]}"></head>'
                '<body><!-- BEGIN WAYBACK TOOLBAR INSERT --><div id="wm-ipp">The Wayback Machine</div>'
                '<!-- END WAYBACK TOOLBAR INSERT -->'
                f'<img src="/web/20171015064916im_/{BASE}/img/a.jpg"><p>text</p></body></html>')
    restored = restore_archived_page(archived)
    assert restored == (f'<html><head><link rel="canonical" href="{BASE}/{PAGES[0]}"></head>'
                        f'<body><img src="{BASE}/img/a.jpg"><p>text</p></body></html>')
    plain = page(PAGES[0]).decode()
    assert restore_archived_page(plain) == plain
