"""The crawl's item pipelines, run without a crawl.

``python -m arabtoday extract`` feeds saved pages through exactly the
pipeline classes listed in ``ITEM_PIPELINES`` (those that make sense without
a crawl: ``offline = True``), in the same order, with the same settings.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from scrapy.exceptions import DropItem
from scrapy.settings import BaseSettings
from scrapy.utils.misc import load_object

logger = logging.getLogger(__name__)


class DictStats:
    """The part of Scrapy's stats collector the pipelines use."""

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


def offline_stages(settings: BaseSettings, stats: DictStats) -> list[Any]:
    """The crawl's pipelines, built by Scrapy for a crawler of saved pages (no engine, no spider)."""
    from scrapy.utils.test import get_crawler  # Scrapy's public way to build a configured crawler

    crawler = get_crawler(settings_dict={k: v for k, v in settings.copy_to_dict().items()
                                         if k.startswith("ARABTODAY_") or k == "ITEM_PIPELINES"}
                          | {"ARABTODAY_STATE_DIR": None, "ARABTODAY_REDIS_URL": None,
                             "ARABTODAY_INCREMENTAL": False, "EXTENSIONS": {}, "LOG_ENABLED": False,
                             "EXTENSIONS_BASE": {}})
    crawler.stats = stats  # type: ignore[assignment]
    from arabtoday.ordering import OrderingHold
    from arabtoday.state.extension import StateExtension

    parts = {StateExtension: StateExtension(crawler), OrderingHold: OrderingHold(crawler)}
    crawler.get_extension = lambda cls: parts[cls]  # type: ignore[method-assign]
    ordered = sorted(settings.getdict("ITEM_PIPELINES").items(), key=lambda kv: kv[1])
    return [load_object(path).from_crawler(crawler) for path, priority in ordered if priority is not None]


def run_pipelines(items: Iterable[Any], settings: BaseSettings, stats: DictStats) -> Iterator[Any]:
    """Yield what comes out of the pipelines; dropped items are logged and counted."""
    stages = offline_stages(settings, stats)
    loop = asyncio.new_event_loop()  # for the pipelines whose process_item is a coroutine
    for stage in stages:
        if hasattr(stage, "open_spider"):
            stage.open_spider()
    try:
        for item in items:
            try:
                for stage in stages:
                    item = stage.process_item(item)
                    if inspect.isawaitable(item):
                        item = loop.run_until_complete(item)
            except DropItem as exc:
                bucket, reason = getattr(exc, "bucket", "dropped"), getattr(exc, "reason", "other")
                stats.inc_value(f"arabtoday/articles/{bucket}/{reason}")
                logger.info("%s: %s", bucket, exc)
                continue
            yield item
    finally:
        for stage in stages:
            if hasattr(stage, "close_spider"):
                stage.close_spider()
        loop.close()
