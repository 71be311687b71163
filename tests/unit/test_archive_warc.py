"""The WARC of every fetch (``arabtoday.archive.warc.WarcCapture``), a downloader middleware: each exchange
becomes a request and a response record that warcio reads back as sent; each response gets its capture
time and, with a WARC directory, its record's id; files rotate; a write that fails stops the run (exit 4).

Built by ``from_crawler`` on a crawler from Scrapy's ``get_crawler`` with the project's settings;
``process_response`` is called directly.
"""

from __future__ import annotations

import gzip
import random
from datetime import date
from pathlib import Path

from scrapy import Request
from scrapy.http import HtmlResponse, Response
from warcio.archiveiterator import ArchiveIterator

from arabtoday.archive.warc import WarcCapture, provenance
from arabtoday.exitstatus import ExitStatus
from arabtoday.meta import ARCHIVED_URL, CAPTURED_AT, ORIGIN, WARC_RECORD
from arabtoday.stats import Stat
from conftest import UNIT_BASE, project_crawler

URL = f"{UNIT_BASE}/en/politics/1/x"
PAGE = b"<html><body><p>The whole page.</p></body></html>\n"


def capture(tmp_path: Path | None, **settings: object) -> tuple[WarcCapture, object]:
    if tmp_path is not None:
        settings["ARABTODAY_WARC_DIR"] = str(tmp_path)
    crawler = project_crawler(**settings)
    return WarcCapture.from_crawler(crawler), crawler


def read_back(directory: Path) -> list[tuple[str, object]]:
    found = []
    for path in sorted(directory.glob("*.warc.gz")):
        with path.open("rb") as fh:
            found.extend((path.name, record) for record in _records(fh))
    return found


def _records(fh: object) -> list[object]:
    kept = []
    for record in ArchiveIterator(fh):
        record.body = record.raw_stream.read()
        kept.append(record)
    return kept


def test_an_exchange_is_two_records_warcio_reads_as_sent(tmp_path: Path) -> None:
    mw, crawler = capture(tmp_path)
    body = gzip.compress(PAGE)
    request = Request(URL, headers={"User-Agent": "test-agent", "Accept-Encoding": "gzip"})
    response = HtmlResponse(URL, status=200, body=body, headers={"Content-Encoding": "gzip",
                                                                 "Transfer-Encoding": "chunked"})
    assert mw.process_response(request, response) is response
    mw.spider_closed()
    records = read_back(tmp_path)
    assert [r.rec_type for _, r in records] == ["warcinfo", "request", "response"]
    _, asked = records[1]
    _, answer = records[2]
    assert answer.body == body  # still compressed: what the server sent
    assert answer.http_headers.get_header("Content-Encoding") == "gzip"
    assert answer.http_headers.get_header("Transfer-Encoding") is None  # undone by the download: renamed
    assert answer.http_headers.get_statuscode() == "200"
    assert asked.rec_headers.get_header("WARC-Concurrent-To") == answer.rec_headers.get_header("WARC-Record-ID")
    assert (asked.http_headers.protocol, asked.http_headers.statusline) == ("GET", "/en/politics/1/x HTTP/1.1")
    assert asked.http_headers.get_header("User-Agent") == "test-agent"
    assert asked.http_headers.get_header("Host") == "unit.test"
    name, record_id = request.meta[WARC_RECORD]
    assert (name, record_id) == (records[2][0], answer.rec_headers.get_header("WARC-Record-ID"))
    assert answer.rec_headers.get_header("WARC-Date") == request.meta[CAPTURED_AT]
    assert crawler.stats.get_value(Stat.WARC_RECORDS) == 3


def test_without_a_directory_only_the_capture_time_is_stamped(tmp_path: Path) -> None:
    mw, _ = capture(None)
    request = Request(URL)
    mw.process_response(request, HtmlResponse(URL, body=PAGE))
    assert request.meta[CAPTURED_AT].endswith("Z") and WARC_RECORD not in request.meta
    assert provenance(request.meta) == {"origin": "live", "captured_at": request.meta[CAPTURED_AT],
                                        "warc_file": None, "warc_record_id": None}
    assert list(tmp_path.iterdir()) == []


