"""The ``arabtoday`` spider: decides what to request, nothing more.

Discovery runs through every source the site offers, each independent of the
others (one failing never stops the rest): robots.txt -> sitemap index ->
monthly sitemaps; the edition feeds and section feeds; the home and section
pages with their pagination. Every address found is classified
(:mod:`arabtoday.urls`) and only the kinds the crawl needs are requested.
Pages are read by page objects (:mod:`arabtoday.extraction`,
:mod:`arabtoday.discovery`); the cleaning, deduplication and export happen in
the item pipelines and feed exporters.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from typing import Any

from lxml import etree
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.sitemap import sitemap_urls_from_robots
from twisted.internet.error import ConnectionRefusedError, DNSLookupError, TCPTimedOutError, TimeoutError
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed

from arabtoday.dates import iso
from arabtoday.discovery import BadXML, ListingPage, article_id_hint, parse_feed, parse_sitemap
from arabtoday.extraction import NotAnArticle, Page, decode_html, parse_page
from arabtoday.params import BadArgument, CrawlParams
from arabtoday.state import StateStore, should_fetch
from arabtoday.state.extension import get_state
from arabtoday.stats import ARTICLE_FAILED, Stat
from arabtoday.urls import Classified, Kind, absolute, classify, sitemap_month

logger = logging.getLogger(__name__)

# Articles first: they are what the crawl is for, and fetching them promptly
# keeps the scheduler queue (and memory) small.
PRIORITY = {"article": 10, "feed": 5, "listing": 0, "sitemap": 1, "robots": 20}
MAX_BACKLOG = 100_000


class ArabTodaySpider(Spider):
    name = "arabtoday"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        spider_args = {k: kwargs.pop(k) for k in list(kwargs) if k in CrawlParams.__dataclass_fields__}
        unknown = sorted(k for k in kwargs if not k.startswith("_"))  # scrapyd adds _job
        if unknown:
            logger.error("bad spider argument: unknown %s; known: %s", ", ".join(unknown),
                         ", ".join(CrawlParams.__dataclass_fields__))
            raise BadArgument(f"unknown spider argument(s): {', '.join(unknown)}")
        super().__init__(*args, **kwargs)
        try:
            self.params = CrawlParams.from_args(**spider_args)
        except BadArgument as exc:
            logger.error("bad spider argument: %s", exc)
            raise
        self.lang = self.params.lang  # for the output file name (%(lang)s)
        self.worker = f"{socket.gethostname()}-{os.getpid()}"  # ditto (%(worker)s, distributed mode)
        self._idle_since: float | None = None
        self.base_url = self.params.base_url
        self._requested_ids: set[str] = set()
        self._backlog: deque[Request] = deque(maxlen=MAX_BACKLOG)
        self._in_flight = 0
        self._emitted = 0
        # article numbers (by edition) sent to the downloader and not yet decided:
        # the content dedup waits for lower ones (the original is the lower id)
        self._pending: dict[str, set[int]] = {lang: set() for lang in self.params.langs}
        self._decision: asyncio.Event | None = None
        self._waiting = 0

    @classmethod
    def update_settings(cls, settings: Any) -> None:
        """The default output file, only when the command line names none (Scrapy
        merges ``-O`` with ``FEEDS``, and ``-O x.jsonl`` must mean only ``x.jsonl``);
        and, with ``ARABTODAY_REDIS_URL``, scrapy-redis' shared queue and filter."""
        super().update_settings(settings)
        distributed = bool(settings.get("ARABTODAY_REDIS_URL"))
        default_feed = settings.get("ARABTODAY_DEFAULT_FEED")
        if not settings.getdict("FEEDS") and default_feed:
            if distributed and "%(worker)s" not in default_feed:
                default_feed = default_feed.replace(".jsonl", "-%(worker)s.jsonl")  # one file per worker
            settings.set("FEEDS", {default_feed: {"format": "jsonlines"}}, priority="spider")
        if distributed:
            prefix = settings.get("ARABTODAY_REDIS_PREFIX")
            for name, value in {
                "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
                "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
                "REDIS_URL": settings.get("ARABTODAY_REDIS_URL"),
                "SCHEDULER_PERSIST": True,  # a worker that finishes must not wipe the queue of the others
                "SCHEDULER_QUEUE_KEY": f"{prefix}:requests",
                "SCHEDULER_DUPEFILTER_KEY": f"{prefix}:dupefilter",
                "DUPEFILTER_KEY": f"{prefix}:dupefilter",
            }.items():
                settings.set(name, value, priority="spider")
            # The engine pulls requests until CONCURRENT_REQUESTS are in its downloader, even when
            # the per-host limit lets only a few run: a worker would hoard the shared queue.
            per_host = settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
            if settings.getint("CONCURRENT_REQUESTS") > per_host:
                settings.set("CONCURRENT_REQUESTS", per_host, priority=settings.getpriority("CONCURRENT_REQUESTS"))

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> ArabTodaySpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(spider._item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(spider._item_dropped, signal=signals.item_error)
        crawler.signals.connect(spider._reached_downloader, signal=signals.request_reached_downloader)
        crawler.signals.connect(spider._spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(spider._spider_error, signal=signals.spider_error)
        crawler.signals.connect(spider._response_received, signal=signals.response_received)
        return spider

    # -- start ---------------------------------------------------------------------------------------------------

    @property
    def distributed(self) -> bool:
        return bool(self.crawler.settings.get("ARABTODAY_REDIS_URL"))

    async def start(self) -> AsyncIterator[Any]:
        if self.distributed:
            if self.params.role == "worker":
                return  # workers take their requests from the shared queue
            self.state.reset_run()  # type: ignore[attr-defined]
        base = self.base_url
        yield Request(f"{base}/robots.txt", self.parse_robots, errback=self.robots_failed,
                      priority=PRIORITY["robots"], meta={"handle_httpstatus_list": [404, 410]})
        for lang in self.params.langs:
            yield self._request(f"{base}/{lang}/rss", "feed")
            yield self._request(f"{base}/{lang}/", "listing")

    def _request(self, url: str, kind: str, **meta: Any) -> Request:
        callback = {"feed": self.parse_feed, "listing": self.parse_listing, "sitemap": self.parse_sitemap}[kind]
        return Request(url, callback, errback=self.source_failed, priority=PRIORITY[kind],
                       meta={"source": kind, **meta})

    # -- sitemaps ------------------------------------------------------------------------------------------------

    def parse_robots(self, response: Response) -> Iterator[Request]:
        sitemaps = []
        if response.status == 200:
            sitemaps = list(sitemap_urls_from_robots(response.body, base_url=response.url))
        if not sitemaps:
            sitemaps = [f"{self.base_url}/sitemap.xml"]
        for url in sitemaps:
            if classify(url, self.base_url).kind is Kind.SITEMAP:
                yield self._request(url, "sitemap")

    def robots_failed(self, failure: Failure) -> Iterator[Request]:
        self._count_failure(failure, "robots")
        yield self._request(f"{self.base_url}/sitemap.xml", "sitemap")

    def _read(self, response: Response, source: str, parser: Callable[[bytes, str], Any]) -> Any:
        """A feed or sitemap read by its page object; ``None`` (logged, counted) when it cannot be."""
        try:
            result = parser(response.body, response.url)
        except BadXML as exc:
            self.stats.inc_value(Stat.ERROR.format(kind=f"bad_{source}"))
            logger.error("unreadable %s %s: %s", source, response.url, exc)
            return None
        self.stats.inc_value(Stat.SOURCE_OK.format(source=source))
        return result

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        sitemap = self._read(response, "sitemap", parse_sitemap)
        if sitemap is not None and sitemap.is_index:
            for entry in sitemap.entries:
                found = classify(entry.url, self.base_url)
                if found.kind is Kind.SITEMAP and self._sitemap_wanted(found.url):
                    yield self._request(found.url, "sitemap")
        elif sitemap is not None:
            wanted = [(classify(e.url, self.base_url), e.date) for e in sitemap.entries
                      if self._date_wanted(e.date, is_lastmod=True)]
            yield from self._follow_in_id_order(wanted, "sitemap")

    def _sitemap_wanted(self, url: str) -> bool:
        month = sitemap_month(url)
        if month is None:
            return True
        lang, year, mon = month
        wanted = lang in self.params.langs and self.params.month_in_window(year, mon)
        if not wanted:
            self.stats.inc_value(Stat.SKIPPED.format(reason="sitemap_out_of_window"))
        return wanted

    # -- feeds ---------------------------------------------------------------------------------------------------

    def parse_feed(self, response: Response) -> Iterator[Request]:
        entries = self._read(response, "feed", parse_feed) or []
        wanted = [(classify(e.url, self.base_url), e.date) for e in entries
                  if self._date_wanted(e.date, is_lastmod=False)]
        yield from self._follow_in_id_order(wanted, "feed")

    # -- listings ------------------------------------------------------------------------------------------------

    def parse_listing(self, response: Response) -> Iterator[Request]:
        page = ListingPage(decode_html(response.body, _content_type(response)).text, response.url)
        self.stats.inc_value(Stat.SOURCE_OK.format(source="listing"))
        here = classify(response.url, self.base_url)
        if here.kind is Kind.HOME or (here.kind is Kind.LISTING and "page=" not in here.url):
            # home and section pages name the sections (one failing never hides the others):
            # their first pages and their feeds; the scheduler's filter drops the repeats
            for url in page.links():
                found = classify(url, self.base_url)
                if found.kind is Kind.LISTING and found.lang in self.params.langs and "page=" not in found.url:
                    yield self._request(found.url, "listing")
                    yield self._request(f"{found.url.rstrip('/')}/rss.xml", "feed")
        yield from self._follow_in_id_order(self._new_article_links(page), "listing")
        next_url = page.next_page()
        if next_url and here.kind is Kind.LISTING:
            dates = page.dates()
            if dates and self.params.since and max(dates).date() < self.params.since:
                self.stats.inc_value(Stat.SKIPPED.format(reason="pagination_before_since"))
            else:
                yield self._request(next_url, "listing")

    # -- articles ------------------------------------------------------------------------------------------------

    def _new_article_links(self, page: ListingPage) -> list[tuple[Classified, datetime | None]]:
        """Article links not yet requested this run. Most links of a page are already
        known (menus, tickers, "more news"): they are counted and skipped before any
        URL parsing, which is what a page's links cost most."""
        found = []
        for href in page.hrefs():
            hint = article_id_hint(href)
            if hint is None:
                continue
            if hint in self._requested_ids:
                self.stats.inc_value(Stat.KNOWN_ADDRESS)
                continue
            url = absolute(href, page.url)
            item = classify(url, self.base_url) if url else None
            if item is not None and item.kind in (Kind.ARTICLE, Kind.AMP):
                found.append((item, None))
        return found

    def _follow_in_id_order(self, found: list[tuple[Classified, datetime | None]], source: str) -> Iterator[Request]:
        """Originals before their republished copies: ids grow with publication."""
        found.sort(key=lambda f: int(f[0].article.number) if f[0].article else 0)
        for item, lastmod in found:
            yield from self._follow(item, source, lastmod)

    def _follow(self, found: Classified, source: str, lastmod: datetime | None = None) -> Iterator[Request]:
        """Request an article once per run, whatever address it was found under,
        and only if the state says it is new, changed or failed last time."""
        if found.kind not in (Kind.ARTICLE, Kind.AMP) or found.article is None:
            return
        ref = found.article
        if ref.lang not in self.params.langs:
            return
        if ref.id in self._requested_ids:
            self.stats.inc_value(Stat.KNOWN_ADDRESS)
            return
        stamp = iso(lastmod) if lastmod else None
        if self.incremental:
            fetch, why = should_fetch(self.state.get(ref.id), stamp)
            if not fetch:
                self.stats.inc_value(Stat.SKIPPED.format(reason=why))
                return
        self._requested_ids.add(ref.id)
        request = Request(found.url, self.parse_article, errback=self.article_failed, priority=PRIORITY["article"],
                          meta={"article_id": ref.id, "lastmod": stamp, "source": source})
        if self._budget_left() <= 0:
            self._backlog.append(request)
            return
        self._in_flight += 1
        yield request

    @property
    def incremental(self) -> bool:
        return self.crawler.settings.getbool("ARABTODAY_INCREMENTAL")

    @property
    def state(self) -> StateStore:
        return get_state(self.crawler)

    def _pending_of(self, article_id: str | None) -> tuple[set[int], int] | None:
        """The pending set of an id's edition, and its number (None for other ids)."""
        lang, _, number = (article_id or "").partition("-")
        pending = self._pending.get(lang)
        return (pending, int(number)) if pending is not None and number.isdigit() else None

    def lower_id_pending(self, article_id: str) -> bool:
        """Is an article of this edition with a lower id still being fetched or processed?"""
        found = self._pending_of(article_id)
        return found is not None and any(other < found[1] for other in found[0])

    def _decided(self, article_id: str | None) -> None:
        found = self._pending_of(article_id)
        if found is not None:
            found[0].discard(found[1])
            if self._decision is not None:
                self._decision.set()  # wake the items waiting for a lower id

    async def wait_for_lower_ids(self, article_id: str, timeout: float, max_waiting: int) -> bool:
        """Wait (at most ``timeout`` s) until no lower id of the edition is being fetched or
        processed; woken by each decision rather than polling. False when it did not wait it out.

        At most ``max_waiting`` items wait at once: a waiting item keeps its response in
        Scrapy's scraper, and a scraper filled with waiters would never let in the lower
        ids they wait for. Past that, items go on at once (ordering is then best effort)."""
        if not self.lower_id_pending(article_id):
            return True
        if self._waiting >= max_waiting:
            return False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        self._waiting += 1
        try:
            while self.lower_id_pending(article_id):
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return False
                if self._decision is None or self._decision.is_set():
                    self._decision = asyncio.Event()
                try:
                    await asyncio.wait_for(self._decision.wait(), remaining)
                except TimeoutError:
                    return False
            return True
        finally:
            self._waiting -= 1

    def _spider_error(self, failure: Failure, response: Response) -> None:
        """A callback that raised decides nothing: free its article for the items waiting on it."""
        self._decided(response.meta.get("article_id"))

    def _reached_downloader(self, request: Request) -> None:
        found = self._pending_of(request.meta.get("article_id"))
        if found is not None and request.callback == self.parse_article:
            found[0].add(found[1])

    def parse_article(self, response: Response) -> Iterator[Any]:
        self._in_flight -= 1
        decoded = decode_html(response.body, _content_type(response))
        if decoded.corrected:
            self.stats.inc_value(Stat.CHARSET_CORRECTED)
            logger.warning("charset of %s declared as %s but decoded as %s", response.url, decoded.declared,
                           decoded.encoding)
        page = Page(decoded.text, response.url)
        try:
            raw = parse_page(decoded.text, response.url, page)
        except NotAnArticle as exc:
            self._decided(response.meta.get("article_id"))
            self.stats.inc_value(Stat.SKIPPED.format(reason=f"not_article/{_slug(str(exc))}"))
            yield from self._follow_canonical(decoded.text, response)
            self._refill()
            return
        except (ValueError, LookupError, TypeError, etree.LxmlError) as exc:
            self._decided(response.meta.get("article_id"))
            self.stats.inc_value(Stat.ERROR.format(kind="parse"))
            logger.error("cannot parse %s: %s: %s", response.url, type(exc).__name__, exc)
            self._refill()
            return
        raw.lastmod = response.meta.get("lastmod")
        yield raw
        if not self._has_window():
            # the article's own links (ticker, more news) find what listings no longer show
            links = ListingPage(decoded.text, response.url, root=page.root)
            yield from self._follow_in_id_order(self._new_article_links(links), "article")

    def _follow_canonical(self, html: str, response: Response) -> Iterator[Request]:
        """An AMP copy names its article: request that instead (once)."""
        canonical = ListingPage(html, response.url).canonical()
        if canonical:
            found = classify(canonical, self.base_url)
            if found.kind is Kind.ARTICLE and found.article:
                if found.article.id == response.meta.get("article_id"):
                    # the AMP copy stood in for this article: now fetch the article itself
                    self._requested_ids.discard(found.article.id)
                yield from self._follow(found, "amp")

    def article_failed(self, failure: Failure) -> None:
        self._in_flight -= 1
        request = failure.request  # type: ignore[attr-defined]
        self._decided(request.meta.get("article_id"))
        kind = self._count_failure(failure, "article")
        self.crawler.signals.send_catch_log(
            signal=ARTICLE_FAILED, article_id=request.meta.get("article_id"), url=request.url, reason=kind)
        self._refill()

    # -- budget (max_articles) -----------------------------------------------------------------------------------

    def _budget_left(self) -> float:
        if self.params.max_articles is None:
            return float("inf")
        return self.params.max_articles - self._emitted - self._in_flight

    def _refill(self) -> None:
        """A fetched article did not become a record: give its place to one from the backlog."""
        while self._backlog and self._budget_left() > 0:
            self._in_flight += 1
            self.crawler.engine.crawl(self._backlog.popleft())

    def _response_received(self) -> None:
        self._idle_since = None
        if self.distributed:
            self.state.touch()  # type: ignore[attr-defined]

    def _spider_idle(self) -> None:
        """Distributed mode: stay while the shared queue has work or another worker
        was active recently; close after ``ARABTODAY_REDIS_IDLE_SECONDS`` of calm."""
        if not self.distributed:
            return
        store = self.state
        if store.queue_length() > 0:  # type: ignore[attr-defined]
            self._idle_since = None
            raise DontCloseSpider("the shared queue has requests")
        now = time.monotonic()
        self._idle_since = self._idle_since or now
        calm = self.crawler.settings.getfloat("ARABTODAY_REDIS_IDLE_SECONDS")
        if now - self._idle_since < calm or store.seconds_since_activity() < calm:  # type: ignore[attr-defined]
            raise DontCloseSpider("other workers may still add requests")

    def _item_scraped(self, item: Any) -> None:
        self._emitted += 1
        self._decided(getattr(item, "id", None))

    def _item_dropped(self, item: Any) -> None:
        self._decided(getattr(item, "id", None))
        self._refill()

    # -- helpers -------------------------------------------------------------------------------------------------

    def _has_window(self) -> bool:
        return self.params.since is not None or self.params.until is not None

    def _date_wanted(self, when: datetime | None, is_lastmod: bool) -> bool:
        """Feed dates are publication dates; sitemap lastmods are >= publication, so only ``since`` applies."""
        if when is None:
            return True
        day = when.date()
        if self.params.since and day < self.params.since:
            self.stats.inc_value(Stat.SKIPPED.format(reason="entry_out_of_window"))
            return False
        if not is_lastmod and self.params.until and day > self.params.until:
            self.stats.inc_value(Stat.SKIPPED.format(reason="entry_out_of_window"))
            return False
        return True

    def source_failed(self, failure: Failure) -> None:
        self._count_failure(failure, failure.request.meta.get("source", "source"))  # type: ignore[attr-defined]

    def _count_failure(self, failure: Failure, what: str) -> str:
        kind = failure_kind(failure)
        self.stats.inc_value(Stat.ERROR.format(kind=kind))
        logger.error("failed to fetch %s %s: %s", what, failure.request.url, kind)  # type: ignore[attr-defined]
        return kind

    @property
    def stats(self):
        return self.crawler.stats


def failure_kind(failure: Failure) -> str:
    """A short, countable name for why a request failed."""
    if failure.check(HttpError):
        return f"http_{failure.value.response.status}"
    if failure.check(DNSLookupError):
        return "dns"
    if failure.check(TimeoutError, TCPTimedOutError):
        return "timeout"
    if failure.check(ConnectionRefusedError):
        return "connection_refused"
    if failure.check(ResponseFailed):
        return "response_failed"
    return _slug(type(failure.value).__name__)


def _content_type(response: Response) -> str | None:
    value = response.headers.get(b"Content-Type")
    return value.decode("latin-1") if value else None


def _slug(text: str) -> str:
    return "_".join(text.lower().replace("/", " ").split())
