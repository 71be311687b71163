"""The frontier: discovered requests leave a callback's output only while the scheduler has room.

Scrapy's scheduler keeps every request it is given in memory (without
``JOBDIR``) and has no bound: a sitemap of a million addresses would become a
million queued requests. So the spider yields what it discovers lazily (a
sitemap read as a stream yields one request per entry, as it reads), and
:class:`arabtoday.middlewares.FrontierMiddleware`, the spider middleware
nearest the engine, awaits :meth:`Frontier.admit` before it passes each
request on. A request is admitted while fewer than
``ARABTODAY_MAX_QUEUED_REQUESTS`` wait in the scheduler; otherwise the output
it came from pauses (counted once per pause, ``arabtoday/bounds/queue_full``)
until downloads make room. Nothing is dropped. Every spider middleware before
it (depth, referer, the incremental skip) has seen the request by then.

Waiting outputs resume in order of kind: article requests first, then pages
(feeds, listings), then sitemaps, so that a new sitemap is fetched only when
the articles already known are under way: memory stays at one or two sitemap
bodies and a bounded queue. ``SCRAPER_SLOT_MAX_ACTIVE_SIZE`` is raised to hold
a paused sitemap (the spider sets it from the sitemap bound).

With ``max_articles``, article requests are admitted only while articles
emitted plus articles in flight stay under the limit (a dropped one gives its
place back), so a limited run does not fetch the archive to throw it away.

A paused output holds its response in Scrapy's scraper, and the engine's
close waits for it: waiting outputs are let go at once when the run stops
(``RUN_STOPPING``), and a periodic check lets them go whenever the engine
cannot make progress (not running, or backing out with nothing downloading).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler

from arabtoday.meta import ARTICLE_ID, SOURCE
from arabtoday.params import params_of
from arabtoday.run.ledger import Ledger
from arabtoday.run.stopping import running_engine
from arabtoday.signals import ARTICLE_DECIDED, RUN_STOPPING
from arabtoday.stats import Stat

logger = logging.getLogger(__name__)

ARTICLE, PAGE, SITEMAP = "article", "page", "sitemap"
ORDER = (ARTICLE, PAGE, SITEMAP)  # which waiting outputs resume first
ADMITTED = "frontier_admitted"  # request meta: admitted, not yet in the scheduler
CHECK_SECONDS = 0.5  # while outputs wait: how often the engine's progress is looked at


def kind_of(request: Request) -> str:
    if request.meta.get(ARTICLE_ID):
        return ARTICLE
    return SITEMAP if request.meta.get(SOURCE) == SITEMAP else PAGE


class Frontier:
    """The extension that owns the bound (``crawler.get_extension(Frontier)``)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        # with JOBDIR, Scrapy's queue is on disk and survives a pause: it takes everything at once
        # (a paused crawl must not lose what was discovered but not yet queued)
        self.max_queued = (float("inf") if crawler.settings.get("JOBDIR")
                           else crawler.settings.getint("ARABTODAY_MAX_QUEUED_REQUESTS"))
        self.waiting: dict[str, deque[asyncio.Future[None]]] = {kind: deque() for kind in ORDER}
        self.in_transit = 0  # admitted, not yet scheduled
        self.articles_in_transit = 0
        self.stopping = False
        self.paused = False
        self._checker: asyncio.Task[None] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Frontier:
        ext = cls(crawler)
        crawler.signals.connect(ext.request_scheduled, signal=signals.request_scheduled)
        crawler.signals.connect(ext.wake, signal=signals.request_reached_downloader)
        crawler.signals.connect(ext.wake, signal=signals.request_left_downloader)
        crawler.signals.connect(ext.wake, signal=ARTICLE_DECIDED)
        crawler.signals.connect(ext.run_stopping, signal=RUN_STOPPING)
        crawler.signals.connect(ext.run_stopping, signal=signals.spider_closed)
        return ext

    # -- admission ---------------------------------------------------------------------------------------------

    async def admit(self, request: Request) -> None:
        """Return once ``request`` may go to the scheduler (at once when there is room)."""
        kind = kind_of(request)
        if not self._ahead_of(kind) and self._room_for(kind):
            self._count(kind, 1)
            request.meta[ADMITTED] = True
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting[kind].append(waiter)
        if not self.paused:
            self.paused = True
            self.crawler.stats.inc_value(Stat.BOUND.format(name="queue_full"))
            logger.debug("the scheduler holds %s requests: discovery paused", self.max_queued)
        self._watch()
        try:
            await waiter  # counted by whoever let it go (wake), so that the next check sees it
        except asyncio.CancelledError:
            with contextlib.suppress(ValueError):
                self.waiting[kind].remove(waiter)
            raise
        request.meta[ADMITTED] = True

    @property
    def pending(self) -> bool:
        """Outputs are waiting for room."""
        return any(self.waiting.values())

    def _ahead_of(self, kind: str) -> bool:
        """Outputs of this kind, or of a more urgent one that room would let go, wait already (they go
        first). Articles held by the ``max_articles`` budget hold no page or sitemap back, as in :meth:`wake`."""
        return any(self.waiting[k] and (k == kind or self._room_for(k)) for k in ORDER[: ORDER.index(kind) + 1])

    def _room_for(self, kind: str) -> bool:
        if self.stopping:
            return True
        if self._queued() + self.in_transit >= self.max_queued:
            return False
        return kind != ARTICLE or self._article_budget() > 0

    def _count(self, kind: str, n: int) -> None:
        """Requests admitted and not yet in the scheduler."""
        self.in_transit = max(0, self.in_transit + n)
        if kind == ARTICLE:
            self.articles_in_transit = max(0, self.articles_in_transit + n)

    def request_scheduled(self, request: Request) -> None:
        if request.meta.pop(ADMITTED, False):
            self._count(kind_of(request), -1)

    def _queued(self) -> int:
        engine = running_engine(self.crawler)
        scheduler = engine.scheduler if engine is not None else None
        try:
            return len(scheduler) if scheduler is not None else 0  # type: ignore[arg-type]
        except TypeError:  # a scheduler without a length: count nothing, bound by the pages' own caps
            return 0

    def _article_budget(self) -> float:
        limit = params_of(self.crawler).max_articles
        if limit is None:
            return float("inf")
        emitted = int(self.crawler.stats.get_value(Stat.EMITTED, 0))
        in_flight = len(self.crawler.get_extension(Ledger).open)
        return limit - emitted - in_flight - self.articles_in_transit

    # -- waking ------------------------------------------------------------------------------------------------

    def wake(self, *args: Any, **kwargs: Any) -> None:
        """Let waiting outputs go, most urgent kind first, while there is room."""
        for kind in ORDER:
            queue = self.waiting[kind]
            while queue and self._room_for(kind):
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)
                    self._count(kind, 1)
        if not self.pending:
            self.paused = False

    def release_all(self) -> None:
        for queue in self.waiting.values():
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)
        self.paused = False

    def run_stopping(self, *args: Any, **kwargs: Any) -> None:
        """The run stops: nothing waits for room any more (the engine's close would wait on it)."""
        self.stopping = True
        self.release_all()

    def _watch(self) -> None:
        if self._checker is None or self._checker.done():
            self._checker = asyncio.get_running_loop().create_task(self._check_progress())

    async def _check_progress(self) -> None:
        """While outputs wait: wake them when a signal was missed, and let them all go when the engine
        cannot make progress (stopping, or backing out with nothing downloading: nothing would ever
        make room)."""
        while self.pending:
            await asyncio.sleep(CHECK_SECONDS)
            engine = running_engine(self.crawler)
            if engine is None or not engine.running or (engine.needs_backout() and not engine.downloader.active):
                self.release_all()
                return
            self.wake()