def test_an_archive_capture_keeps_the_archive_s_time(tmp_path: Path) -> None:
    """The record keeps the archive's capture time and origin; the WARC record is dated when we fetched it,
    and says where the page came from, when, and under which address of the site."""
    mw, _ = capture(tmp_path)
    archived = f"{UNIT_BASE}/web/20171015064916id_/https://www.arabstoday.net/en/politics/1/x"
    request = Request(archived, meta={ORIGIN: "wayback", CAPTURED_AT: "2017-10-15T06:49:16Z",
                                      ARCHIVED_URL: "https://www.arabstoday.net/en/politics/1/x"})
    mw.process_response(request, HtmlResponse(archived, body=PAGE))
    assert provenance(request.meta)["captured_at"] == "2017-10-15T06:49:16Z"
    assert provenance(request.meta)["origin"] == "wayback"
    mw.spider_closed()
    [answer] = [r for _, r in read_back(tmp_path) if r.rec_type == "response"]
    assert answer.rec_headers.get_header("WARC-Date").startswith(str(date.today().year))
    assert answer.rec_headers.get_header("X-Arabtoday-Origin") == "wayback"
    assert answer.rec_headers.get_header("X-Arabtoday-Captured-At") == "2017-10-15T06:49:16Z"
    assert answer.rec_headers.get_header("X-Arabtoday-Original-URI") == "https://www.arabstoday.net/en/politics/1/x"


def test_a_retry_s_record_is_not_the_answer_s(tmp_path: Path) -> None:
    """A 503 then a 200 for one request: two exchanges, and the meta names the last one."""
    mw, _ = capture(tmp_path)
    request = Request(URL)
    mw.process_response(request, Response(URL, status=503, body=b"busy"))
    first = request.meta[WARC_RECORD]
    mw.process_response(request, HtmlResponse(URL, body=PAGE))
    assert request.meta[WARC_RECORD] != first
    mw.spider_closed()
    statuses = [r.http_headers.get_statuscode() for _, r in read_back(tmp_path) if r.rec_type == "response"]
    assert statuses == ["503", "200"]


def test_files_rotate_each_with_its_warcinfo(tmp_path: Path) -> None:
    limit = 64 * 1024
    mw, crawler = capture(tmp_path, ARABTODAY_WARC_MAX_BYTES=limit)
    big = random.Random(1).randbytes(50 * 1024)  # does not compress: each exchange ~50 KiB
    for n in range(5):
        mw.process_response(Request(f"{URL}?n={n}"), Response(f"{URL}?n={n}", body=big))
    mw.spider_closed()
    files = sorted(tmp_path.glob("*.warc.gz"))
    assert len(files) >= 2 and crawler.stats.get_value(Stat.WARC_FILES) == len(files)
    for path in files:
        with path.open("rb") as fh:
            kinds = [r.rec_type for r in _records(fh)]
        assert kinds[0] == "warcinfo" and kinds.count("request") == kinds.count("response")
    assert sum(1 for _, r in read_back(tmp_path) if r.rec_type == "response") == 5


def test_a_full_disk_stops_the_run_once_with_status_4(tiny_tmpfs: Path) -> None:
    mw, crawler = capture(tiny_tmpfs)
    big = random.Random(2).randbytes(16 * 1024)
    written = []
    for n in range(8):  # 128 KiB into a 64 KiB filesystem
        request = Request(f"{URL}?n={n}")
        mw.process_response(request, Response(request.url, body=big))
        written.append(WARC_RECORD in request.meta)
    assert written[0] and not written[-1] and written == sorted(written, reverse=True)
    assert crawler.stats.get_value(Stat.OUTPUT_ERROR) == 1  # once, not once per response
    assert crawler.stats.get_value(Stat.EXIT_CAUSE.format(name=ExitStatus.WRITE_FAILED.name.lower())) == 1
    with next(tiny_tmpfs.glob("*.warc.gz")).open("rb") as fh:  # the torn record cut off: whole records only
        kept = [r for r in ArchiveIterator(fh) if r.rec_type == "response"]
    assert len(kept) == written.count(True)
