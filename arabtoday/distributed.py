"""Distributed mode: one setting (``ARABTODAY_REDIS_URL``) and this add-on does the rest.

Several ``scrapy crawl arabtoday`` processes, on one machine or many, share
one crawl through one Redis: scrapy-redis' scheduler and request filter (each
page fetched once by whichever worker takes it), the Redis state store (each
article emitted once, copies found across workers), and the run bookkeeping
below. The add-on is listed in ``ADDONS`` and does nothing unless the URL is
set; with it, it switches the scheduler and filter, gives each worker its own
output file, and adds :class:`DistributedRun`.

Keys (``ARABTODAY_REDIS_PREFIX``, default ``arabtoday``), besides the state's
(:mod:`arabtoday.state.redis`): ``{p}:requests`` and ``{p}:dupefilter``
(scrapy-redis), ``{p}:activity`` (when any worker last had work),
``{p}:busy:<worker>`` (requests a worker has in flight; expires when the
worker stops refreshing it, so a dead worker does not keep the others up).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import redis
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from twisted.internet import task

from arabtoday.params import params_of

logger = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 2.0
BUSY_TTL_FACTOR = 5  # a worker silent for this many heartbeats is gone


class DistributedAddon:
    """Carries every scrapy-redis setting; inert without ``ARABTODAY_REDIS_URL``."""

    def update_settings(self, settings: Any) -> None:
        url = settings.get("ARABTODAY_REDIS_URL")
        if not url:
            return
        prefix = settings.get("ARABTODAY_REDIS_PREFIX")
        for name, value in {
            "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
            "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
            "REDIS_URL": url,
            "SCHEDULER_PERSIST": True,  # a worker that finishes must not wipe the queue of the others
            "SCHEDULER_QUEUE_KEY": f"{prefix}:requests",
            "SCHEDULER_DUPEFILTER_KEY": f"{prefix}:dupefilter",
            "DUPEFILTER_KEY": f"{prefix}:dupefilter",
        }.items():
            settings.set(name, value, priority="addon")
        # The engine pulls requests until CONCURRENT_REQUESTS are in its downloader, even when
        # the per-host limit lets only a few run: a worker would hoard the shared queue.
        per_host = settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
        if settings.getint("CONCURRENT_REQUESTS") > per_host:
            settings.set("CONCURRENT_REQUESTS", per_host, priority="addon")
        default_feed = settings.get("ARABTODAY_DEFAULT_FEED") or ""
        feeds = settings.getdict("FEEDS")
        if default_feed in feeds and "%(worker)s" not in default_feed:  # one file per worker
            feeds[default_feed.replace(".jsonl", "-%(worker)s.jsonl")] = feeds.pop(default_feed)
            settings.set("FEEDS", feeds, priority="addon")
        extensions = settings.getdict("EXTENSIONS")
        extensions["arabtoday.distributed.DistributedRun"] = 160
        settings.set("EXTENSIONS", extensions, priority="addon")


class DistributedRun:
    """The seeder starts a run (empties the shared queue, filter and claims); every worker
    stays while any worker has work, queued or in flight, and closes after
    ``ARABTODAY_REDIS_IDLE_SECONDS`` of calm everywhere."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.prefix = settings.get("ARABTODAY_REDIS_PREFIX")
        self.calm = settings.getfloat("ARABTODAY_REDIS_IDLE_SECONDS")
        self.r = redis.Redis.from_url(settings.get("ARABTODAY_REDIS_URL"),
                                      socket_timeout=settings.getfloat("ARABTODAY_REDIS_TIMEOUT"))
        self.worker = ""
        self._idle_since: float | None = None
        self._beat: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DistributedRun:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(ext.response_received, signal=signals.response_received)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def key(self, name: str) -> str:
        return f"{self.prefix}:{name}"

    def spider_opened(self, spider: Any) -> None:
        self.worker = getattr(spider, "worker", "worker")
        if params_of(self.crawler).role == "seed":
            self.r.delete(self.key("requests"), self.key("dupefilter"), self.key("run"))
        self.touch()
        self._beat = task.LoopingCall(self.heartbeat)
        self._beat.start(HEARTBEAT_SECONDS, now=True)

    def in_flight(self) -> int:
        engine = self.crawler.engine
        if engine is None:
            return 0
        return len(engine.downloader.active) + (0 if engine.scraper.slot is None else len(engine.scraper.slot.active))

    def heartbeat(self) -> None:
        busy = self.in_flight()
        ttl = int(HEARTBEAT_SECONDS * BUSY_TTL_FACTOR)
        if busy:
            self.r.set(self.key(f"busy:{self.worker}"), busy, ex=ttl)
            self.touch()
        else:
            self.r.delete(self.key(f"busy:{self.worker}"))

    def touch(self) -> None:
        self.r.set(self.key("activity"), time.time())

    def response_received(self) -> None:
        self._idle_since = None

    def others_busy(self) -> bool:
        mine = self.key(f"busy:{self.worker}").encode()
        return any(k != mine for k in self.r.scan_iter(match=self.key("busy:*"), count=100))

    def spider_idle(self) -> None:
        if int(self.r.zcard(self.key("requests"))) > 0:
            self._idle_since = None
            raise DontCloseSpider("the shared queue has requests")
        if self.others_busy():
            self._idle_since = None
            raise DontCloseSpider("another worker has requests in flight")
        now = time.monotonic()
        self._idle_since = self._idle_since or now
        value = self.r.get(self.key("activity"))
        since_activity = time.time() - float(value) if value else float("inf")
        if now - self._idle_since < self.calm or since_activity < self.calm:
            raise DontCloseSpider("other workers may still add requests")

    def spider_closed(self) -> None:
        if self._beat is not None and self._beat.running:
            self._beat.stop()
        self.r.delete(self.key(f"busy:{self.worker}"))
        self.r.close()
