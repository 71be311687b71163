"""The WARC of every fetch (``-s ARABTODAY_WARC_DIR=DIR``), and each response's provenance.

:class:`WarcCapture` sits nearest the download (``DOWNLOADER_MIDDLEWARES``), so
it sees every answer the server gave, before anything changes it: robots.txt,
sitemaps, feeds, listings and articles, each redirect, retry and error answer.
Each exchange becomes a WARC ``request`` record and a ``response`` record (the
HTTP status line, headers and body as the server sent them: still compressed
when the server compressed it; only ``Transfer-Encoding``, already undone by
the download, is renamed so that readers do not undo it again).

Files: ``DIR/arabtoday-<start time>-<host>-<pid>-<serial>.warc.gz``, each
opening with a ``warcinfo`` record, one gzip member per record (warcio's
writer), rotated once a file holds ``ARABTODAY_WARC_MAX_BYTES``. Each record
is written whole and flushed before the response goes on, so a SIGKILL leaves
every file readable up to its last whole record, and a rerun starts a new file.
A write that fails (a full disk) stops the run like any unwritable output: one
ERROR line, ``arabtoday/errors/output``, exit status 4; what it wrote of its
record is cut off again, so the file ends on a whole record.

Whatever the directory, every live response gets its capture time
(``meta[CAPTURED_AT]``); with a directory, also the file and ``WARC-Record-ID``
of its response record (``meta[WARC_RECORD]``): the record made from the page
carries them (``captured_at``, ``warc_file``, ``warc_record_id``). A page read
from an archive keeps the archive's capture time; its response record (dated
when we fetched it, as every record) also carries ``X-Arabtoday-Origin``,
``X-Arabtoday-Captured-At`` and ``X-Arabtoday-Original-URI``, so that
``arabtoday extract`` gives it the same provenance and address as the crawl.

warcio is used rather than scrapy-webarchive: it is the reference library
(Webrecorder's), already pinned for reading, and writing through it from a
middleware keeps the record id in our hands for the provenance fields.
"""

from __future__ import annotations

import contextlib
import errno
import http
import io
import logging
import os
import socket
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Request, Response

from arabtoday.cleaning.dates import iso
from arabtoday.exitstatus import ExitStatus, mark
from arabtoday.meta import ARCHIVED_URL, CAPTURED_AT, ORIGIN, WARC_RECORD
from arabtoday.run.stopping import stop_run
from arabtoday.schema import LIVE_ORIGIN
from arabtoday.stats import Stat
from arabtoday.version import __version__

logger = logging.getLogger(__name__)

SUFFIX = ".warc.gz"
PREFIX = "arabtoday"
OUTPUT_ERROR = "warc_unwritable"  # the reason the run closes with when the WARC cannot be written
CACHED = "cached"  # the flag Scrapy's HTTP cache puts on a response it did not fetch
# Headers the download already undid: kept under another name, so that a reader does not undo them again.
UNDONE = {"transfer-encoding": "X-Arabtoday-Orig-Transfer-Encoding"}
DEFAULT_PROTOCOL = "HTTP/1.1"
# WARC headers of our own on the response record of a page read from an archive (a backfill): where it was
# read, when the archive captured it, the site's own address. ``arabtoday extract`` reads them back.
ORIGIN_HEADER = "X-Arabtoday-Origin"
CAPTURED_HEADER = "X-Arabtoday-Captured-At"
ORIGINAL_HEADER = "X-Arabtoday-Original-URI"


def file_name(started: datetime, serial: int) -> str:
    """``arabtoday-20261207T053000Z-host-1234-00001.warc.gz``: unique per machine, process and file."""
    host = socket.gethostname().split(".")[0] or "host"
    return f"{PREFIX}-{started.strftime('%Y%m%dT%H%M%SZ')}-{host}-{os.getpid()}-{serial:05d}{SUFFIX}"


