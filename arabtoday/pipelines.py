"""Item pipelines: each does one thing, and counts what it drops.

Order (``ITEM_PIPELINES``):

=====  ==========================  ==================================================
 100   BoilerplatePipeline         page text -> clean SPEC record (``cleaning.clean``)
 200   RequiredFieldsPipeline      drop records without title, body or published_at
 300   WindowPipeline              drop records outside ``since``/``until``
 400   ArticleIdPipeline           one record per article id within a run
 500   IncrementalPipeline         across runs: only new or changed articles
 600   ContentDedupPipeline        republished copies (exact and near) are not emitted
 900   MaxArticlesPipeline         stop at ``max_articles``
=====  ==========================  ==================================================

The same classes run offline in ``python -m arabtoday extract``
(:mod:`arabtoday.offline`); they get settings and a stats collector, and a
crawler only when there is one.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any, NoReturn, Protocol

from scrapy.exceptions import DropItem
from scrapy.settings import BaseSettings
from scrapy.utils.defer import deferred_from_coro

from arabtoday.cleaning import clean
from arabtoday.items import REQUIRED_FIELDS, Article, RawArticle
from arabtoday.state import StateStore, Status
from arabtoday.state.extension import get_state, open_memory_store
from arabtoday.stats import Stat

logger = logging.getLogger(__name__)


class StatsLike(Protocol):
    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None: ...
    def get_value(self, key: str, default: Any = None) -> Any: ...


class Stage:
    """Base of the pipelines: settings and stats in, ``drop`` with a counted reason."""

    def __init__(self, settings: BaseSettings, stats: StatsLike, crawler: Any = None) -> None:
        self.settings, self.stats, self.crawler = settings, stats, crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> Stage:
        return cls(crawler.settings, crawler.stats, crawler)

    @property
    def params(self) -> Any:
        spider = getattr(self.crawler, "spider", None)
        return getattr(spider, "params", None)

    def drop(self, reason: str, item: Article | RawArticle, detail: str = "") -> NoReturn:
        self.stats.inc_value(Stat.DROPPED.format(reason=reason))
        raise DropItem(f"{reason}{': ' + detail if detail else ''} [{item.id} {item.url}]", log_level="INFO")


class BoilerplatePipeline(Stage):
    """Turns what a page object read into the clean record: boilerplate out,
    dateline/author/source split off (:func:`arabtoday.cleaning.clean`)."""

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, RawArticle):
            return item
        self.stats.inc_value(Stat.PAGES_PARSED)
        self.stats.inc_value(Stat.EXTRACTOR.format(name=item.extractor))
        if item.extractor == "fallback":
            self.stats.inc_value(Stat.FALLBACK_PAGES)
        for field in item.fallback_fields:
            self.stats.inc_value(Stat.FALLBACK_FIELD.format(field=field))
        article = clean(item)
        article.lastmod = item.lastmod
        return article


class RequiredFieldsPipeline(Stage):
    """A record without title, body or publication date is dropped, never exported half-empty."""

    def process_item(self, item: Article) -> Article:
        for field in REQUIRED_FIELDS:
            if not getattr(item, field):
                self.drop(f"missing_{field}", item)
        return item


class WindowPipeline(Stage):
    """``since``/``until`` apply to the publication day (UTC)."""

    def process_item(self, item: Article) -> Article:
        params = self.params
        if params is None or (params.since is None and params.until is None):
            return item
        day = date.fromisoformat(item.published_at[:10]) if item.published_at else None
        if day and not params.in_window(day):
            self.drop("out_of_window", item, item.published_at or "")
        return item


class ArticleIdPipeline(Stage):
    """One record per article id, whatever address the page was reached by,
    and whichever worker fetched it (the claim is atomic in the shared state)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seen: set[str] = set()

    def claim(self, article_id: str) -> bool:
        if self.crawler is not None:
            return get_state(self.crawler).claim_run(article_id)
        if article_id in self.seen:
            return False
        self.seen.add(article_id)
        return True

    def process_item(self, item: Article) -> Article:
        if not self.claim(item.id):
            self.stats.inc_value(Stat.DUPLICATE.format(kind="same_id"))
            raise DropItem(f"same article reached twice [{item.id} {item.url}]", log_level="DEBUG")
        return item


