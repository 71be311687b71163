"""Item pipelines: each does one thing, and says which bucket what it drops goes to.

Order (``ITEM_PIPELINES``):

=====  ==========================  ==================================================
 100   BoilerplatePipeline         page text -> clean record (``cleaning.clean``)
 200   RequiredFieldsPipeline      dropped: records without title, body or published_at
 250   SchemaPipeline              dropped: records the JSON Schema refuses (``invalid/<field>``)
 300   WindowPipeline              dropped: records outside ``since``/``until``
 400   ArticleIdPipeline           duplicate: one record per article id within a run
 500   IncrementalPipeline         skipped: across runs, only new or changed articles
 600   ContentDedupPipeline        duplicate: republished copies (exact and near)
 900   MaxArticlesPipeline         dropped: past ``max_articles``
=====  ==========================  ==================================================

Every drop is a :class:`arabtoday.run.ledger.Dropped` naming its bucket and
reason, so the ledger closes the article's account with it. The pipelines get
what they share from the extensions that own it (the state store, the
ordering hold) and the run's parameters from :func:`arabtoday.params.params_of`;
they never call the spider. ``python -m arabtoday extract`` runs these same
classes (:mod:`arabtoday.offline.runner`).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from datetime import date
from typing import Any, NoReturn

from scrapy.crawler import Crawler

from arabtoday.cleaning.record import clean
from arabtoday.dedup.ordering import OrderingHold
from arabtoday.export.validation import problem_field, validate
from arabtoday.extraction.api import as_record, is_fallback
from arabtoday.items import REQUIRED_FIELDS, Article, RawArticle
from arabtoday.params import CrawlParams, params_of
from arabtoday.run.ledger import Dropped
from arabtoday.run.stopping import stop_run
from arabtoday.state.extension import StateExtension
from arabtoday.state.store import StateError, StateStore, Status, is_real_edit
from arabtoday.stats import Bucket, Stat

MAX_ARTICLES = "max_articles"  # the drop reason past the limit, and the run's close reason
STATE_FAILED = "state"  # the failure reason of an article whose state could not be read or written


def uses_state(process_item: Callable[..., Any]) -> Callable[..., Any]:
    """A stage that reads or writes the state: a state that fails (its owner has stopped the run
    already) fails the article (``failed/state``), never with a traceback."""

    if inspect.iscoroutinefunction(process_item):
        @functools.wraps(process_item)
        async def guarded_async(self: Stage, item: Any) -> Any:
            try:
                return await process_item(self, item)
            except StateError as exc:
                self.drop(Bucket.FAILED, STATE_FAILED, item, str(exc), level="WARNING")

        return guarded_async

    @functools.wraps(process_item)
    def guarded(self: Stage, item: Any) -> Any:
        try:
            return process_item(self, item)
        except StateError as exc:
            self.drop(Bucket.FAILED, STATE_FAILED, item, str(exc), level="WARNING")

    return guarded


class Stage:
    """Base of the pipelines: the crawler's settings, stats and shared parts; ``drop`` with a bucket."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.settings = crawler.settings
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Stage:
        return cls(crawler)

    @property
    def params(self) -> CrawlParams:
        return params_of(self.crawler)

    @property
    def store(self) -> StateStore:
        return self.crawler.get_extension(StateExtension).store

    @staticmethod
    def drop(bucket: str, reason: str, item: Article | RawArticle, detail: str = "",
             level: str = "INFO") -> NoReturn:
        raise Dropped(bucket, reason, f"{reason}{': ' + detail if detail else ''} [{item.id} {item.url}]",
                      log_level=level)


class BoilerplatePipeline(Stage):
    """Turns what a page object read into the clean record: boilerplate out,
    dateline/author/source split off (:func:`arabtoday.cleaning.record.clean`)."""

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, RawArticle):
            return item
        self.stats.inc_value(Stat.PAGES_PARSED)
        self.stats.inc_value(Stat.EXTRACTOR.format(name=item.extractor))
        if is_fallback(item.extractor):
            self.stats.inc_value(Stat.FALLBACK_PAGES)
        for field in item.fallback_fields:
            self.stats.inc_value(Stat.FALLBACK_FIELD.format(field=field))
        article = clean(item)
        article.lastmod = item.lastmod
        article.requested_id = item.requested_id
        return article


class RequiredFieldsPipeline(Stage):
    """A record without title, body or publication date is dropped, never exported half-empty."""

    def process_item(self, item: Article) -> Article:
        for field in REQUIRED_FIELDS:
            if not getattr(item, field):
                self.drop(Bucket.DROPPED, f"missing_{field}", item)
        return item


