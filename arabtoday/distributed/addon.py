"""The add-on (``ADDONS``): inert without ``ARABTODAY_REDIS_URL``; with it, every scrapy-redis setting.

It switches the scheduler and the request filter to the shared ones, gives
each worker its own output file, and adds :class:`arabtoday.distributed.workers.DistributedRun`.
"""

from __future__ import annotations

from typing import Any

from redis.backoff import NoBackoff
from redis.retry import Retry
from scrapy.settings import SETTINGS_PRIORITIES

SCHEDULER_PATH = "arabtoday.distributed.scheduler.SharedScheduler"
RUN_PATH = "arabtoday.distributed.workers.DistributedRun"
ADDON_PRIORITY = SETTINGS_PRIORITIES["addon"]
RUN_ORDER = 160  # after the state (100) and the ledger (110): it reads both


class DistributedAddon:
    """Carries every scrapy-redis setting; inert without ``ARABTODAY_REDIS_URL``."""

    def update_settings(self, settings: Any) -> None:
        url = settings.get("ARABTODAY_REDIS_URL")
        if not url:
            return
        prefix = settings.get("ARABTODAY_REDIS_PREFIX")
        timeout = settings.getfloat("ARABTODAY_REDIS_TIMEOUT")
        for name, value in {
            "SCHEDULER": SCHEDULER_PATH,
            "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
            "REDIS_URL": url,
            # scrapy-redis' own client (queue and filter): the same bound as ours, no hidden retries
            "REDIS_PARAMS": {"socket_timeout": timeout, "socket_connect_timeout": timeout,
                             "retry_on_timeout": False, "retry": Retry(NoBackoff(), 0)},
            "SCHEDULER_PERSIST": True,  # a worker that finishes must not wipe the queue of the others
            "SCHEDULER_QUEUE_KEY": f"{prefix}:requests",
            "SCHEDULER_DUPEFILTER_KEY": f"{prefix}:dupefilter",
            "DUPEFILTER_KEY": f"{prefix}:dupefilter",
        }.items():
            settings.set(name, value, priority="addon")
        # The engine pulls requests until CONCURRENT_REQUESTS are in its downloader, even when
        # the per-host limit lets only a few run: a worker would hoard the shared queue.
        # (at the project's priority: the project sets CONCURRENT_REQUESTS, and an add-on's priority is lower)
        per_host = settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
        if settings.getint("CONCURRENT_REQUESTS") > per_host:
            settings.set("CONCURRENT_REQUESTS", per_host, priority="project")
        default_feed = settings.get("ARABTODAY_DEFAULT_FEED") or ""
        feeds = settings.getdict("FEEDS")
        if default_feed in feeds and "%(worker)s" not in default_feed:  # one file per worker
            feeds[default_feed.replace(".jsonl", "-%(worker)s.jsonl")] = feeds.pop(default_feed)
            # at the priority the default was given (the crawl command's): an add-on's would lose to it
            settings.set("FEEDS", feeds, priority=max(settings.getpriority("FEEDS") or 0, ADDON_PRIORITY))
        # a key added to the component dict itself: setting the whole dict at the add-on's priority
        # would lose to the project's EXTENSIONS and silently leave the run without its bookkeeping
        settings["EXTENSIONS"].set(RUN_PATH, RUN_ORDER, priority="addon")