def _header_list(headers: Any) -> list[tuple[str, str]]:
    """Scrapy's headers (bytes, several values per name) as WARC header lines, in order."""
    lines = []
    for name, values in headers.items():
        key = name.decode("latin-1")
        key = UNDONE.get(key.lower(), key)
        lines.extend((key, value.decode("latin-1")) for value in values)
    return lines


def _status_line(status: int) -> str:
    try:
        return f"{status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


class WarcWriter:
    """WARC files in one directory: records written whole and flushed, the file rotated at ``max_bytes``."""

    def __init__(self, directory: Path, max_bytes: int, info: dict[str, str]) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.info = info
        self.started = datetime.now(timezone.utc)
        self.serial = 0
        self.name: str | None = None
        self.file: IO[bytes] | None = None
        self.records = 0
        self.bytes = 0

    def write_exchange(self, request: Request, response: Response, fetched_at: str,
                       extra: dict[str, str] | None = None) -> str:
        """Write the exchange (request, then response, with ``extra`` WARC headers); the response record's
        ``WARC-Record-ID``. OSError when the disk refuses: nothing of the pair is counted as written then."""
        from warcio.statusandheaders import StatusAndHeaders

        writer = _writer()
        date = {"WARC-Date": fetched_at}
        if response.ip_address is not None:
            date["WARC-IP-Address"] = str(response.ip_address)
        protocol = response.protocol or DEFAULT_PROTOCOL
        answer = writer.create_warc_record(
            response.url, "response", payload=io.BytesIO(response.body), warc_headers_dict={**date, **(extra or {})},
            http_headers=StatusAndHeaders(_status_line(response.status), _header_list(response.headers),
                                          protocol=protocol))
        record_id = answer.rec_headers.get_header("WARC-Record-ID")
        parts = urlsplit(request.url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = _header_list(request.headers)
        if not any(name.lower() == "host" for name, _ in headers):
            headers.insert(0, ("Host", parts.netloc))
        asked = writer.create_warc_record(
            request.url, "request", payload=io.BytesIO(request.body or b""),
            warc_headers_dict={**date, "WARC-Concurrent-To": record_id},
            http_headers=StatusAndHeaders(f"{request.method} {target} {protocol}", headers, is_http_request=True))
        writer.write_record(asked)
        writer.write_record(answer)
        self._append(writer.out.getvalue(), records=2)
        return record_id

    def _append(self, data: bytes, records: int) -> None:
        """Write whole records (a new file first begins with its ``warcinfo``); on a failure, what was
        written of them is cut off again, so that the file ends on a whole record."""
        if self.file is None:
            data, records = self._open() + data, records + 1
        assert self.file is not None
        whole = self.file.tell()
        try:
            _write_all(self.file, data)
        except OSError:
            with contextlib.suppress(OSError):  # a torn record is cut off: the file ends on a whole one
                os.ftruncate(self.file.fileno(), whole)
            raise
        self.records += records
        self.bytes += len(data)
        if self.file.tell() >= self.max_bytes:
            self.close()

    def _open(self) -> bytes:
        """Start the next file; its ``warcinfo`` record, to be written first."""
        self.serial += 1
        self.name = file_name(self.started, self.serial)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.file = (self.directory / self.name).open("xb", buffering=0)
        writer = _writer()
        writer.write_record(writer.create_warcinfo_record(self.name, self.info))
        return writer.out.getvalue()

    def close(self) -> None:
        if self.file is not None:
            file, self.file = self.file, None
            with file:
                os.fsync(file.fileno())


def _writer() -> Any:
    """warcio's writer into memory (``.out``): one gzip member per record, WARC 1.1."""
    from warcio.warcwriter import WARCWriter

    return WARCWriter(io.BytesIO(), gzip=True, warc_version="1.1")


def _write_all(file: IO[bytes], data: bytes) -> None:
    """Write ``data`` straight to the file (unbuffered: nothing is left in this process for a SIGKILL to
    lose, or for a later close to add after a failure); OSError when the disk refuses any of it."""
    view = memoryview(data)
    while view:
        written = file.write(view)
        if not written:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        view = view[written:]


class WarcCapture:
    """Downloader middleware: every response stamped with its capture time; with ``ARABTODAY_WARC_DIR``,
    every exchange written to the WARC and the response record's id put on the response."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        directory = crawler.settings.get("ARABTODAY_WARC_DIR")
        self.writer: WarcWriter | None = None
        self.failed: OSError | None = None
        if directory:
            self.writer = WarcWriter(Path(str(directory)), crawler.settings.getint("ARABTODAY_WARC_MAX_BYTES"),
                                     self._info(crawler))
            crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcCapture:
        return cls(crawler)

    @staticmethod
    def _info(crawler: Crawler) -> dict[str, str]:
        settings = crawler.settings
        return {"software": f"arabtoday/{__version__} (Scrapy)", "format": "WARC File Format 1.1",
                "http-header-user-agent": str(settings.get("USER_AGENT")),
                "robots": "obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore",
                "isPartOf": str(settings.get("BOT_NAME"))}

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Response:
        if CACHED in response.flags:
            return response  # not a fetch: it was written when it was fetched
        origin = request.meta.get(ORIGIN, LIVE_ORIGIN)
        fetched = iso(datetime.now(timezone.utc))
        extra = None
        if origin != LIVE_ORIGIN and request.meta.get(CAPTURED_AT):  # an archive's capture: its own time
            extra = {ORIGIN_HEADER: origin, CAPTURED_HEADER: request.meta[CAPTURED_AT]}
            if request.meta.get(ARCHIVED_URL):
                extra[ORIGINAL_HEADER] = request.meta[ARCHIVED_URL]
        else:
            request.meta[CAPTURED_AT] = fetched
        request.meta.pop(WARC_RECORD, None)  # a redirect's or retry's record is not this response's
        if self.writer is None or self.failed is not None:
            return response
        try:
            record_id = self.writer.write_exchange(request, response, fetched, extra)
        except OSError as exc:
            self._write_failed(exc)
            return response
        request.meta[WARC_RECORD] = (self.writer.name, record_id)
        self._count()
        return response

    def _count(self) -> None:
        assert self.writer is not None
        stats = self.crawler.stats
        stats.set_value(Stat.WARC_RECORDS, self.writer.records)
        stats.set_value(Stat.WARC_FILES, self.writer.serial)
        stats.set_value(Stat.WARC_BYTES, self.writer.bytes)

    def _write_failed(self, exc: OSError) -> None:
        self.failed = exc
        assert self.writer is not None
        logger.error("WARC %s cannot be written (%s): the run stops", self.writer.directory / (self.writer.name or ""),
                     exc.strerror or exc)
        self.crawler.stats.inc_value(Stat.OUTPUT_ERROR)
        mark(self.crawler.stats, ExitStatus.WRITE_FAILED)
        self._close_quietly()
        stop_run(self.crawler, OUTPUT_ERROR)

    def _close_quietly(self) -> None:
        assert self.writer is not None
        try:
            self.writer.close()
        except OSError as exc:
            logger.debug("closing the WARC after a failed write: %s", exc)

    def spider_closed(self, spider: Any = None, reason: str = "") -> None:
        if self.writer is None:
            return
        if self.failed is not None:
            return
        try:
            self.writer.close()
        except OSError as exc:
            self._write_failed(exc)


def provenance(meta: dict[str, Any]) -> dict[str, Any]:
    """The provenance fields of a record made from a response with this ``meta``."""
    warc = meta.get(WARC_RECORD)
    file, record_id = warc if warc else (None, None)
    return {"origin": meta.get(ORIGIN, LIVE_ORIGIN), "captured_at": meta.get(CAPTURED_AT), "warc_file": file,
            "warc_record_id": record_id}

