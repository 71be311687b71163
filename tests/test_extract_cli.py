"""``python -m arabtoday extract``: saved pages through the same pipeline as the crawl."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
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
    assert [r["id"] for r in records(result.stdout)] == ["en-104257", "en-104306"]
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
