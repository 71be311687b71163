"""The ``arabtoday`` spider: decides what to request, nothing more.

Discovery runs through every source the site offers, each independent of the
others (one failing never stops the rest): robots.txt -> sitemap index ->
monthly sitemaps (read as streams); the edition and section feeds; the home
and section pages with their pagination; an article's own links. Every address
found is classified (:mod:`arabtoday.site.addresses`) and only the kinds the
crawl needs, in the editions and the date window asked for, are yielded.

Callbacks yield their requests lazily, as they read, through Scrapy's spider
middlewares: the incremental skip (one request per article per run, none for
an article unchanged since the last run) and the frontier (which holds the
output while the scheduler is full) are spider middlewares
(:mod:`arabtoday.middlewares`). Article pages are read by page objects
(:mod:`arabtoday.extraction`) into a ``RawArticle``; an article page that ends
without an item reports its outcome to the ledger (``ARTICLE_OUTCOME``).
Cleaning, deduplication and export happen in the item pipelines and feed
exporters. The spider keeps no state of its own.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from lxml import etree
from scrapy import Request, Spider, signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response
from scrapy.utils.sitemap import sitemap_urls_from_robots
from twisted.python.failure import Failure

from arabtoday.archive import commoncrawl, wayback
from arabtoday.archive.cdx import OK_STATUS, BadIndex, Capture, CdxPage, parse_pywb, parse_wayback
from arabtoday.archive.replay import ArchiveSkip
from arabtoday.archive.warc import provenance
from arabtoday.cleaning.dates import iso
from arabtoday.discovery.feeds import iter_feed
from arabtoday.discovery.sitemaps import SitemapReader
from arabtoday.discovery.xml import BadXML, Entry
from arabtoday.items import Gone
from arabtoday.meta import (
    ARCHIVED_URL,
    ARTICLE_ID,
    CAPTURED_AT,
    INDEX_PAGE,
    LASTMOD,
    LISTING_PAGE,
    ORIGIN,
    RECHECK,
    SAME_ACCOUNT,
    SOURCE,
    STREAM_CAP,
)
from arabtoday.params import BadArgument, CrawlParams
from arabtoday.run.blocking import BLOCKED, says_blocked
from arabtoday.run.failures import GONE, article_failure, failure_kind, slug
from arabtoday.run.stopping import Interrupted
from arabtoday.schema import COMMONCRAWL, WAYBACK
from arabtoday.settings import USER_AGENT as DEFAULT_USER_AGENT
from arabtoday.signals import ARTICLE_OUTCOME, SOURCE_READ
from arabtoday.site.addresses import (
    SITE_URL,
    Classified,
    Kind,
    absolute,
    article_id_hint,
    classify,
    sitemap_month,
)
from arabtoday.site.scope import OutOfScope
from arabtoday.stats import Bucket, Stat

if TYPE_CHECKING:
    from arabtoday.discovery.listings import ListingPage

logger = logging.getLogger(__name__)
T = TypeVar("T")

# Articles first: they are what the crawl is for, and fetching them promptly
# keeps the scheduler queue (and memory) small.
PRIORITY = {"article": 10, "feed": 5, "listing": 0, "sitemap": 1, "robots": 20, "recheck": 10, "index": 1}
SITEMAP_HARD_LIMIT_FACTOR = 2  # transport wall for sitemaps: twice the bytes read (stops bombs and huge lengths)
PAUSED_SITEMAPS = 2  # sitemap bodies the scraper may hold while the frontier pauses their output
SCRAPER_ACTIVE_SIZE = 5_000_000  # Scrapy's SCRAPER_SLOT_MAX_ACTIVE_SIZE default, for everything else
ARTICLE_KINDS = (Kind.ARTICLE, Kind.AMP)
GONE_FROM_SITEMAPS = "gone_from_sitemaps"  # the removal reason of a vanished article whose address serves another page
FAILED_SOURCES_LISTED = 20  # addresses of failed sources the report names (the count is always whole)
WAYBACK_INDEX, CC_INDEX = "wayback_index", "commoncrawl_index"  # the discovery sources of a backfill


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
        # (arabtoday.site.scope, applied by ScopeMiddleware to every request) is stricter (ports too) and counts.

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> ArabTodaySpider:
        """``base_url`` defaults to ``ARABTODAY_BASE_URL`` (for ``scrapy check``, which takes no ``-a``)."""
        kwargs.setdefault("base_url", crawler.settings.get("ARABTODAY_BASE_URL"))
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.discovery_over, signal=signals.spider_idle)
        return spider

    @classmethod
    def update_settings(cls, settings: Any) -> None:
        """The scraper holds a sitemap's response while the frontier pauses its output: room for two."""
        super().update_settings(settings)
        sitemap_wall = settings.getint("ARABTODAY_SITEMAP_MAX_BYTES") * SITEMAP_HARD_LIMIT_FACTOR
        wanted = PAUSED_SITEMAPS * sitemap_wall + SCRAPER_ACTIVE_SIZE
        if settings.getint("SCRAPER_SLOT_MAX_ACTIVE_SIZE") < wanted:
            settings.set("SCRAPER_SLOT_MAX_ACTIVE_SIZE", wanted, priority="spider")

    # -- start ---------------------------------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Any]:
        if self.params.role == "worker":
            return  # workers take their requests from the shared queue (distributed mode)
        if self.params.backfill is not None:
            for request in self._backfill_start():
                yield request
            return
        base = self.base_url
        if base == SITE_URL and self.settings.get("USER_AGENT") == DEFAULT_USER_AGENT:
            logger.warning("crawling the live site with the default User-Agent: put your own contact in it "
                           "(-s USER_AGENT='arabtoday-crawler (+mailto:you@example.org)'), so the site can reach you")
        yield Request(f"{base}/robots.txt", self.parse_robots, errback=self.robots_failed,
                      priority=PRIORITY["robots"], meta={"handle_httpstatus_list": [404, 410], SOURCE: "robots"})
        for lang in self.params.langs:
            yield self._page_request(f"{base}/{lang}/rss", "feed")
            yield self._page_request(f"{base}/{lang}/", "listing")

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        """Any address of the site, by its kind (``scrapy parse URL``)."""
        kind = classify(response.url, self.base_url).kind
        callback = {Kind.ARTICLE: self.parse_article, Kind.AMP: self.parse_article, Kind.FEED: self.parse_feed,
                    Kind.SITEMAP: self.parse_sitemap, Kind.LISTING: self.parse_listing,
                    Kind.HOME: self.parse_listing}.get(kind)
        if callback is None:
            logger.info("%s is not an address the crawler reads (%s)", response.url, kind.value)
            return
        yield from callback(response)

    def _page_request(self, url: str, kind: str, **meta: Any) -> Request:
        callback = {"feed": self.parse_feed, "listing": self.parse_listing, "sitemap": self.parse_sitemap}[kind]
        if kind == "sitemap":
            limit = self.settings.getint("ARABTODAY_SITEMAP_MAX_BYTES")
            meta = {"download_maxsize": limit * SITEMAP_HARD_LIMIT_FACTOR,
                    "download_warnsize": limit * SITEMAP_HARD_LIMIT_FACTOR, STREAM_CAP: limit, **meta}
        return Request(url, callback, errback=self.source_failed, priority=PRIORITY[kind],
                       meta={SOURCE: kind, **meta})

    # -- backfill: a web archive's index instead of the site's sources ------------------------------------------

    def _backfill_start(self) -> Iterator[Request]:
        if self.params.backfill == WAYBACK:
            for lang in self.params.langs:
                yield self._wayback_index(lang, None, 1)
        else:
            index = self.settings.get("ARABTODAY_COMMONCRAWL_INDEX_URL").rstrip("/")
            yield Request(index + commoncrawl.COLLINFO_PATH, self.parse_collinfo, errback=self.source_failed,
                          priority=PRIORITY["index"], meta={SOURCE: CC_INDEX})

    def _wayback_index(self, lang: str, resume_key: str | None, page: int) -> Request:
        url = wayback.cdx_url(self.settings.get("ARABTODAY_WAYBACK_URL"), self.base_url, lang, since=self.params.since,
                              limit=self.settings.getint("ARABTODAY_CDX_PAGE_SIZE"), resume_key=resume_key)
        return Request(url, self.parse_wayback_index, errback=self.source_failed, priority=PRIORITY["index"],
                       cb_kwargs={"lang": lang}, meta={SOURCE: WAYBACK_INDEX, INDEX_PAGE: page})

    def parse_wayback_index(self, response: Response, lang: str) -> Iterator[Request]:
        """A page of the Wayback CDX index: a request per article capture, then the next page."""
        page = self._read_index(response, WAYBACK_INDEX, parse_wayback)
        if page is None:
            return
        yield from self._capture_requests(page, response, WAYBACK)
        if page.resume_key:
            number = int(response.meta.get(INDEX_PAGE, 1))
            if self._index_page_allowed(number, response.url):
                yield self._wayback_index(lang, page.resume_key, number + 1)

    def _read_index(self, response: Response, source: str, read: Callable[[bytes], T]) -> T | None:
        """An archive index's answer, read; None when it cannot be (the source failed: counted, logged)."""
        try:
            return read(response.body)
        except BadIndex as exc:
            self._bad_source(response.url, source, exc)
            return None

    def _index_page_allowed(self, number: int, url: str) -> bool:
        if number >= self.settings.getint("ARABTODAY_CDX_MAX_PAGES"):
            self.stats.inc_value(Stat.BOUND.format(name="index_pages"))
            logger.warning("archive index %s: stopped at ARABTODAY_CDX_MAX_PAGES", url)
            return False
        return True

    def parse_collinfo(self, response: Response) -> Iterator[Request]:
        """Common Crawl's list of crawls: the page count of each chosen crawl's index, per edition."""
        listed = self._read_index(response, CC_INDEX, commoncrawl.parse_collinfo)
        if listed is None:
            return
        crawls = commoncrawl.chosen(listed, self.params.crawls, self.params.since, self.params.until)
        self.stats.inc_value(Stat.SOURCE_READ.format(source=CC_INDEX))
        missing = set(self.params.crawls) - {c.id for c in crawls}
        if missing:  # asked for by name but not listed: those captures cannot be read
            self._source_lost(CC_INDEX, response.url, len(missing))
            logger.error("crawls not in %s: %s", response.url, ", ".join(sorted(missing)))
        for crawl in crawls:
            for lang in self.params.langs:
                yield Request(commoncrawl.index_url(crawl.cdx_api, self.base_url, lang, None), self.parse_cc_pages,
                              errback=self.source_failed, priority=PRIORITY["index"],
                              cb_kwargs={"cdx_api": crawl.cdx_api, "lang": lang}, meta={SOURCE: CC_INDEX})

    def parse_cc_pages(self, response: Response, cdx_api: str, lang: str) -> Iterator[Request]:
        pages = self._read_index(response, CC_INDEX, commoncrawl.parse_num_pages)
        if pages is None:
            return
        for number in range(pages):
            if not self._index_page_allowed(number, response.url):
                return
            yield Request(commoncrawl.index_url(cdx_api, self.base_url, lang, number), self.parse_cc_index,
                          errback=self.source_failed, priority=PRIORITY["index"], meta={SOURCE: CC_INDEX})

    def parse_cc_index(self, response: Response) -> Iterator[Request]:
        page = self._read_index(response, CC_INDEX, parse_pywb)
        if page is None:
            return
        yield from self._capture_requests(page, response, COMMONCRAWL)

    def _capture_requests(self, page: CdxPage, response: Response, origin: str) -> Iterator[Request]:
        """An article request per capture of an article address of the editions asked for; what else the
        index gives (a listing, another address, an answer not 200) is counted and never fetched."""
        source = response.meta.get(SOURCE, origin)
        self.stats.inc_value(Stat.SOURCE_READ.format(source=source))
        if page.bad_rows:
            self.stats.inc_value(Stat.DISCOVERY_SKIPPED.format(reason="bad_index_row"), page.bad_rows)
            logger.warning("archive index %s: %d row(s) could not be read", response.url, page.bad_rows)
        for capture in page.captures:
            found = classify(capture.original, self.base_url)
            if found.kind is not Kind.ARTICLE or found.article is None:
                self.stats.inc_value(Stat.DISCOVERY_SKIPPED.format(reason="archived_not_article"))
                continue
            if capture.status not in ("", "-", OK_STATUS):
                self.stats.inc_value(Stat.DISCOVERY_SKIPPED.format(reason="archived_not_ok"))
                continue
            if found.article.lang not in self.params.langs:
                self.stats.inc_value(Stat.DISCOVERY_SKIPPED.format(reason="other_edition"))
                continue
            yield self._capture_request(capture, found, origin)

    def _capture_request(self, capture: Capture, found: Classified, origin: str) -> Request:
        meta = {ARTICLE_ID: found.article.id if found.article else None, LASTMOD: None, SOURCE: origin,
                ORIGIN: origin, CAPTURED_AT: capture.captured_at, ARCHIVED_URL: found.url, "dont_redirect": True}
        if origin == WAYBACK:
            url = wayback.capture_url(self.settings.get("ARABTODAY_WAYBACK_URL"), capture.timestamp,
                                      capture.original)
            return Request(url, self.parse_article, errback=self.article_failed, priority=PRIORITY["article"],
                           meta=meta)
        url = commoncrawl.record_url(self.settings.get("ARABTODAY_COMMONCRAWL_DATA_URL"), capture.filename)
        # one request per record, though many share a file: the range is part of what is asked
        return Request(url, self.parse_article, errback=self.article_failed, priority=PRIORITY["article"],
                       headers={"Range": commoncrawl.byte_range(capture.offset, capture.length)},
                       dont_filter=True, meta=meta)

    # -- sitemaps ------------------------------------------------------------------------------------------------

    def parse_robots(self, response: Response) -> Iterator[Request]:
        sitemaps = []
        if response.status == 200:
            sitemaps = [u for u in sitemap_urls_from_robots(response.body, base_url=response.url)
                        if classify(u, self.base_url).kind is Kind.SITEMAP]
        for url in sitemaps or [f"{self.base_url}/sitemap.xml"]:
            yield self._page_request(url, "sitemap")

    def robots_failed(self, failure: Failure) -> Iterator[Request]:
        self._count_source_failure(failure, "robots")
        yield self._page_request(f"{self.base_url}/sitemap.xml", "sitemap")

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        """Read as a stream: each entry becomes a request as it is read (the frontier paces the reading)."""
        try:
            reader = SitemapReader(response.body, response.url, self.settings.getint("ARABTODAY_SITEMAP_MAX_ENTRIES"),
                                   self.settings.getint("ARABTODAY_SITEMAP_MAX_BYTES"))
        except BadXML as exc:
            self._bad_source(response.url, "sitemap", exc)
            return
        self.stats.inc_value(Stat.SOURCE_READ.format(source="sitemap"))
        cut = "download_stopped" in response.flags
        if cut:
            self.stats.inc_value(Stat.BOUND.format(name="sitemap_bytes"))
            logger.warning("sitemap %s is larger than ARABTODAY_SITEMAP_MAX_BYTES: read up to it", response.url)
        yield from self._index_requests(reader) if reader.is_index else self._sitemap_requests(reader, cut)

    def _index_requests(self, reader: SitemapReader) -> Iterator[Request]:
        limit = self.settings.getint("ARABTODAY_INDEX_MAX_SITEMAPS")
        followed = 0
        for entry in self._read_entries(reader, "sitemap"):
            found = classify(entry.url, self.base_url)
            if found.kind is not Kind.SITEMAP:
                self.stats.inc_value(Stat.DISCOVERY_SKIPPED.format(reason="not_a_sitemap"))
                continue
            if not self._sitemap_wanted(found.url):
                continue
            if followed >= limit:
                self.stats.inc_value(Stat.BOUND.format(name="index_sitemaps"))
                logger.warning("sitemap index %s lists more than %d sitemaps: the rest is ignored", reader.page_url,
                               limit)
                return
            followed += 1
            yield self._page_request(found.url, "sitemap")

    def _sitemap_requests(self, reader: SitemapReader, cut: bool) -> Iterator[Request]:
        """Its articles; then the history is told whether the sitemap listed all it holds in this run
        (read to its end, and no entry left out by ``since`` or ``lang``): only then can an article it
        no longer lists have vanished (:mod:`arabtoday.state.history`)."""
        left_out = 0
        for entry in self._read_entries(reader, "sitemap"):
            found = classify(entry.url, self.base_url)
            if not self._date_wanted(entry.date, is_lastmod=True):
                left_out += 1
                continue
            request = self._article_request(found, "sitemap", entry.date)
            if request is not None:
                yield request
            elif found.kind in ARTICLE_KINDS:
                left_out += 1
        complete = reader.whole and not cut and not left_out
        self.crawler.signals.send_catch_log(signal=SOURCE_READ, url=reader.page_url, complete=complete)

    def _read_entries(self, reader: SitemapReader, source: str) -> Iterator[Entry]:
        try:
            yield from reader.entries()
        except BadXML as exc:
            self._bad_source(reader.page_url, source, exc)
        if reader.hit:
            self.stats.inc_value(Stat.BOUND.format(name=reader.hit))
            logger.warning("%s %s: stopped at its bound (%s)", source, reader.page_url, reader.hit)

    def _sitemap_wanted(self, url: str) -> bool:
        month = sitemap_month(url)
        if month is None:
            return True
        lang, year, mon = month
        wanted = lang in self.params.langs and self.params.month_in_window(year, mon)
        if not wanted:
            self.stats.inc_value(Stat.DISCOVERY_SKIPPED.format(reason="sitemap_out_of_window"))
        return wanted

    # -- feeds ---------------------------------------------------------------------------------------------------

    def parse_feed(self, response: Response) -> Iterator[Request]:
        try:
            for entry in iter_feed(response.body, response.url):
                if self._date_wanted(entry.date, is_lastmod=False):
                    # a feed's date is the publication date, never a lastmod: not passed on
                    request = self._article_request(classify(entry.url, self.base_url), "feed")
                    if request is not None:
                        yield request
        except BadXML as exc:
            self._bad_source(response.url, "feed", exc)
            return
        self.stats.inc_value(Stat.SOURCE_READ.format(source="feed"))

    # -- listings ------------------------------------------------------------------------------------------------

    def parse_listing(self, response: Response) -> Iterator[Request]:
        """Home and section pages: the sections they name, their articles, then their next page
        (which the incremental middleware drops when no article of the page was new)."""
        from arabtoday.discovery.listings import ListingPage  # the page objects: not imported by `scrapy list`
        from arabtoday.extraction.api import decode_html

        page = ListingPage(decode_html(response.body, _content_type(response)).text, response.url)
        self.stats.inc_value(Stat.SOURCE_READ.format(source="listing"))
        here = classify(response.url, self.base_url)
        hrefs = self._hrefs(page)
        if here.kind is Kind.HOME or (here.kind is Kind.LISTING and "page=" not in here.url):
            # home and section pages name the sections (one failing never hides the others):
            # their first pages and their feeds; the scheduler's filter drops the repeats
            for href in hrefs:
                found = classify(absolute(href, page.url) or "", self.base_url)
                if found.kind is Kind.LISTING and found.lang in self.params.langs and "page=" not in found.url:
                    yield self._page_request(found.url, "listing")
                    yield self._page_request(f"{found.url.rstrip('/')}/rss.xml", "feed")
        yield from self._article_requests(self._article_links(hrefs, page.url), "listing")
        number = int(response.meta.get(LISTING_PAGE, 1))
        next_url = page.next_page()
        if next_url and here.kind is Kind.LISTING:
            if number >= self.settings.getint("ARABTODAY_LISTING_MAX_PAGES"):
                self.stats.inc_value(Stat.BOUND.format(name="listing_pages"))
                logger.warning("listing %s: stopped at ARABTODAY_LISTING_MAX_PAGES", response.url)
            elif self._listing_before_since(page):
                self.stats.inc_value(Stat.DISCOVERY_SKIPPED.format(reason="pagination_before_since"))
            else:
                yield self._page_request(next_url, "listing", **{LISTING_PAGE: number + 1})

    def _listing_before_since(self, page: ListingPage) -> bool:
        dates = page.dates()
        return bool(dates and self.params.since and max(dates).date() < self.params.since)

    def _hrefs(self, page: ListingPage) -> list[str]:
        limit = self.settings.getint("ARABTODAY_PAGE_MAX_LINKS")
        hrefs = page.hrefs(limit + 1)
        if len(hrefs) > limit:
            self.stats.inc_value(Stat.BOUND.format(name="page_links"))
            logger.warning("%s has more than %d links: the rest is ignored", page.url, limit)
        return hrefs[:limit]

    # -- articles ------------------------------------------------------------------------------------------------

    def _article_links(self, hrefs: Iterable[str], page_url: str, own: str | None = None) -> Iterator[Classified]:
        """Article addresses among a page's links (a cheap test first: most links are not articles),
        each article once, never ``own`` (the page's own article: its share and canonical links)."""
        seen = {own}
        for href in hrefs:
            if article_id_hint(href) is None:
                continue
            url = absolute(href, page_url)
            found = classify(url, self.base_url) if url else None
            if found is None or found.kind not in ARTICLE_KINDS:
                continue
            key = found.article.id if found.article is not None else found.url
            if key not in seen:
                seen.add(key)
                yield found

    def _article_requests(self, found: Iterable[Classified], source: str) -> Iterator[Request]:
        for item in found:
            request = self._article_request(item, source)
            if request is not None:
                yield request

    def _article_request(self, found: Classified, source: str, lastmod: datetime | None = None) -> Request | None:
        """A request for an article of the editions asked for (whether it is fetched is the
        incremental middleware's decision: once per run, and only if new or changed)."""
        if found.kind not in ARTICLE_KINDS or found.article is None:
            return None
        ref = found.article
        if ref.lang not in self.params.langs:
            self.stats.inc_value(Stat.DISCOVERY_SKIPPED.format(reason="other_edition"))
            return None
        return Request(found.url, self.parse_article, errback=self.article_failed, priority=PRIORITY["article"],
                       meta={ARTICLE_ID: ref.id, LASTMOD: iso(lastmod) if lastmod else None, SOURCE: source})

    def parse_article(self, response: Response) -> Iterator[Any]:
        """An article page: one ``RawArticle`` (cleaned and checked by the pipelines), or an outcome.

        @site_url /en/middle-east/103928/381463-migrants-in-libya
        @returns items 1 1
        @returns requests 1
        @scrapes url lang number extractor title published_at blocks
        """
        from arabtoday.discovery.listings import ListingPage  # the page objects: not imported by `scrapy list`
        from arabtoday.extraction.api import NotAnArticle, Page, decode_html, parse_page

        request = response.request
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
            canonical = self._canonical(decoded.text, response)
            if says_blocked(response.body):
                self._outcome(request, Bucket.FAILED, BLOCKED)
            elif response.meta.get(RECHECK):  # asked again for an article no sitemap lists: something else there
                yield self._gone(request, GONE_FROM_SITEMAPS)
            elif self.params.backfill is not None:  # an archived page that is no article: nothing more is asked
                self._outcome(request, Bucket.DROPPED, f"not_article/{slug(str(exc))}")
            elif canonical is not None and canonical.article.id == response.meta.get(ARTICLE_ID):
                yield self._same_account(canonical, response)  # an AMP copy: its article instead
            else:
                self._outcome(request, Bucket.DROPPED, f"not_article/{slug(str(exc))}")
                if canonical is not None:  # it names another article: that one's own request
                    yield from self._article_requests([canonical], "amp")
            return
        except (ValueError, LookupError, TypeError, etree.LxmlError, RecursionError) as exc:
            logger.error("cannot parse %s: %s: %s", response.url, type(exc).__name__, exc)
            self._outcome(request, Bucket.FAILED, "parse")
            return
        if not (raw.title and raw.blocks) and says_blocked(response.body):
            self._outcome(request, Bucket.FAILED, BLOCKED)
            return
        raw.lastmod = response.meta.get(LASTMOD)
        raw.requested_id = response.meta.get(ARTICLE_ID)
        for name, value in provenance(response.meta).items():
            setattr(raw, name, value)
        yield raw
        if not self._has_window() and self.params.backfill is None:
            # the article's own links (ticker, more news) find what listings no longer show
            links = ListingPage(decoded.text, response.url, root=page.root)
            found = self._article_links(self._hrefs(links), response.url, own=raw.id)
            yield from self._article_requests(found, "article")

    def _canonical(self, html: str, response: Response) -> Classified | None:
        """The article a page names as its canonical address (an AMP copy names its article)."""
        from arabtoday.discovery.listings import ListingPage

        canonical = ListingPage(html, response.url).canonical()
        found = classify(canonical, self.base_url) if canonical else None
        return found if found is not None and found.kind is Kind.ARTICLE and found.article is not None else None

    def _same_account(self, found: Classified, response: Response) -> Request:
        """The canonical article of a copy, requested under the copy's account."""
        return Request(found.url, self.parse_article, errback=self.article_failed, priority=PRIORITY["article"],
                       meta={ARTICLE_ID: response.meta.get(ARTICLE_ID), LASTMOD: response.meta.get(LASTMOD),
                             SOURCE: "amp", SAME_ACCOUNT: True})

    def article_failed(self, failure: Failure) -> Iterator[Gone]:
        request = failure.request  # type: ignore[attr-defined]
        if failure.check(Interrupted):
            return  # the run is stopping: the ledger counts it unfinished, the next run fetches it
        if failure.check(ArchiveSkip):
            self._outcome(request, failure.value.bucket, failure.value.reason)
            return
        bucket, reason = article_failure(failure)
        if reason == GONE and self.params.backfill is not None:
            # the archive does not hold the capture its index listed: says nothing of the site
            self._outcome(request, Bucket.FAILED, f"archive/http_{failure.value.response.status}")
            return
        if reason == GONE:  # 404 or 410: the removal pipeline decides what it means for the dataset
            yield self._gone(request, f"http_{failure.value.response.status}")
            return
        if reason == "robots_forbidden":
            self.stats.inc_value(Stat.BLOCKED.format(why="robots"))
            if request.meta.get("redirect_urls"):  # the site redirected it somewhere robots.txt forbids
                logger.warning("blocked a redirect from %s to %s: robots", request.meta["redirect_urls"][-1],
                               request.url)
                bucket, reason = Bucket.FAILED, "redirect/robots"
        self._outcome(request, bucket, reason)

    def _gone(self, request: Request, reason: str) -> Gone:
        article_id = request.meta.get(ARTICLE_ID) or ""
        return Gone(id=article_id, url=request.url, lang=article_id.partition("-")[0], reason=reason,
                    crawled_at=iso(datetime.now(timezone.utc)), requested_id=article_id,
                    lastmod=request.meta.get(LASTMOD))

    # -- rechecks ------------------------------------------------------------------------------------------------

    def discovery_over(self) -> None:
        """The first time the crawl is idle, every source has been read: ask once more for the articles
        no sitemap lists any more (:mod:`arabtoday.state.history`), one request each."""
        from arabtoday.state.history import History  # the extension's owner: loaded by the crawl, not by `scrapy list`

        if self.params.role == "worker" or self.params.backfill is not None:
            return  # a backfill reads no sitemap: nothing it does says an article vanished
        due = self.crawler.get_extension(History).rechecks_due()
        for article_id, url in due:
            parts = urlsplit(url)  # the address as it was found, on the site as it is crawled now
            url = f"{self.base_url}{parts.path}{'?' + parts.query if parts.query else ''}"
            self.crawler.engine.crawl(Request(url, self.parse_article, errback=self.article_failed,
                                              priority=PRIORITY["recheck"], dont_filter=True,
                                              meta={ARTICLE_ID: article_id, SOURCE: "recheck", RECHECK: True}))
        if due:
            raise DontCloseSpider

    def _outcome(self, request: Request, bucket: str, reason: str) -> None:
        self.crawler.signals.send_catch_log(signal=ARTICLE_OUTCOME, article_id=request.meta.get(ARTICLE_ID),
                                            url=request.url, bucket=bucket, reason=reason)

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
            self.stats.inc_value(Stat.DISCOVERY_SKIPPED.format(reason="out_of_window"))
            return False
        return True

    def _bad_source(self, url: str, source: str, exc: Exception) -> None:
        self.stats.inc_value(Stat.SOURCE_ERROR.format(kind=f"bad_{source}"))
        self._source_lost(source, url)
        logger.error("unreadable %s %s: %s", source, url, exc)

    def source_failed(self, failure: Failure) -> None:
        self._count_source_failure(failure, failure.request.meta.get(SOURCE, "source"))  # type: ignore[attr-defined]

    def _count_source_failure(self, failure: Failure, what: str) -> None:
        kind = failure_kind(failure)
        if isinstance(failure.value, OutOfScope | Interrupted):
            return  # counted and logged by the scope check; or the run is stopping
        if kind == "robots":
            self.stats.inc_value(Stat.BLOCKED.format(why="robots"))
        self.stats.inc_value(Stat.SOURCE_ERROR.format(kind=kind))
        if what != "robots":  # without robots.txt, the sitemap index is still read at its usual address
            self._source_lost(what, failure.request.url)  # type: ignore[attr-defined]
        logger.error("failed to fetch %s %s: %s", what, failure.request.url, kind)  # type: ignore[attr-defined]

    def _source_lost(self, source: str, url: str, count: int = 1) -> None:
        """A source of addresses that could not be fetched or read: counted (discovery incomplete), and
        its address kept for the report (the first few: a report names what to look at)."""
        self.stats.inc_value(Stat.SOURCE_FAILED.format(source=source), count)
        named = self.stats.get_value(Stat.SOURCES_FAILED_AT) or []
        if len(named) < FAILED_SOURCES_LISTED:
            self.stats.set_value(Stat.SOURCES_FAILED_AT, [*named, url])

    @property
    def stats(self) -> Any:
        return self.crawler.stats


def _content_type(response: Response) -> str | None:
    value = response.headers.get(b"Content-Type")
    return value.decode("latin-1") if value else None
