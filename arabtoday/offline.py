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
    ordered = sorted(settings.getdict("ITEM_PIPELINES").items(), key=lambda kv: kv[1])
    stages = []
    for path, priority in ordered:
        if priority is None:
            continue
        cls = load_object(path)
        if getattr(cls, "offline", True):
            stages.append(cls(settings, stats))
    return stages


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
                logger.info("dropped: %s", exc)
                continue
            yield item
    finally:
        for stage in stages:
            if hasattr(stage, "close_spider"):
                stage.close_spider()
        loop.close()
