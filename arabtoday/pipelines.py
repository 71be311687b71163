"""Item pipelines: each does one thing, and says which bucket what it drops goes to.

Order (``ITEM_PIPELINES``):

=====  ==========================  ==================================================
 100   BoilerplatePipeline         page text -> clean record (``cleaning.clean``)
 150   RemovalPipeline             an address that no longer serves a known article -> a ``removed`` line
 200   RequiredFieldsPipeline      dropped: records without title, body or published_at
 250   SchemaPipeline              dropped: lines the JSON Schema refuses (``invalid/<field>``)
 300   WindowPipeline              dropped: records outside ``since``/``until``
 400   ArticleIdPipeline           duplicate: one record per article id within a run
 500   IncrementalPipeline         skipped: across runs, only new or changed articles; revisions
 600   ContentDedupPipeline        republished copies: the original (published first) is the record,
                                   a copy becomes a ``superseded`` line (bucket duplicate)
 900   MaxArticlesPipeline         dropped: past ``max_articles``
=====  ==========================  ==================================================

What reaches the exporters is a line of the dataset: an article's record
(``status: live``, with its ``revision``, ``previous_hash`` and ``copies``), or a
line of history (:class:`arabtoday.items.Superseded`, :class:`arabtoday.items.Removed`;
a record may carry ``superseded`` lines for the copies it turns out to be the original
of). Every drop is a :class:`arabtoday.run.ledger.Dropped` naming its bucket and
reason, so the ledger closes the article's account with it; a line of history
names the account it closes and its bucket (``outcome``). The pipelines get
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
from arabtoday.items import REQUIRED_FIELDS, Article, Gone, RawArticle, Removed, Superseded
from arabtoday.params import CrawlParams, params_of
from arabtoday.run.failures import GONE
from arabtoday.run.ledger import Dropped, article_key
from arabtoday.run.stopping import stop_run
from arabtoday.schema import LIVE_ORIGIN
from arabtoday.state.extension import StateExtension
from arabtoday.state.store import COPY_OF, Seen, StateError, StateStore, Status, is_real_edit
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
    def drop(bucket: str, reason: str, item: Any, detail: str = "",
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
        # cleaning is pure: done ahead by a worker process (extract --jobs), or here
        article = item.cleaned if item.cleaned is not None else clean(item)
        article.lastmod = item.lastmod
        article.requested_id = item.requested_id
        return article


class RemovalPipeline(Stage):
    """An article's address that no longer serves it (:class:`arabtoday.items.Gone`: 404, 410, or a recheck
    that found something else there): when the dataset holds the article, a ``removed`` line says when and
    why; otherwise nothing is written. Either way the page's account closes as ``dropped/gone``."""

    @uses_state
    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Gone):
            return item
        seen = self.store.get(item.id)
        if seen is None or seen.status is not Status.EMITTED:
            self.drop(Bucket.DROPPED, GONE, item, f"{item.reason}: not in the dataset")
        return Removed(id=item.id, url=seen.url or item.url, lang=item.lang, crawled_at=item.crawled_at,
                       removed_at=item.crawled_at, removed_reason=item.reason, requested_id=item.requested_id,
                       outcome=(Bucket.DROPPED, GONE), lastmod=item.lastmod)


class RequiredFieldsPipeline(Stage):
    """A record without title, body or publication date is dropped, never exported half-empty."""

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Article):
            return item
        for field in REQUIRED_FIELDS:
            if not getattr(item, field):
                self.drop(Bucket.DROPPED, f"missing_{field}", item)
        return item


class SchemaPipeline(Stage):
    """Every record is checked against the record's JSON Schema (``schema/article.schema.json``,
    compiled once) before it can reach the dataset: one that does not fit is dropped with the
    first field named (``dropped/invalid/<field>``), all its problems in the log; never a crash."""

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Article | Removed):
            return item
        problems = validate(as_record(item))
        if problems:
            self.drop(Bucket.DROPPED, f"invalid/{problem_field(problems[0])}", item, "; ".join(problems))
        return item


class WindowPipeline(Stage):
    """``since``/``until`` apply to the publication day (UTC)."""

    def process_item(self, item: Any) -> Any:
        params = self.params
        if not isinstance(item, Article) or (params.since is None and params.until is None):
            return item
        day = date.fromisoformat(item.published_at[:10]) if item.published_at else None
        if day and not params.in_window(day):
            self.drop(Bucket.DROPPED, "out_of_window", item, item.published_at or "")
        return item


class ArticleIdPipeline(Stage):
    """One record per article id, whatever address the page was reached by,
    and whichever worker fetched it (the claim is atomic in the shared state)."""

    @uses_state
    def process_item(self, item: Any) -> Any:
        if isinstance(item, Article) and not self.store.claim_run(item.id) and not self._edited_in_run(item):
            self.drop(Bucket.DUPLICATE, "same_id", item, "same article reached twice", level="DEBUG")
        return item

    def _edited_in_run(self, item: Article) -> bool:
        """Met again with another text than the record this run already wrote for it (``extract`` over
        several runs' WARC files, the site editing a page between two fetches): the next revision
        (made by the incremental stage), not a duplicate. Asked only of an id met twice."""
        written = self.crawler.get_extension(StateExtension).written_this_run(item.id)
        return written is not None and written != item.content_hash


