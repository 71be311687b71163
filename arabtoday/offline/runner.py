"""The crawl's item pipelines, run over saved pages: one pipeline runner for both.

``arabtoday extract`` feeds what the page objects read from saved
files through Scrapy's own ``ItemPipelineManager``, built from the project's
``ITEM_PIPELINES`` for a real crawler with the project's extensions (state,
ordering hold): the same classes, in the same order, with the same settings,
and no ``crawler=None`` branch anywhere. Only the parts that belong to a
crawl of the site are set aside: no persistent state (re-extracting saved
pages is not an increment of a dataset: each run deduplicates among the pages
it is given), no distributed mode, no report file.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.pipelines import ItemPipelineManager
from scrapy.settings import BaseSettings

from arabtoday.export.exporters import receipts_of
from arabtoday.signals import RECORDS_DURABLE
from arabtoday.stats import PREFIX, Bucket, article_outcome

logger = logging.getLogger(__name__)

# What a run over saved pages sets aside from the crawl's settings.
OFFLINE_SETTINGS = {
    "ARABTODAY_STATE_DIR": None,
    "ARABTODAY_REDIS_URL": None,
    "ARABTODAY_INCREMENTAL": False,
    "ARABTODAY_DEDUP_HOLD_SECONDS": 0,  # pages come one by one: nothing is ever in flight
    "ARABTODAY_REPORT_PATH": None,
    "FEEDS": {},
    "LOG_ENABLED": False,
    "TELNETCONSOLE_ENABLED": False,
}


class DictStats:
    """Counts of a run over saved pages (what the CLI prints)."""

    def __init__(self) -> None:
        self.values: Counter[str] = Counter()

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self.values[key] += count

    def set_value(self, key: str, value: int) -> None:
        self.values[key] = value

    def get_value(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def get_stats(self) -> dict[str, Any]:
        return dict(self.values)


def offline_crawler(settings: BaseSettings) -> Crawler:
    """A configured crawler with the project's extensions, never started (no engine, no spider).

    ``scrapy.utils.test.get_crawler`` is Scrapy's public way to build one; its
    name notwithstanding, it only creates a runner and applies the settings."""
    from scrapy.utils.reactor import install_reactor, is_reactor_installed
    from scrapy.utils.test import get_crawler

    if not is_reactor_installed():  # the crawl's reactor (asyncio), never run: the loop is driven below
        install_reactor(settings.get("TWISTED_REACTOR"), settings.get("ASYNCIO_EVENT_LOOP"))
    values = {k: v for k, v in settings.copy_to_dict().items() if not k.startswith("SCHEDULER")}
    return get_crawler(settings_dict={**values, **OFFLINE_SETTINGS})


def run_pipelines(items: Iterable[Any], settings: BaseSettings, stats: DictStats) -> Iterator[Any]:
    """Yield what comes out of the pipelines; drops are counted in ``stats`` by bucket and reason."""
    crawler = offline_crawler(settings)
    crawler.stats.open_spider()
    manager = ItemPipelineManager.from_crawler(crawler)
    loop = asyncio.get_event_loop()  # the asyncio reactor's loop, not running: driven item by item
    loop.run_until_complete(manager.open_spider_async())
    try:
        for item in items:
            try:
                result = loop.run_until_complete(manager.process_item_async(item))
            except DropItem as exc:
                bucket, reason = getattr(exc, "bucket", Bucket.DROPPED), getattr(exc, "reason", "other")
                stats.inc_value(article_outcome(bucket, reason))
                logger.info("%s: %s", bucket, exc)
                continue
            outcome = getattr(result, "outcome", None)  # a line of history that stands for its page's outcome
            if outcome is not None:
                stats.inc_value(article_outcome(*outcome))
            yield result
            # the caller has written it: the run's (in-memory) state takes it, as from a crawl's exporter,
            # so that a later capture of the same article with another text is its next revision
            crawler.signals.send_catch_log(signal=RECORDS_DURABLE, records=receipts_of(result), path=None,
                                           offset=None)
    finally:
        loop.run_until_complete(manager.close_spider_async())
        for key, value in crawler.stats.get_stats().items():
            if key.startswith(PREFIX) and isinstance(value, int):
                stats.inc_value(key, value)
        _close_extensions(crawler)


def _close_extensions(crawler: Crawler) -> None:
    """The state extension owns an (in-memory) store: close it as the engine would."""
    from arabtoday.state.extension import StateExtension

    crawler.get_extension(StateExtension).engine_stopped()