class IncrementalPipeline(Stage):
    """Across runs: an article already in the dataset with the same text is not
    emitted again; one whose text changed is, as an update (same id, new hash)."""

    offline = False  # re-extracting saved pages is not a crawl increment

    def process_item(self, item: Article) -> Article:
        if not self.settings.getbool("ARABTODAY_INCREMENTAL"):
            return item
        store = get_state(self.crawler)
        seen = store.get(item.id)
        if seen is None or seen.status is not Status.EMITTED:
            return item  # new (or failed before, or a copy whose text is now its own)
        if seen.content_hash == item.content_hash:
            store.mark(item.id, seen.status, lastmod=item.lastmod)  # remember the new lastmod: no refetch next run
            self.stats.inc_value(Stat.SKIPPED.format(reason="unchanged"))
            raise DropItem(f"unchanged since last run [{item.id}]", log_level="DEBUG")
        item.change = "updated"
        return item


class ContentDedupPipeline(Stage):
    """Republished copies (the same text under a new id or headline, verbatim
    or with small edits) are not emitted: counted, and recorded in the state
    so they are not fetched again. With ``ARABTODAY_EMIT_DUPLICATES`` they are
    emitted with ``duplicate_of`` set instead. Editions never match each other.

    Within a run the lower id (the earlier publication) is the original: an
    item waits, at most ``ARABTODAY_DEDUP_HOLD_SECONDS``, while an article of
    its edition with a lower id is being downloaded or processed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.emit_duplicates = self.settings.getbool("ARABTODAY_EMIT_DUPLICATES")
        self.hold = self.settings.getfloat("ARABTODAY_DEDUP_HOLD_SECONDS")
        self.hold_max = self.settings.getint("ARABTODAY_DEDUP_HOLD_MAX_ITEMS")
        self._private: StateStore | None = None

    @property
    def store(self) -> StateStore:
        if self.crawler is not None:
            return get_state(self.crawler)
        if self._private is None:  # offline: dedup among the pages given
            self._private = open_memory_store(self.settings)
        return self._private

    async def process_item(self, item: Article) -> Article:
        spider = getattr(self.crawler, "spider", None)
        if spider is not None and self.hold > 0 and not await spider.wait_for_lower_ids(item.id, self.hold,
                                                                                        self.hold_max):
            self.stats.inc_value("arabtoday/dedup/order_not_waited")
        return self.decide(item)

    def decide(self, item: Article) -> Article:
        fp = self.store.fingerprinter.fingerprint(item.lang, item.body, item.content_hash)
        match = self.store.claim_index(item.id, fp)
        if match is None:
            return item
        kind, original = match
        self.stats.inc_value(Stat.DUPLICATE.format(kind=kind))
        if self.emit_duplicates:
            item.duplicate_of = original
            return item
        if self.crawler is not None:
            self.store.mark(item.id, Status.DUPLICATE, item.content_hash, item.lastmod)
        raise DropItem(f"{kind} copy of {original} [{item.id} {item.url}]", log_level="INFO")


class MaxArticlesPipeline(Stage):
    """Never more than ``max_articles`` records, even with requests still in flight."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.passed = 0

    def process_item(self, item: Article) -> Article:
        limit = self.params.max_articles if self.params else None
        if limit is not None and self.passed >= limit:
            self.drop("max_articles", item)
        self.passed += 1
        self.stats.inc_value(Stat.EMITTED.format(lang=item.lang))
        self.stats.inc_value(Stat.EMITTED_UPDATED if item.change == "updated" else Stat.EMITTED_NEW)
        if limit is not None and self.passed >= limit and self.crawler is not None:
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="max_articles"))
        return item
