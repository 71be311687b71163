"""Every middleware of the project, downloader and spider, in the order a request meets them.

Spider middlewares (``SPIDER_MIDDLEWARES``), on what the spider's callbacks yield:

- :class:`IncrementalMiddleware` (600): the incremental skip, before any fetch.
  One request per article per run, whatever address it was found under; none for
  an article the state says is unchanged since the last run (its sitemap
  ``lastmod`` has not moved, :func:`arabtoday.state.store.should_fetch`); a
  listing's next page only while its pages bring new articles. After the fetch,
  :class:`arabtoday.pipelines.IncrementalPipeline` skips an article whose text
  did not change.
- :class:`FrontierMiddleware` (40, nearest the engine): holds a callback's
  output while the scheduler is full (:mod:`arabtoday.discovery.frontier`).

Downloader middlewares (``DOWNLOADER_MIDDLEWARES``), on every request and answer:

- :class:`ScopeMiddleware` (40) applies :mod:`arabtoday.site.scope` to every
  request before robots.txt and before it is sent: redirects and meta refreshes to
  another host or port, or to an address kind the crawler never requests, are
  refused, counted (``arabtoday/blocked/<why>``) and logged with both addresses.
- :class:`ArchiveReplay` (580, backfill only): a web archive's answer made the site's
  page it holds (its address, status and body); an archived redirect is dropped
  (:mod:`arabtoday.archive.replay`).
- :class:`BackoffRetryMiddleware` (550): Scrapy's retry with exponential backoff
  (``Retry-After`` honoured), and one retry only for DNS failures and refused
  connections, so that an unreachable site ends the run within a minute.
- :class:`BlockPageMiddleware` (555): the same body served for several article
  addresses is a block page, never an article (:mod:`arabtoday.run.blocking`).
- :class:`TruncationMiddleware` (560): a response cut short is retried, then fails
  as ``truncated``; it is never parsed as half an article.
- :class:`PolitenessMiddleware` (950, nearest the download): the site never has more
  than ``CONCURRENT_REQUESTS_PER_DOMAIN`` requests of this crawler at a time, whatever
  path a request took (discovery, the frontier, a retry, a redirect, robots.txt, the
  shared queue of distributed mode).
- :class:`WarcCapture` (960, nearer still: the answer as the server sent it): each
  response's capture time, and with ``ARABTODAY_WARC_DIR`` the WARC of every
  exchange and the record id of each response (:mod:`arabtoday.archive.warc`).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware, get_retry_request
from scrapy.exceptions import CannotResolveHostError, DownloadConnectionRefusedError
from scrapy.http import Response
from scrapy.http.request import NO_CALLBACK
from twisted.internet.error import ConnectionRefusedError as TxConnectionRefusedError
from twisted.internet.error import DNSLookupError

from arabtoday.archive.replay import ArchiveReplay, endpoints  # noqa: F401  (ArchiveReplay: in DOWNLOADER_MIDDLEWARES)
from arabtoday.archive.warc import WarcCapture  # noqa: F401  (named here in DOWNLOADER_MIDDLEWARES)
from arabtoday.discovery.frontier import Frontier
from arabtoday.meta import ARTICLE_ID, LASTMOD, LISTING_PAGE, ORIGIN, SAME_ACCOUNT, SOURCE
from arabtoday.params import params_of
from arabtoday.run.blocking import BlockedPage, BlockPageDetector
from arabtoday.run.failures import Truncated, looks_cut
from arabtoday.run.stopping import Interrupted, Stopping
from arabtoday.schema import LIVE_ORIGIN
from arabtoday.signals import LASTMOD_SEEN
from arabtoday.site.ids import IdMap
from arabtoday.site.scope import OutOfScope, Scope
from arabtoday.state.extension import StateExtension
from arabtoday.state.history import History
from arabtoday.state.store import StateError, should_fetch
from arabtoday.stats import Stat

logger = logging.getLogger(__name__)
DOWNLOAD_SLOT = "download_slot"  # Scrapy's request meta key: the downloader slot (delay, concurrency)
# retried once: they rarely pass on a second try (Scrapy >= 2.14 wraps Twisted's errors in its own)
QUICK_FAILURES = (DNSLookupError, TxConnectionRefusedError, CannotResolveHostError, DownloadConnectionRefusedError)
QUICK_FAILURE_RETRIES = 1
# A listing's next page is followed past page 2 only when the page brought an article new to the run.
PAGINATION_CHECKED_FROM = 3
DISCOVERY_SOURCES = ("sitemap", "feed")  # the sources that make up the progress line's total


# -- spider middlewares ----------------------------------------------------------------------------------------------

class IncrementalMiddleware:
    """What not to fetch: an article already requested in this run, or unchanged since the last one."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.incremental = crawler.settings.getbool("ARABTODAY_INCREMENTAL")
        self.known = IdMap()  # article id -> requested in this run (False: skipped, unchanged)
        self._history: History | None = None

    @property
    def history(self) -> History:
        if self._history is None:
            self._history = self.crawler.get_extension(History)
        return self._history

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> IncrementalMiddleware:
        return cls(crawler)

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterator[Any]:
        new = 0
        for entry in result:
            request, first = self._decide(entry, new, response)
            new += first
            if request is not None:
                yield request

    async def process_spider_output_async(self, response: Response, result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        new = 0
        async for entry in result:
            request, first = self._decide(entry, new, response)
            new += first
            if request is not None:
                yield request

    def _decide(self, entry: Any, new_so_far: int, response: Response) -> tuple[Any, bool]:
        """The entry to pass on (None: skipped), and whether it is an article first seen in this run.
        An article a sitemap, feed or listing gives is told to the history first, requested or not."""
        if not isinstance(entry, Request):
            return entry, False
        if int(entry.meta.get(LISTING_PAGE, 0)) >= PAGINATION_CHECKED_FROM and not new_so_far:
            self._count("pagination_no_new", Stat.BOUND)
            return None, False
        article_id = entry.meta.get(ARTICLE_ID)
        if not article_id or entry.meta.get(SAME_ACCOUNT):
            return entry, False
        self.history.listed(article_id, entry.meta.get(SOURCE, ""), response.url)
        first = article_id not in self.known
        return (entry if self._wanted(entry, article_id) else None), first

    def _wanted(self, request: Request, article_id: str) -> bool:
        stamp = request.meta.get(LASTMOD)
        requested = self.known.get(article_id)
        if requested or (requested is False and not stamp):
            if requested and stamp:  # found on a listing first: the sitemap's stamp is the next baseline
                self.crawler.signals.send_catch_log(signal=LASTMOD_SEEN, article_id=article_id, lastmod=stamp)
            self._count("known")
            return False
        # new, or skipped when found without a lastmod (a listing) and now the sitemap gives one
        if requested is None and request.meta.get(SOURCE) in DISCOVERY_SOURCES:
            self.crawler.stats.inc_value(Stat.DISCOVERY_TOTAL)
        state = self.crawler.get_extension(StateExtension)
        archived = request.meta.get(ORIGIN, LIVE_ORIGIN) != LIVE_ORIGIN  # an archive's text: the pipeline compares it
        if state.persistent and self.incremental and not archived:  # without history there is nothing to skip
            try:
                seen = state.store.get(article_id)
            except StateError:
                return False  # the state's owner stopped the run: nothing more is requested
            fetch, why = should_fetch(seen, stamp)
            if not fetch:
                self.known[article_id] = False
                self._count(why)
                return False
        self.known[article_id] = True
        return True

    def _count(self, reason: str, stat: str = Stat.DISCOVERY_SKIPPED) -> None:
        self.crawler.stats.inc_value(stat.format(reason=reason, name=reason))


class FrontierMiddleware:
    """Passes each request of a callback's output on only once the frontier admits it."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FrontierMiddleware:
        return cls(crawler)

    async def process_spider_output(self, response: Response, result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        frontier = self.crawler.get_extension(Frontier)
        async for entry in result:
            if isinstance(entry, Request) and frontier is not None:
                await frontier.admit(entry)
            yield entry


# -- downloader middlewares ------------------------------------------------------------------------------------------

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
        params = params_of(self.crawler)
        self.scope = Scope.from_base_url(params.base_url, endpoints(self.crawler.settings, params.backfill))

    def process_request(self, request: Request) -> None:
        if self.scope is None:
            return
        why = self.scope.why_not(request.url)
        if why is None:
            # one download slot for the whole site, www. or not: Scrapy's delay and AutoThrottle apply per slot
            # (an archive's host has its own: Scrapy's default slot, per host)
            if self.scope.on_site(request.url):
                request.meta.setdefault(DOWNLOAD_SLOT, self.scope.host)
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
        self.crawler.stats.inc_value(Stat.TRUNCATED_RESPONSES)
        retry = get_retry_request(request, spider=self.crawler.spider, reason="truncated",
                                  max_retry_times=self.max_retries, logger=logger)
        if retry is not None:
            return retry
        raise Truncated(f"cut short (connection closed mid-body, {len(response.body)} bytes): {request.url}")


class BlockPageMiddleware:
    """An article answer whose very bytes were already served for other article addresses is a
    block page (a captcha, an "access denied" page): it fails as ``blocked``, never reaches a parser."""

    def __init__(self) -> None:
        self.detector = BlockPageDetector()

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status == 200 and request.meta.get(ARTICLE_ID) and \
                self.detector.served_for_many(response.body, response.url):
            raise BlockedPage(f"the same body was served for several article addresses: {response.url}")
        return response


class PolitenessMiddleware:
    """At most ``CONCURRENT_REQUESTS_PER_DOMAIN`` requests in flight per download slot (the site), and
    never two closer than the slot's delay.

    Scrapy's downloader starts, from one slot's queue, as many requests as the slot's free transfer
    places at the moment it looks; a request counts as transferring only once its download has
    begun, so without a download delay a burst of queued requests all start together (seen: ten at
    once with a per-domain limit of 1). A request waits here, nearest the download, for one of the
    slot's places, and gives it back as soon as the answer (or the error) comes back, before a
    retry's backoff or a redirect."""

    HELD = "politeness_slot"  # request meta: the slot whose place this request holds

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.stopping = Stopping(crawler)
        self.default = settings.getint("CONCURRENT_REQUESTS_PER_IP") or settings.getint(
            "CONCURRENT_REQUESTS_PER_DOMAIN")
        self.per_slot = {key: int(value["concurrency"]) for key, value in settings.getdict("DOWNLOAD_SLOTS").items()
                         if isinstance(value, dict) and "concurrency" in value}
        self.places: dict[str, asyncio.Semaphore] = {}
        self.crawler = crawler
        self.delay = settings.getfloat("DOWNLOAD_DELAY")
        self.jitter = settings.getfloat("DOWNLOAD_DELAY_JITTER")
        self.spacing: dict[str, asyncio.Lock] = {}
        self.last_sent: dict[str, float] = {}  # monotonic time a request of the slot was last let through

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PolitenessMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        key = request.meta.get(DOWNLOAD_SLOT) or urlsplit(request.url).hostname or ""
        places = self.places.get(key)
        if places is None:
            places = self.places[key] = asyncio.Semaphore(max(1, self.per_slot.get(key, self.default)))
        acquire = asyncio.ensure_future(places.acquire())
        stop = asyncio.ensure_future(self.stopping.wait())
        try:
            await asyncio.wait({acquire, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
        if not acquire.done() or acquire.cancelled():
            acquire.cancel()
            raise Interrupted(f"not sent, the run is stopping: {request.url}")
        if self.stopping.stopped or not await self._spaced(key):
            places.release()
            raise Interrupted(f"not sent, the run is stopping: {request.url}")
        request.meta[self.HELD] = key

    async def _spaced(self, key: str) -> bool:
        """Requests released together by the place they waited for leave one delay apart, as Scrapy's
        downloader spaced them before they waited (its delay, AutoThrottle's when it is on, less its
        jitter); False when the run stops meanwhile."""
        spacing = self.spacing.setdefault(key, asyncio.Lock())
        async with spacing:
            due = self.last_sent.get(key, -math.inf) + self._gap(key) - time.monotonic()
            if due > 0 and await self.stopping.wait(due):
                return False
            self.last_sent[key] = time.monotonic()
        return True

    def _gap(self, key: str) -> float:
        engine = self.crawler.engine
        slot = engine.downloader.slots.get(key) if engine is not None else None
        if slot is None:
            return self.delay * (1 - self.jitter)
        return slot.delay * (1 - slot.jitter)  # the shortest delay Scrapy's jitter gives

    def process_response(self, request: Request, response: Response) -> Response:
        self._release(request)
        return response

    def process_exception(self, request: Request, exception: Exception) -> Request | None:
        self._release(request)
        if isinstance(exception, Interrupted) and request.callback is not NO_CALLBACK:
            # back to the scheduler, not downloaded (the engine is closing): with JOBDIR the paused job keeps
            # it on disk and the resumed run fetches it; otherwise it stays unfinished, for the next run.
            # Never a request the engine downloads itself (robots.txt, NO_CALLBACK): the engine sends a
            # request returned here straight back to the download, which the stop interrupts again, for
            # ever (a stop while robots.txt was in flight spun the CPU and never ended the run)
            return request.replace(dont_filter=True)
        return None

    def _release(self, request: Request) -> None:
        key = request.meta.pop(self.HELD, None)
        if key is not None:
            self.places[key].release()


class BackoffRetryMiddleware(RetryMiddleware):
    """Retries wait out their backoff, unless the run stops meanwhile (then they give up at once)."""

    def __init__(self, settings: Any, crawler: Crawler | None = None) -> None:
        super().__init__(settings)
        self.base = settings.getfloat("ARABTODAY_RETRY_BACKOFF_BASE")
        self.cap = settings.getfloat("ARABTODAY_RETRY_BACKOFF_MAX")
        self.stopping = Stopping(crawler) if crawler is not None else None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffRetryMiddleware:
        middleware = cls(crawler.settings, crawler)
        middleware.crawler = crawler
        return middleware

    def delay(self, request: Request, response: Response | None = None) -> float:
        attempt = int(request.meta.get("retry_times", 1))
        delay = min(self.cap, self.base * 2 ** (attempt - 1))
        if response is not None:
            retry_after = response.headers.get(b"Retry-After")
            if retry_after and retry_after.strip().isdigit():
                delay = min(self.cap, max(delay, float(retry_after)))
        return delay

    async def _wait(self, result: Any, response: Response | None = None) -> Any:
        """The retry, after its backoff; at once when the run stops meanwhile (it then goes back to the
        scheduler without being sent: a paused job keeps it, otherwise the next run takes it up)."""
        if isinstance(result, Request):
            delay = self.delay(result, response)
            if delay > 0:
                logger.debug("retrying %s in %.1f s", result.url, delay)
                if self.stopping is None:
                    await asyncio.sleep(delay)
                else:
                    await self.stopping.wait(delay)
        return result

    async def process_response(self, request: Request, response: Response) -> Any:  # type: ignore[override]
        return await self._wait(super().process_response(request, response), response)

    async def process_exception(self, request: Request, exception: Exception) -> Any:  # type: ignore[override]
        if isinstance(exception, QUICK_FAILURES) and int(request.meta.get("retry_times", 0)) >= QUICK_FAILURE_RETRIES:
            return None  # give up: the errback counts it
        return await self._wait(super().process_exception(request, exception))
