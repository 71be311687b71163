"""Wires the state into a crawl: opened (and recovered) once per crawler,
advanced only by the exporter's durability signal, closed when the engine stops."""

from __future__ import annotations

import logging
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler

from arabtoday.state import Emitted, StateStore, Status, make_fingerprinter, open_store, recover
from arabtoday.stats import ARTICLE_FAILED, OUTPUT_OPENED, RECORDS_DURABLE

logger = logging.getLogger(__name__)
_ATTR = "_arabtoday_state"


def open_memory_store(settings: Any) -> StateStore:
    """A private, in-memory state with the crawl's dedup settings (offline ``extract``)."""
    from arabtoday.state.sqlite import SqliteStore

    return SqliteStore(None, make_fingerprinter(settings))


def get_state(crawler: Crawler) -> StateStore:
    """The crawler's state store, opened and recovered on first use."""
    store = getattr(crawler, _ATTR, None)
    if store is None:
        store = open_store(crawler.settings)
        recovered = recover(store)
        if recovered:
            crawler.stats.set_value("arabtoday/state/recovered", recovered)
        setattr(crawler, _ATTR, store)
    return store


class StateExtension:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StateExtension:
        ext = cls(crawler)
        crawler.signals.connect(ext.output_opened, signal=OUTPUT_OPENED)
        crawler.signals.connect(ext.records_durable, signal=RECORDS_DURABLE)
        crawler.signals.connect(ext.article_failed, signal=ARTICLE_FAILED)
        crawler.signals.connect(ext.engine_stopped, signal=signals.engine_stopped)
        return ext

    @property
    def store(self) -> StateStore:
        return get_state(self.crawler)

    def output_opened(self, path: str, offset: int) -> None:
        self.store.register_output(path, offset)

    def records_durable(self, records: list[Any], path: str, offset: int) -> None:
        self.store.commit_emitted(
            [Emitted(r.id, r.lang, r.content_hash, r.lastmod, r.duplicate_of, r.crawled_at) for r in records],
            path, offset)

    def article_failed(self, article_id: str | None, url: str, reason: str) -> None:
        if article_id:
            self.store.mark(article_id, Status.FAILED)

    def engine_stopped(self) -> None:
        store = getattr(self.crawler, _ATTR, None)
        if store is not None:
            store.close()
            setattr(self.crawler, _ATTR, None)
