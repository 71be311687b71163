"""Downloader middlewares: scope, truncation, retries with backoff.

- :class:`ScopeMiddleware` applies :mod:`arabtoday.scope` to every request
  before robots.txt and before it is sent: redirects and meta refreshes to
  another host or port, or to an address kind the crawler never requests, are
  refused, counted (``arabtoday/blocked/<why>``) and logged with both addresses.
- :class:`TruncationMiddleware`: a response cut short is retried, then fails
  as ``truncated``; it is never parsed as half an article.
- :class:`BackoffRetryMiddleware`: Scrapy's retry with exponential backoff
  (``Retry-After`` honoured), and one retry only for DNS failures and refused
  connections, so that an unreachable site ends the run within a minute.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware, get_retry_request
from scrapy.exceptions import CannotResolveHostError, DownloadConnectionRefusedError, IgnoreRequest, StopDownload
from scrapy.http import Response
from twisted.internet.error import ConnectionRefusedError as TxConnectionRefusedError
from twisted.internet.error import DNSLookupError

from arabtoday.params import params_of
from arabtoday.scope import Scope
from arabtoday.stats import Stat

logger = logging.getLogger(__name__)
# retried once: they rarely pass on a second try (Scrapy >= 2.14 wraps Twisted's errors in its own)
QUICK_FAILURES = (DNSLookupError, TxConnectionRefusedError, CannotResolveHostError, DownloadConnectionRefusedError)
QUICK_FAILURE_RETRIES = 1
# The end of a complete HTML document; an old page may omit it, but then it ends on a tag, not mid-text.
_COMPLETE_END = re.compile(rb"(?:</html\s*>|</body\s*>)\s*$", re.I)
_ENDS_ON_TAG = re.compile(rb">\s*$")
TAIL_BYTES = 512


class OutOfScope(IgnoreRequest):
    """A request outside the site (its reason: ``offsite``, ``not_wanted``)."""

    def __init__(self, why: str, url: str, origin: str | None) -> None:
        super().__init__(f"outside the site ({why}): {url}" + (f" (redirected from {origin})" if origin else ""))
        self.why = why


class Truncated(IgnoreRequest):
    """A response that stayed cut short after its retries."""


def looks_cut(body: bytes) -> bool:
    """Does an HTML document end mid-way? Complete pages end with ``</html>`` or ``</body>``;
    old pages that omit them still end on a tag. A document that stops inside a tag or in the
    middle of text was cut. (Used only when the transport could not tell: no Content-Length.)"""
    tail = body[-TAIL_BYTES:].rstrip()
    if not tail:
        return True
    if _COMPLETE_END.search(tail):
        return False
    if tail.rfind(b"<") > tail.rfind(b">"):
        return True  # stops inside a tag
    return not _ENDS_ON_TAG.search(tail)


class ScopeMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.scope: Scope | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ScopeMiddleware:
        mw = cls(crawler)
        crawler.signals.connect(mw.spider_opened, signal=signals.spider_opened)
        return mw

    def spider_opened(self) -> None:
        self.scope = Scope.from_base_url(params_of(self.crawler).base_url)

    def process_request(self, request: Request) -> None:
        if self.scope is None:
            return
        why = self.scope.why_not(request.url)
        if why is None:
            return
        self.crawler.stats.inc_value(Stat.BLOCKED.format(why=why))
        origin = (request.meta.get("redirect_urls") or [None])[-1]
        if origin:
            logger.warning("blocked a redirect from %s to %s: %s", origin, request.url, why)
        else:
            logger.warning("blocked a request outside the site: %s (%s)", request.url, why)
        raise OutOfScope(why, request.url, origin)


class TruncationMiddleware:
    """Scrapy fails a response shorter than its Content-Length (``DOWNLOAD_FAIL_ON_DATALOSS``);
    without one, a connection closed early gives a response flagged ``partial`` that may or
    may not be whole. Whole or cut is then judged on the document itself (:func:`looks_cut`)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.max_retries = crawler.settings.getint("RETRY_TIMES")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> TruncationMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if "partial" not in response.flags or response.status != 200 or not looks_cut(response.body):
            return response
        self.crawler.stats.inc_value("arabtoday/truncated_responses")
        retry = get_retry_request(request, spider=self.crawler.spider, reason="truncated",
                                  max_retry_times=self.max_retries, logger=logger)
        if retry is not None:
            return retry
        raise Truncated(f"cut short (connection closed mid-body, {len(response.body)} bytes): {request.url}")


class BackoffRetryMiddleware(RetryMiddleware):
    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.base = settings.getfloat("ARABTODAY_RETRY_BACKOFF_BASE")
        self.cap = settings.getfloat("ARABTODAY_RETRY_BACKOFF_MAX")

    def delay(self, request: Request, response: Response | None = None) -> float:
        attempt = int(request.meta.get("retry_times", 1))
        delay = min(self.cap, self.base * 2 ** (attempt - 1))
        if response is not None:
            retry_after = response.headers.get(b"Retry-After")
            if retry_after and retry_after.strip().isdigit():
                delay = min(self.cap, max(delay, float(retry_after)))
        return delay

    async def _wait(self, result: Any, response: Response | None = None) -> Any:
        if isinstance(result, Request):
            delay = self.delay(result, response)
            if delay > 0:
                logger.debug("retrying %s in %.1f s", result.url, delay)
                await asyncio.sleep(delay)
        return result

    async def process_response(self, request: Request, response: Response) -> Any:  # type: ignore[override]
        return await self._wait(super().process_response(request, response), response)

    async def process_exception(self, request: Request, exception: Exception) -> Any:  # type: ignore[override]
        if isinstance(exception, QUICK_FAILURES) and int(request.meta.get("retry_times", 0)) >= QUICK_FAILURE_RETRIES:
            return None  # give up: the errback counts it
        return await self._wait(super().process_exception(request, exception))


class StreamCap:
    """Reads a response only up to ``request.meta['stream_cap']`` bytes, then stops the download
    and hands on what arrived (flag ``download_stopped``): a sitemap larger than the protocol's
    limit is read up to the limit, not refused whole, and never held beyond it."""

    def __init__(self) -> None:
        self.received: dict[int, int] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StreamCap:
        ext = cls()
        crawler.signals.connect(ext.bytes_received, signal=signals.bytes_received)
        crawler.signals.connect(ext.done, signal=signals.response_received)
        crawler.signals.connect(ext.done_request, signal=signals.request_left_downloader)
        return ext

    def bytes_received(self, data: bytes, request: Request) -> None:
        cap = request.meta.get("stream_cap")
        if not cap:
            return
        total = self.received.get(id(request), 0) + len(data)
        self.received[id(request)] = total
        if total > cap:
            self.received.pop(id(request), None)
            raise StopDownload(fail=False)

    def done(self, response: Response, request: Request) -> None:
        self.received.pop(id(request), None)

    def done_request(self, request: Request) -> None:
        self.received.pop(id(request), None)
