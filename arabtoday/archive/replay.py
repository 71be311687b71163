"""A web archive's answer made the site's page it holds (backfill), and the archive addresses in scope.

:class:`ArchiveReplay`, a downloader middleware (580: after decompression,
before truncation, block pages and retries judge the page), acts only on
requests a backfill made (``meta[ORIGIN]`` not ``live``, ``meta[ARCHIVED_URL]``
set): a Wayback raw capture (``id_``) is the page as the site served it; a
Common Crawl byte range is one gzip member holding one WARC ``response``
record, read with warcio into the HTTP status, headers and body it holds. The
response goes on under the site's own address (the record's ``url``, never
the archive's) with the archived status and body. An archived redirect is
never followed nor emitted: :class:`ArchiveSkip` (``dropped/archive/redirect``);
a range that is not a whole WARC response record is ``failed/archive/bad_record``.
Other statuses go on as they are, to retries and the spider's errback.

:func:`endpoints`: the archive addresses a backfill may request
(:class:`arabtoday.site.scope.Endpoint`), from the settings.
"""

from __future__ import annotations

import http
import io
import logging
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Headers, HtmlResponse, Request, Response

from arabtoday.archive import commoncrawl, wayback
from arabtoday.meta import ARCHIVED_URL, ORIGIN
from arabtoday.schema import COMMONCRAWL, LIVE_ORIGIN, WAYBACK
from arabtoday.site.scope import Endpoint
from arabtoday.stats import Bucket

logger = logging.getLogger(__name__)

REDIRECT = "archive/redirect"
BAD_RECORD = "archive/bad_record"
OK_STATUSES = range(http.HTTPStatus.OK, http.HTTPStatus.MULTIPLE_CHOICES)
REDIRECT_STATUSES = range(http.HTTPStatus.MULTIPLE_CHOICES, http.HTTPStatus.BAD_REQUEST)


class ArchiveSkip(IgnoreRequest):
    """An archived answer that is not a page to read (a redirect, a broken record): its ledger bucket and reason."""

    def __init__(self, bucket: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.bucket, self.reason = bucket, reason


def endpoints(settings: Any, backfill: str | None) -> tuple[Endpoint, ...]:
    """The archive addresses a backfill requests: nothing else on the archives' hosts is in scope."""
    if backfill == WAYBACK:
        base = settings.get("ARABTODAY_WAYBACK_URL").rstrip("/")
        return (Endpoint(base + wayback.CDX_PATH, r"\?.*"),
                Endpoint(base + wayback.REPLAY_PATH, wayback.REPLAY.pattern.lstrip("^").rstrip("$")))
    if backfill == COMMONCRAWL:
        index = settings.get("ARABTODAY_COMMONCRAWL_INDEX_URL").rstrip("/")
        data = settings.get("ARABTODAY_COMMONCRAWL_DATA_URL").rstrip("/")
        return (Endpoint(index + "/", commoncrawl.INDEX_PATHS), Endpoint(data + "/", commoncrawl.DATA_PATHS))
    return ()


def read_record(body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    """The HTTP status, headers and body of the one WARC ``response`` record a byte range holds."""
    from warcio.archiveiterator import ArchiveIterator  # only a Common Crawl backfill reads one: not at start-up
    from warcio.exceptions import ArchiveLoadFailed

    try:
        for record in ArchiveIterator(io.BytesIO(body)):
            if record.rec_type != "response" or record.http_headers is None:
                raise ValueError(f"a WARC {record.rec_type} record, not a response")
            status = int(record.http_headers.get_statuscode())
            payload = record.content_stream().read()
            return status, list(record.http_headers.headers), payload
    except (ArchiveLoadFailed, EOFError, OSError, ValueError) as exc:
        raise ValueError(f"not a whole WARC record: {exc}") from None
    raise ValueError("no WARC record in the range")


class ArchiveReplay:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveReplay:
        return cls(crawler)

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Response:
        origin = request.meta.get(ORIGIN, LIVE_ORIGIN)
        original = request.meta.get(ARCHIVED_URL)
        if origin == LIVE_ORIGIN or not original:
            return response
        status, headers, body = response.status, response.headers, response.body
        if origin == COMMONCRAWL and response.status in OK_STATUSES:
            try:
                status, lines, body = read_record(response.body)
            except ValueError as exc:
                logger.warning("capture %s of %s: %s", request.url, original, exc)
                raise ArchiveSkip(Bucket.FAILED, BAD_RECORD, f"{exc}: {request.url}") from None
            headers = Headers(lines)
        if status in REDIRECT_STATUSES:
            raise ArchiveSkip(Bucket.DROPPED, REDIRECT, f"an archived redirect ({status}): {request.url}")
        if status not in OK_STATUSES:
            return response if origin == WAYBACK else response.replace(status=status)
        return HtmlResponse(url=original, status=status, headers=headers, body=body, request=request,
                            flags=response.flags, certificate=response.certificate, ip_address=response.ip_address,
                            protocol=response.protocol)
