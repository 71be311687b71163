"""The frontier: discovered addresses wait here, lazily, until the scheduler has room.

Scrapy's scheduler keeps every request it is given in memory (without
``JOBDIR``) and has no bound: a sitemap of a million addresses becomes a
million queued requests. So the spider never yields what it discovers; it
hands each source (the entries of a sitemap read as a stream, a feed, the links
of a listing) to :meth:`Frontier.add` as an iterator, and the frontier pulls
requests from it only while fewer than ``ARABTODAY_MAX_QUEUED_REQUESTS`` wait
in the scheduler. Reading a source pauses while the queue is full (counted
once per pause, ``arabtoday/bounds/queue_full``); nothing is dropped. Sources of
article requests are drained before pages, and pages before sitemaps, so a
new sitemap is fetched only when the articles already known are under way:
memory stays at one or two sitemap bodies and a bounded queue.

With ``max_articles``, article sources are read only while articles emitted
plus articles in flight stay under the limit (a dropped one gives its place
back), so a limited run does not fetch the archive to throw it away.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider

from arabtoday.accounting import EMITTED, Ledger
from arabtoday.params import params_of
from arabtoday.signals import ARTICLE_DECIDED

logger = logging.getLogger(__name__)
ORDER = ("article", "page", "sitemap")  # which sources are read first
QUEUE_FULL = "arabtoday/bounds/queue_full"
SOURCE_ERROR = "arabtoday/errors/source/{kind}"


class Frontier:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        # with JOBDIR, Scrapy's queue is on disk and survives a pause: hand it everything at once
        # (a paused crawl must not lose what was discovered but not yet queued)
        self.max_queued = (float("inf") if crawler.settings.get("JOBDIR")
                           else crawler.settings.getint("ARABTODAY_MAX_QUEUED_REQUESTS"))
        self.sources: dict[str, deque[Iterator[Request | None]]] = {kind: deque() for kind in ORDER}
        self._pulling = False
        self._paused = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Frontier:
        ext = cls(crawler)
        crawler.signals.connect(ext.top_up, signal=signals.request_reached_downloader)
        crawler.signals.connect(ext.top_up, signal=ARTICLE_DECIDED)
        crawler.signals.connect(ext.spider_idle, signal=signals.spider_idle)
        return ext

    def add(self, requests: Iterator[Request | None], kind: str) -> None:
        """A source of requests (``None`` entries are skipped), read only when there is room."""
        self.sources[kind].append(requests)
        self.top_up()

    @property
    def pending(self) -> bool:
        return any(self.sources.values())

    def _queued(self) -> int:
        engine = self.crawler.engine
        scheduler = engine.scheduler if engine is not None else None
        try:
            return len(scheduler) if scheduler is not None else 0  # type: ignore[arg-type]
        except TypeError:  # a scheduler without a length: count nothing, bound by the pages' own caps
            return 0

    def _article_budget(self) -> float:
        limit = params_of(self.crawler).max_articles
        if limit is None:
            return float("inf")
        ledger = self.crawler.get_extension(Ledger)
        return limit - int(self.crawler.stats.get_value(EMITTED, 0)) - len(ledger.open)

    def top_up(self, *args: object, **kwargs: object) -> int:
        """Move requests from the sources to the scheduler until it holds ``max_queued``."""
        engine = self.crawler.engine
        if self._pulling or engine is None or engine.spider is None or not self.pending:
            return 0
        self._pulling = True
        moved = 0
        try:
            room = self.max_queued - self._queued() if self.max_queued != float("inf") else float("inf")
            while room > 0:
                request = self._next()
                if request is None:
                    break
                engine.crawl(request)
                moved += 1
                room -= 1
            if room <= 0 and self.pending and not self._paused:
                self._paused = True
                self.crawler.stats.inc_value(QUEUE_FULL)
                logger.debug("scheduler holds %d requests: discovery paused", self.max_queued)
            elif room > 0:
                self._paused = False
        finally:
            self._pulling = False
        return moved

    def _next(self) -> Request | None:
        for kind in ORDER:
            if kind == "article" and self._article_budget() <= 0:
                continue
            queue = self.sources[kind]
            while queue:
                try:
                    request = next(queue[0])
                except StopIteration:
                    queue.popleft()
                    continue
                except (ValueError, LookupError, OSError) as exc:  # a source that breaks mid-way
                    queue.popleft()
                    self.crawler.stats.inc_value(SOURCE_ERROR.format(kind=kind))
                    logger.error("a %s source stopped mid-way: %s: %s", kind, type(exc).__name__, exc)
                    continue
                if request is not None:
                    return request
        return None

    def spider_idle(self) -> None:
        """The scheduler ran dry: feed it, and keep the spider open while there is more."""
        if self.top_up():
            raise DontCloseSpider("the frontier has more to request")