class IncrementalPipeline(Stage):
    """Across runs: an article already in the dataset with the same text is not emitted again; one
    whose text the site changed is, as its next revision (``revision`` + 1, ``previous_hash``). A text
    that changed only because our extractor changed (a new ``extractor_version`` with the site's
    ``lastmod`` unchanged) is not an edit: the state takes the new hash, nothing is emitted
    (``skipped/reextracted``). An article the site had removed and serves again comes back as live."""

    @uses_state
    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Article):
            return item
        store = self.store
        seen = store.get(item.id)
        if seen is None:
            return item
        version = getattr(item, "extractor_version", None) or None
        same_text = seen.content_hash == item.content_hash
        # an archive's capture of an article the site removed, or of a copy already superseded: no news
        # unless its text differs
        archived = getattr(item, "origin", LIVE_ORIGIN) != LIVE_ORIGIN
        known = seen.status is Status.EMITTED or (archived and seen.status in (Status.REMOVED, Status.DUPLICATE))
        if known and self.settings.getbool("ARABTODAY_INCREMENTAL"):
            if same_text:
                store.mark(item.id, seen.status, lastmod=item.lastmod, extractor_version=version)
                self.drop(Bucket.SKIPPED, "unchanged", item, "unchanged since last run", level="DEBUG")
            if not is_real_edit(seen, item.content_hash, version, item.lastmod):
                store.mark(item.id, seen.status, item.content_hash, item.lastmod, version)
                self.drop(Bucket.SKIPPED, "reextracted", item, "text differs only by the extractor version",
                          level="DEBUG")
        self._revise(item, seen, same_text)
        return item

    @staticmethod
    def _revise(item: Article, seen: Seen, same_text: bool) -> None:
        """The record's place in the article's history: the same revision for the same text, else the next."""
        if not seen.revision:
            return  # never in the dataset (failed, or a copy until now): its first revision
        if same_text:
            item.revision = seen.revision
            return
        item.revision = seen.revision + 1
        item.previous_hash = seen.content_hash
        if seen.status in (Status.EMITTED, Status.REMOVED):
            item.change = "updated"


class ContentDedupPipeline(Stage):
    """Republished copies (the same text under a new id or headline, verbatim or with small edits):
    of two copies, the original is the one published first (the lower id breaks ties), whatever order
    they arrive in, whichever worker fetched them, in whichever run. A copy becomes a ``superseded``
    line naming its original (its account: ``duplicate/<exact|near>``); the original's record lists
    its copies. An original that arrives after a copy already in the dataset as an original carries a
    ``superseded`` line for it: the log is corrected by later lines, never rewritten. With
    ``ARABTODAY_EMIT_DUPLICATES`` a copy is written as a record of its own, ``duplicate_of`` set.
    Editions never match each other.

    The ordering hold (:mod:`arabtoday.dedup.ordering`) lets a lower id still in flight arrive
    first, so that fewer corrections are needed; the outcome never depends on it."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.emit_duplicates = self.settings.getbool("ARABTODAY_EMIT_DUPLICATES")
        self.hold = crawler.get_extension(OrderingHold)

    @uses_state
    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, Article):
            return item
        await self.hold.wait_for_lower_ids(item.id)
        return self.decide(item)

    def decide(self, item: Article) -> Article | Superseded:
        store = self.store
        fp = item.fingerprint or store.fingerprinter.fingerprint(item.lang, item.body, item.content_hash)
        match = store.claim_index(item.id, fp, item.published_at, item.url)
        if match is not None and match.relation == COPY_OF:
            if self.emit_duplicates:
                item.duplicate_of = match.other
                self.stats.inc_value(Stat.DUPLICATE_FLAGGED.format(kind=match.kind))
                return item
            store.mark(item.id, Status.DUPLICATE, item.content_hash, item.lastmod)
            return Superseded(id=item.id, url=item.url, lang=item.lang, crawled_at=item.crawled_at,
                              duplicate_of=match.other, requested_id=article_key(item),
                              outcome=(Bucket.DUPLICATE, match.kind), lastmod=item.lastmod)
        item.copies = store.copies_of(item.id)
        if match is not None:  # held as an original until now (in the dataset, or on its way): a copy from now on
            item.events.append(Superseded(id=match.other, url=match.other_url or _address_of(match.other, item.url),
                                          lang=item.lang, crawled_at=item.crawled_at, duplicate_of=item.id))
            self.stats.inc_value(Stat.ORIGINAL_LATE)
        return item


def _address_of(article_id: str, like: str) -> str:
    """An article's address when the state never kept it (states older than 2.0): its AMP address."""
    base = like.split("/" + article_id.partition("-")[0] + "/", 1)[0]
    lang, _, number = article_id.partition("-")
    return f"{base}/{lang}/amp/{number}"


class MaxArticlesPipeline(Stage):
    """Never more than ``max_articles`` records, even with requests still in flight."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.passed = 0

    def process_item(self, item: Any) -> Any:
        limit = self.params.max_articles
        if not isinstance(item, Article):
            return item
        if limit is not None and self.passed >= limit:
            self.drop(Bucket.DROPPED, MAX_ARTICLES, item)
        self.passed += 1
        if limit is not None and self.passed >= limit:
            stop_run(self.crawler, MAX_ARTICLES)
        return item
