"""The ``arabtoday`` spider: decides what to request, nothing more.

Discovery runs through every source the site offers, each independent of the
others (one failing never stops the rest): robots.txt -> sitemap index ->
monthly sitemaps (read as streams); the edition and section feeds; the home
and section pages with their pagination; an article's own links. Every address
found is classified (:mod:`arabtoday.urls`) and only the kinds the crawl needs
are requested, once per article id per run, and only when the state says the
article is new, changed or failed last time.

What it finds goes to the frontier (:mod:`arabtoday.frontier`), which feeds
the scheduler within its bound. Article pages are read by page objects
(:mod:`arabtoday.extraction`); every article request ends in one bucket of the
ledger (:mod:`arabtoday.accounting`), told through signals. Cleaning,
deduplication and export happen in the item pipelines and feed exporters.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import datetime
from typing import Any

from lxml import etree
from scrapy import Request, Spider
from scrapy.http import Response
from scrapy.utils.sitemap import sitemap_urls_from_robots
from twisted.python.failure import Failure

from arabtoday.blocking import BlockPageDetector, says_blocked
from arabtoday.dates import iso
from arabtoday.discovery import BadXML, Entry, ListingPage, SitemapReader, article_id_hint, iter_feed
from arabtoday.extraction import NotAnArticle, Page, decode_html, parse_page
from arabtoday.failures import article_failure, failure_kind, slug
from arabtoday.frontier import Frontier
from arabtoday.middlewares import OutOfScope
from arabtoday.params import BadArgument, CrawlParams
from arabtoday.signals import ARTICLE_OUTCOME, ARTICLE_REQUESTED, LASTMOD_SEEN
from arabtoday.state import should_fetch
from arabtoday.state.extension import StateExtension
from arabtoday.stats import Stat
from arabtoday.urls import Classified, Kind, absolute, classify, sitemap_month

logger = logging.getLogger(__name__)

# Articles first: they are what the crawl is for, and fetching them promptly
# keeps the scheduler queue (and memory) small.
PRIORITY = {"article": 10, "feed": 5, "listing": 0, "sitemap": 1, "robots": 20}
SITEMAP_HARD_LIMIT_FACTOR = 2  # transport wall for sitemaps: twice the bytes read (stops bombs and huge lengths)
DISCOVERY_SKIPPED = "arabtoday/discovery/skipped/{reason}"
DISCOVERY_TOTAL = "arabtoday/discovery/total"
BOUND = "arabtoday/bounds/{name}"
SOURCE_ERROR = "arabtoday/errors/source/{kind}"
SOURCE_OK = "arabtoday/sources/{source}"


class ArabTodaySpider(Spider):
    name = "arabtoday"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        spider_args = {k: kwargs.pop(k) for k in list(kwargs) if k in CrawlParams.__dataclass_fields__}
        unknown = sorted(k for k in kwargs if not k.startswith("_"))  # scrapyd adds _job
        if unknown:
            raise BadArgument(f"unknown spider argument(s) {', '.join(unknown)}; known: "
                              f"{', '.join(CrawlParams.__dataclass_fields__)}")
        super().__init__(*args, **kwargs)
        self.params = CrawlParams.from_args(**spider_args)
        self.lang = self.params.lang  # for the output file name (%(lang)s)
        self.worker = f"{socket.gethostname()}-{os.getpid()}"  # ditto (%(worker)s, distributed mode)
        self.base_url = self.params.base_url
        # No allowed_domains: Scrapy's offsite filter drops requests at scheduling, before any errback,
        # so an article redirected off the site would vanish from the accounting. The scope rule
        # (arabtoday.scope, applied by ScopeMiddleware to every request) is stricter (ports too) and counts.
        self._known: dict[str, bool] = {}  # article id -> requested in this run (False: skipped, unchanged)
        self._blocks = BlockPageDetector()

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> ArabTodaySpider:
        """``base_url`` defaults to ``ARABTODAY_BASE_URL`` (for ``scrapy check``, which takes no ``-a``)."""
        kwargs.setdefault("base_url", crawler.settings.get("ARABTODAY_BASE_URL"))
        return super().from_crawler(crawler, *args, **kwargs)

    # -- the parts this spider hands its findings to ---------------------------------------------------------------

    follow = True  # False under ``scrapy parse``: read the one page, request nothing more

    def _discover(self, requests: Iterator[Request | None], kind: str) -> None:
        """Hand a source of requests to the frontier (read lazily, within its bound)."""
        if self.follow:
            self.crawler.get_extension(Frontier).add(requests, kind)

    def _send(self, signal: object, **kwargs: Any) -> None:
        self.crawler.signals.send_catch_log(signal=signal, **kwargs)

    def _outcome(self, request: Request, bucket: str, reason: str) -> None:
        self._send(ARTICLE_OUTCOME, article_id=request.meta.get("article_id"), url=request.url, bucket=bucket,
                   reason=reason)

    # -- start ---------------------------------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Any]:
        if self.params.role == "worker":
            return  # workers take their requests from the shared queue (distributed mode)
        base = self.base_url
        yield Request(f"{base}/robots.txt", self.parse_robots, errback=self.robots_failed,
                      priority=PRIORITY["robots"], meta={"handle_httpstatus_list": [404, 410], "source": "robots"})
        for lang in self.params.langs:
            yield self._page_request(f"{base}/{lang}/rss", "feed")
            yield self._page_request(f"{base}/{lang}/", "listing")

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        """Any address of the site, by its kind (``scrapy parse URL``): one page read, nothing followed
        (what it would discover is counted, not requested)."""
        self.follow = False
        kind = classify(response.url, self.base_url).kind
        callback = {Kind.ARTICLE: self.parse_article, Kind.AMP: self.parse_article, Kind.FEED: self.parse_feed,
                    Kind.SITEMAP: self.parse_sitemap, Kind.LISTING: self.parse_listing,
                    Kind.HOME: self.parse_listing}.get(kind)
        if callback is None:
            logger.info("%s is not an address the crawler reads (%s)", response.url, kind.value)
            return
        yield from callback(response) or ()

    def _page_request(self, url: str, kind: str, **meta: Any) -> Request:
        callback = {"feed": self.parse_feed, "listing": self.parse_listing, "sitemap": self.parse_sitemap}[kind]
        if kind == "sitemap":
            limit = self.settings.getint("ARABTODAY_SITEMAP_MAX_BYTES")
            meta = {"download_maxsize": limit * SITEMAP_HARD_LIMIT_FACTOR,
                    "download_warnsize": limit * SITEMAP_HARD_LIMIT_FACTOR, "stream_cap": limit, **meta}
        return Request(url, callback, errback=self.source_failed, priority=PRIORITY[kind],
                       meta={"source": kind, **meta})

    # -- sitemaps ------------------------------------------------------------------------------------------------

    def parse_robots(self, response: Response) -> Iterator[Request]:
        sitemaps = []
        if response.status == 200:
            sitemaps = [u for u in sitemap_urls_from_robots(response.body, base_url=response.url)
                        if classify(u, self.base_url).kind is Kind.SITEMAP]
        self._discover(iter([self._page_request(u, "sitemap") for u in sitemaps]
                               or [self._page_request(f"{self.base_url}/sitemap.xml", "sitemap")]), "sitemap")
        return iter(())

    def robots_failed(self, failure: Failure) -> None:
        self._count_source_failure(failure, "robots")
        self._discover(iter([self._page_request(f"{self.base_url}/sitemap.xml", "sitemap")]), "sitemap")

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        try:
            reader = SitemapReader(response.body, response.url, self.settings.getint("ARABTODAY_SITEMAP_MAX_ENTRIES"),
                                   self.settings.getint("ARABTODAY_SITEMAP_MAX_BYTES"))
        except BadXML as exc:
            self._bad_source(response, "sitemap", exc)
            return iter(())
        self.stats.inc_value(SOURCE_OK.format(source="sitemap"))
        if "download_stopped" in response.flags:
            self.stats.inc_value(BOUND.format(name="sitemap_bytes"))
            logger.warning("sitemap %s is larger than ARABTODAY_SITEMAP_MAX_BYTES: read up to it", response.url)
        if reader.is_index:
            self._discover(self._index_requests(reader), "sitemap")
        else:
            self._discover(self._sitemap_requests(reader), "article")
        return iter(())

    def _index_requests(self, reader: SitemapReader) -> Iterator[Request | None]:
        limit = self.settings.getint("ARABTODAY_INDEX_MAX_SITEMAPS")
        followed = 0
        for entry in self._read_entries(reader, "sitemap"):
            found = classify(entry.url, self.base_url)
            if found.kind is not Kind.SITEMAP:
                self.stats.inc_value(DISCOVERY_SKIPPED.format(reason="not_a_sitemap"))
                continue
            if not self._sitemap_wanted(found.url):
                continue
            if followed >= limit:
                self.stats.inc_value(BOUND.format(name="index_sitemaps"))
                logger.warning("sitemap index %s lists more than %d sitemaps: the rest is ignored", reader.page_url,
                               limit)
                return
            followed += 1
            yield self._page_request(found.url, "sitemap")

    def _sitemap_requests(self, reader: SitemapReader) -> Iterator[Request | None]:
        for entry in self._read_entries(reader, "sitemap"):
            if self._date_wanted(entry.date, is_lastmod=True):
                yield from self._article_requests([(classify(entry.url, self.base_url), entry.date)], "sitemap")

    def _read_entries(self, reader: SitemapReader, source: str) -> Iterator[Entry]:
        try:
            yield from reader.entries()
        except BadXML as exc:
            self.stats.inc_value(SOURCE_ERROR.format(kind=f"bad_{source}"))
            logger.error("unreadable %s %s: %s", source, reader.page_url, exc)
        if reader.hit:
            self.stats.inc_value(BOUND.format(name=reader.hit))
            logger.warning("%s %s: stopped at its bound (%s)", source, reader.page_url, reader.hit)

    def _sitemap_wanted(self, url: str) -> bool:
        month = sitemap_month(url)
        if month is None:
            return True
        lang, year, mon = month
        wanted = lang in self.params.langs and self.params.month_in_window(year, mon)
        if not wanted:
            self.stats.inc_value(DISCOVERY_SKIPPED.format(reason="sitemap_out_of_window"))
        return wanted

    # -- feeds ---------------------------------------------------------------------------------------------------

    def parse_feed(self, response: Response) -> Iterator[Request]:
        self._discover(self._feed_requests(response), "article")
        return iter(())

    def _feed_requests(self, response: Response) -> Iterator[Request | None]:
        try:
            for entry in iter_feed(response.body, response.url):
                if self._date_wanted(entry.date, is_lastmod=False):
                    # a feed's date is the publication date, never a lastmod: not passed on
                    yield from self._article_requests([(classify(entry.url, self.base_url), None)], "feed")
        except BadXML as exc:
            self._bad_source(response, "feed", exc)
            return
        self.stats.inc_value(SOURCE_OK.format(source="feed"))

    # -- listings ------------------------------------------------------------------------------------------------

    def parse_listing(self, response: Response) -> Iterator[Request]:
        page = ListingPage(decode_html(response.body, _content_type(response)).text, response.url)
        self.stats.inc_value(SOURCE_OK.format(source="listing"))
        here = classify(response.url, self.base_url)
        hrefs = self._hrefs(page)
        pages: list[Request] = []
        if here.kind is Kind.HOME or (here.kind is Kind.LISTING and "page=" not in here.url):
            # home and section pages name the sections (one failing never hides the others):
            # their first pages and their feeds; the scheduler's filter drops the repeats
            for href in hrefs:
                found = classify(absolute(href, page.url) or "", self.base_url)
                if found.kind is Kind.LISTING and found.lang in self.params.langs and "page=" not in found.url:
                    pages.append(self._page_request(found.url, "listing"))
                    pages.append(self._page_request(f"{found.url.rstrip('/')}/rss.xml", "feed"))
        links = self._article_links(hrefs, page.url)
        new = sum(1 for item, _ in links if item.article and item.article.id not in self._known)
        self._discover(self._article_requests(links, "listing"), "article")
        number = int(response.meta.get("listing_page", 1))
        next_url = page.next_page()
        if next_url and here.kind is Kind.LISTING:
            if number > 1 and new == 0:
                self.stats.inc_value(BOUND.format(name="pagination_no_new"))
            elif number >= self.settings.getint("ARABTODAY_LISTING_MAX_PAGES"):
                self.stats.inc_value(BOUND.format(name="listing_pages"))
                logger.warning("listing %s: stopped at ARABTODAY_LISTING_MAX_PAGES", response.url)
            elif self._listing_before_since(page):
                self.stats.inc_value(DISCOVERY_SKIPPED.format(reason="pagination_before_since"))
            else:
                pages.append(self._page_request(next_url, "listing", listing_page=number + 1))
        self._discover(iter(pages), "page")
        return iter(())

    def _listing_before_since(self, page: ListingPage) -> bool:
        dates = page.dates()
        return bool(dates and self.params.since and max(dates).date() < self.params.since)

    def _hrefs(self, page: ListingPage) -> list[str]:
        limit = self.settings.getint("ARABTODAY_PAGE_MAX_LINKS")
        hrefs = page.hrefs(limit + 1)
        if len(hrefs) > limit:
            self.stats.inc_value(BOUND.format(name="page_links"))
            logger.warning("%s has more than %d links: the rest is ignored", page.url, limit)
        return hrefs[:limit]

    # -- articles ------------------------------------------------------------------------------------------------

    def _article_links(self, hrefs: Iterable[str], page_url: str) -> list[tuple[Classified, datetime | None]]:
        """Article links of a page. Most links of a page are already known (menus, tickers,
        "more news"): they are skipped on a cheap id hint before any URL parsing."""
        found = []
        for href in hrefs:
            hint = article_id_hint(href)
            if hint is None:
                continue
            if hint in self._known:
                self.stats.inc_value(DISCOVERY_SKIPPED.format(reason="known"))
                continue
            url = absolute(href, page_url)
            item = classify(url, self.base_url) if url else None
            if item is not None and item.kind in (Kind.ARTICLE, Kind.AMP):
                found.append((item, None))
        return found

    def _article_requests(self, found: Iterable[tuple[Classified, datetime | None]],
                          source: str) -> Iterator[Request | None]:
        for item, lastmod in found:
            yield self._article_request(item, source, lastmod)

    def _article_request(self, found: Classified, source: str, lastmod: datetime | None = None) -> Request | None:
        """Request an article once per run, whatever address it was found under, and only
        if the state says it is new, changed or failed last time."""
        if found.kind not in (Kind.ARTICLE, Kind.AMP) or found.article is None:
            return None
        ref = found.article
        if ref.lang not in self.params.langs:
            self.stats.inc_value(DISCOVERY_SKIPPED.format(reason="other_edition"))
            return None
        stamp = iso(lastmod) if lastmod else None
        requested = self._known.get(ref.id)
        if requested or (requested is False and not stamp):
            if requested and stamp:
                self._send(LASTMOD_SEEN, article_id=ref.id, lastmod=stamp)  # found on a listing first
            self.stats.inc_value(DISCOVERY_SKIPPED.format(reason="known"))
            return None
        # new, or skipped when found without a lastmod (a listing) and now the sitemap gives one
        if source in ("sitemap", "feed") and requested is None:
            self.stats.inc_value(DISCOVERY_TOTAL)
        state = self.crawler.get_extension(StateExtension)
        if state.persistent and self.settings.getbool("ARABTODAY_INCREMENTAL"):  # no history: nothing to skip
            fetch, why = should_fetch(state.store.get(ref.id), stamp)
            if not fetch:
                self._known[ref.id] = False
                self.stats.inc_value(DISCOVERY_SKIPPED.format(reason=why))
                return None
        self._known[ref.id] = True
        self._send(ARTICLE_REQUESTED, article_id=ref.id, url=found.url)
        return Request(found.url, self.parse_article, errback=self.article_failed, priority=PRIORITY["article"],
                       meta={"article_id": ref.id, "lastmod": stamp, "source": source})

    def parse_article(self, response: Response) -> Iterator[Any]:
        """An article page: one ``RawArticle`` (cleaned and checked by the pipelines), or an outcome.

        @site_url /en/middle-east/103928/381463-migrants-in-libya
        @returns items 1 1
        @returns requests 0 0
        @scrapes url lang number extractor title published_at blocks
        """
        request = response.request
        if self._blocks.served_for_many(response.body, response.url):
            self._outcome(request, "failed", "blocked")
            return
        decoded = decode_html(response.body, _content_type(response))
        if decoded.corrected:
            self.stats.inc_value(Stat.CHARSET_CORRECTED)
            logger.warning("charset of %s declared as %s but decoded as %s", response.url, decoded.declared,
                           decoded.encoding)
        try:
            page = Page(decoded.text, response.url)
            if page.flattened:
                self.stats.inc_value(Stat.PAGES_FLATTENED)
            raw = parse_page(decoded.text, response.url, page)
        except NotAnArticle as exc:
            if says_blocked(response.body):
                self._outcome(request, "failed", "blocked")
            elif not self._follow_canonical(decoded.text, response):
                self._outcome(request, "dropped", f"not_article/{slug(str(exc))}")
            return
        except (ValueError, LookupError, TypeError, etree.LxmlError, RecursionError) as exc:
            logger.error("cannot parse %s: %s: %s", response.url, type(exc).__name__, exc)
            self._outcome(request, "failed", "parse")
            return
        if not (raw.title and raw.blocks) and says_blocked(response.body):
            self._outcome(request, "failed", "blocked")
            return
        raw.lastmod = response.meta.get("lastmod")
        raw.requested_id = response.meta.get("article_id")
        yield raw
        if not self._has_window():
            # the article's own links (ticker, more news) find what listings no longer show
            links = ListingPage(decoded.text, response.url, root=page.root)
            self._discover(self._article_requests(self._article_links(self._hrefs(links), response.url),
                                                     "article"), "article")

    def _follow_canonical(self, html: str, response: Response) -> bool:
        """An AMP copy names its article: request that instead, under the same account. True when handed on."""
        canonical = ListingPage(html, response.url).canonical()
        found = classify(canonical, self.base_url) if canonical else None
        if found is None or found.kind is not Kind.ARTICLE or found.article is None:
            return False
        if found.article.id != response.meta.get("article_id"):
            self._discover(iter([self._article_request(found, "amp")]), "article")
            return False
        meta = {"article_id": response.meta.get("article_id"), "lastmod": response.meta.get("lastmod"),
                "source": "amp"}
        self._discover(iter([Request(found.url, self.parse_article, errback=self.article_failed,
                                        priority=PRIORITY["article"], meta=meta)]), "article")
        return True

    def article_failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        bucket, reason = article_failure(failure)
        if reason == "robots_forbidden":
            self.stats.inc_value(Stat.BLOCKED.format(why="robots"))
            if request.meta.get("redirect_urls"):  # the site redirected it somewhere robots.txt forbids
                logger.warning("blocked a redirect from %s to %s: robots", request.meta["redirect_urls"][-1],
                               request.url)
                bucket, reason = "failed", "redirect/robots"
        self._outcome(request, bucket, reason)

    # -- helpers -------------------------------------------------------------------------------------------------

    def _has_window(self) -> bool:
        return self.params.since is not None or self.params.until is not None

    def _date_wanted(self, when: datetime | None, is_lastmod: bool) -> bool:
        """Feed dates are publication dates; sitemap lastmods are >= publication, so only ``since`` applies."""
        if when is None:
            return True
        day = when.date()
        if (self.params.since and day < self.params.since) or (
                not is_lastmod and self.params.until and day > self.params.until):
            self.stats.inc_value(DISCOVERY_SKIPPED.format(reason="out_of_window"))
            return False
        return True

    def _bad_source(self, response: Response, source: str, exc: Exception) -> None:
        self.stats.inc_value(SOURCE_ERROR.format(kind=f"bad_{source}"))
        logger.error("unreadable %s %s: %s", source, response.url, exc)

    def source_failed(self, failure: Failure) -> None:
        self._count_source_failure(failure, failure.request.meta.get("source", "source"))  # type: ignore[attr-defined]

    def _count_source_failure(self, failure: Failure, what: str) -> None:
        kind = failure_kind(failure)
        if isinstance(failure.value, OutOfScope):
            return  # counted and logged by the scope check
        if kind == "robots":
            self.stats.inc_value(Stat.BLOCKED.format(why="robots"))
        self.stats.inc_value(SOURCE_ERROR.format(kind=kind))
        logger.error("failed to fetch %s %s: %s", what, failure.request.url, kind)  # type: ignore[attr-defined]

    @property
    def stats(self) -> Any:
        return self.crawler.stats


def _content_type(response: Response) -> str | None:
    value = response.headers.get(b"Content-Type")
    return value.decode("latin-1") if value else None