class SchemaPipeline(Stage):
    """Every record is checked against the record's JSON Schema (``schema/article.schema.json``,
    compiled once) before it can reach the dataset: one that does not fit is dropped with the
    first field named (``dropped/invalid/<field>``), all its problems in the log; never a crash."""

    def process_item(self, item: Article) -> Article:
        problems = validate(as_record(item))
        if problems:
            self.drop(Bucket.DROPPED, f"invalid/{problem_field(problems[0])}", item, "; ".join(problems))
        return item


class WindowPipeline(Stage):
    """``since``/``until`` apply to the publication day (UTC)."""

    def process_item(self, item: Article) -> Article:
        params = self.params
        if params.since is None and params.until is None:
            return item
        day = date.fromisoformat(item.published_at[:10]) if item.published_at else None
        if day and not params.in_window(day):
            self.drop(Bucket.DROPPED, "out_of_window", item, item.published_at or "")
        return item


class ArticleIdPipeline(Stage):
    """One record per article id, whatever address the page was reached by,
    and whichever worker fetched it (the claim is atomic in the shared state)."""

    @uses_state
    def process_item(self, item: Article) -> Article:
        if not self.store.claim_run(item.id):
            self.drop(Bucket.DUPLICATE, "same_id", item, "same article reached twice", level="DEBUG")
        return item


class IncrementalPipeline(Stage):
    """Across runs: an article already in the dataset with the same text is not
    emitted again; one whose text the site changed is, as an update (same id, new hash).
    A text that changed only because our extractor changed (a new ``extractor_version``
    with the site's ``lastmod`` unchanged) is not an edit: the state takes the new hash,
    nothing is emitted (``skipped/reextracted``)."""

    @uses_state
    def process_item(self, item: Article) -> Article:
        if not self.settings.getbool("ARABTODAY_INCREMENTAL"):
            return item
        store = self.store
        seen = store.get(item.id)
        if seen is None or seen.status is not Status.EMITTED:
            return item  # new (or failed before, or a copy whose text is now its own)
        version = getattr(item, "extractor_version", None) or None
        if seen.content_hash == item.content_hash:
            store.mark(item.id, seen.status, lastmod=item.lastmod, extractor_version=version)
            self.drop(Bucket.SKIPPED, "unchanged", item, "unchanged since last run", level="DEBUG")
        if not is_real_edit(seen, item.content_hash, version, item.lastmod):
            store.mark(item.id, seen.status, item.content_hash, item.lastmod, version)
            self.drop(Bucket.SKIPPED, "reextracted", item, "text differs only by the extractor version", level="DEBUG")
        item.change = "updated"
        return item


class ContentDedupPipeline(Stage):
    """Republished copies (the same text under a new id or headline, verbatim or with
    small edits) are not emitted: counted, and recorded in the state so they are not
    fetched again. With ``ARABTODAY_EMIT_DUPLICATES`` they are emitted with
    ``duplicate_of`` set instead. Editions never match each other.

    The decision is made on arrival and holds under any order: the first text in the
    dataset wins, the later one is its copy. The ordering hold (:mod:`arabtoday.dedup.ordering`)
    only lets a lower id still in flight arrive first, so that the kept one is usually
    the original."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.emit_duplicates = self.settings.getbool("ARABTODAY_EMIT_DUPLICATES")
        self.hold = crawler.get_extension(OrderingHold)

    @uses_state
    async def process_item(self, item: Article) -> Article:
        await self.hold.wait_for_lower_ids(item.id)
        return self.decide(item)

    def decide(self, item: Article) -> Article:
        store = self.store
        fp = store.fingerprinter.fingerprint(item.lang, item.body, item.content_hash)
        match = store.claim_index(item.id, fp)
        if match is None:
            return item
        kind, original = match
        if self.emit_duplicates:
            item.duplicate_of = original
            self.stats.inc_value(Stat.DUPLICATE_FLAGGED.format(kind=kind))
            return item
        store.mark(item.id, Status.DUPLICATE, item.content_hash, item.lastmod)
        self.drop(Bucket.DUPLICATE, kind, item, f"copy of {original}")


class MaxArticlesPipeline(Stage):
    """Never more than ``max_articles`` records, even with requests still in flight."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.passed = 0

    def process_item(self, item: Article) -> Article:
        limit = self.params.max_articles
        if limit is not None and self.passed >= limit:
            self.drop(Bucket.DROPPED, MAX_ARTICLES, item)
        self.passed += 1
        if limit is not None and self.passed >= limit:
            stop_run(self.crawler, MAX_ARTICLES)
        return item
