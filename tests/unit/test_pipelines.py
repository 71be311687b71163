"""The item pipelines (``arabtoday.pipelines``), each on its own and in the project's order.

Each pipeline is built by its ``from_crawler`` on a crawler from Scrapy's ``get_crawler`` with the
project's settings (:func:`conftest.project_crawler`), so that it reaches the state, the ordering
hold and the run's parameters the way it does in a crawl; ``process_item`` is called directly.
What a pipeline drops raises :class:`arabtoday.run.ledger.Dropped`, whose bucket and reason the
ledger closes the article's account with: both are asserted, with the stats it counts.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest
from scrapy import Request, signals
from scrapy.pipelines import ItemPipelineManager

from arabtoday.cleaning.record import clean
from arabtoday.cleaning.text import content_hash
from arabtoday.extraction import is_fallback, parse_page
from arabtoday.items import REQUIRED_FIELDS, Article, Gone, RawArticle, Removed, Superseded
from arabtoday.pipelines import (
    MAX_ARTICLES,
    ArticleIdPipeline,
    BoilerplatePipeline,
    ContentDedupPipeline,
    IncrementalPipeline,
    MaxArticlesPipeline,
    RemovalPipeline,
    RequiredFieldsPipeline,
    SchemaPipeline,
    Stage,
    WindowPipeline,
)
from arabtoday.run.ledger import Dropped
from arabtoday.signals import ARTICLE_DECIDED, RUN_STOPPING
from arabtoday.state.extension import StateExtension
from arabtoday.state.store import Emitted, StateStore, Status
from arabtoday.stats import Bucket, Stat
from conftest import UNIT_BASE, EngineStandIn, SignalLog, project_crawler, snapshot_article
from devkit.site import article_pages, page_html, served_url

LASTMOD = "2017-10-09T00:30:00Z"
LATER = "2030-01-01T00:00:00Z"  # a publication time after every snapshot article's


def build(pipeline: type[Stage], crawler: Any = None, **settings: Any) -> Any:
    return pipeline.from_crawler(crawler if crawler is not None else project_crawler(**settings))


def dropped(pipeline: Any, item: Any) -> Dropped:
    with pytest.raises(Dropped) as caught:
        pipeline.process_item(item)
    return caught.value


def store_of(pipeline: Stage) -> StateStore:
    return pipeline.crawler.get_extension(StateExtension).store


def raw_page(n: int = 0, rename_layout: bool = False) -> RawArticle:
    """What the spider yields for the ``n``-th snapshot article page (with the known layout's classes
    renamed: a page the fallback reads)."""
    path = article_pages()[n]
    html = page_html(path, UNIT_BASE)
    if rename_layout:
        html = html.replace('class="article-', 'class="x-').replace('class="image-caption', 'class="x-cap')
    return parse_page(html, served_url(path, UNIT_BASE))


def same_record(a: Article, b: Article) -> bool:
    """Field by field, but ``crawled_at`` (the time of cleaning)."""
    return dataclasses.replace(a, crawled_at="") == dataclasses.replace(b, crawled_at="")


def copy_of(article: Article, number: int, **changes: Any) -> Article:
    """The same article republished under another id of its edition."""
    return dataclasses.replace(article, id=f"{article.lang}-{number}",
                               url=article.url.replace(article.id.split("-")[1], str(number)), **changes)


# -- 100 BoilerplatePipeline ----------------------------------------------------------------------------------------

def test_boilerplate_turns_a_raw_page_into_the_clean_record_and_counts_its_extractor() -> None:
    pipeline = build(BoilerplatePipeline)
    raw = raw_page()
    raw.lastmod, raw.requested_id = LASTMOD, "en-1"
    article = pipeline.process_item(raw)
    assert isinstance(article, Article)
    assert same_record(article, clean(raw_page()))  # what cleaning makes of the page, field by field
    assert (article.lastmod, article.requested_id) == (LASTMOD, "en-1")  # carried for the state and the ledger
    stats = pipeline.stats
    assert stats.get_value(Stat.PAGES_PARSED) == 1
    assert stats.get_value(Stat.EXTRACTOR.format(name=raw.extractor)) == 1
    assert stats.get_value(Stat.FALLBACK_PAGES) is None  # the layout read it


def test_boilerplate_counts_a_fallback_page_and_each_field_it_filled_from_metadata() -> None:
    pipeline = build(BoilerplatePipeline)
    raw = raw_page(rename_layout=True)
    assert is_fallback(raw.extractor)
    pipeline.process_item(raw)
    assert pipeline.stats.get_value(Stat.FALLBACK_PAGES) == 1
    assert pipeline.stats.get_value(Stat.EXTRACTOR.format(name=raw.extractor)) == 1
    fields = {k.removeprefix("arabtoday/fallback/field/"): v for k, v in pipeline.stats.get_stats().items()
              if k.startswith("arabtoday/fallback/field/")}
    assert fields == dict.fromkeys(raw.fallback_fields, 1)


def test_boilerplate_passes_what_is_not_a_raw_page_untouched() -> None:
    pipeline = build(BoilerplatePipeline)
    article = snapshot_article()
    assert pipeline.process_item(article) is article
    assert pipeline.stats.get_value(Stat.PAGES_PARSED) is None


# -- 150 RemovalPipeline ---------------------------------------------------------------------------------------------

def gone(article: Article, reason: str = "http_410") -> Gone:
    return Gone(id=article.id, url=article.url, lang=article.lang, reason=reason, crawled_at=LATER,
                requested_id=article.id, lastmod=LASTMOD)


def test_a_known_article_that_is_gone_becomes_a_removed_line() -> None:
    pipeline = build(RemovalPipeline)
    article = snapshot_article()
    emitted_before(pipeline, article)
    line = pipeline.process_item(gone(article))
    assert isinstance(line, Removed)
    assert (line.id, line.removed_reason, line.removed_at, line.outcome) == (
        article.id, "http_410", LATER, (Bucket.DROPPED, "gone"))


def test_an_address_gone_that_the_dataset_never_held_writes_nothing() -> None:
    pipeline = build(RemovalPipeline)
    article = snapshot_article()
    drop = dropped(pipeline, gone(article, "http_404"))
    assert (drop.bucket, drop.reason) == (Bucket.DROPPED, "gone")
    assert build(RemovalPipeline).process_item(article) is article  # anything else passes


# -- 200 RequiredFieldsPipeline -------------------------------------------------------------------------------------

@pytest.mark.parametrize("field", REQUIRED_FIELDS)
@pytest.mark.parametrize("empty", [None, ""])
def test_a_record_without_a_required_field_is_dropped_with_its_name(field: str, empty: str | None) -> None:
    drop = dropped(build(RequiredFieldsPipeline), snapshot_article(**{field: empty}))
    assert (drop.bucket, drop.reason) == (Bucket.DROPPED, f"missing_{field}")


def test_a_whole_record_passes_the_required_fields() -> None:
    article = snapshot_article()
    assert build(RequiredFieldsPipeline).process_item(article) is article


# -- 250 SchemaPipeline ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("field", "value"), [("word_count", -1), ("lang", "fr"), ("published_at", "15/10/2017"),
                                              ("content_hash", "xyz")])
def test_a_record_the_schema_refuses_is_dropped_naming_the_field(field: str, value: Any) -> None:
    drop = dropped(build(SchemaPipeline), snapshot_article(**{field: value}))
    assert (drop.bucket, drop.reason) == (Bucket.DROPPED, f"invalid/{field}")
    assert field in str(drop)


def test_a_valid_record_passes_the_schema() -> None:
    article = snapshot_article()
    assert build(SchemaPipeline).process_item(article) is article


# -- 300 WindowPipeline ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("published_at", "kept"), [
    ("2017-10-04T23:59:00Z", False), ("2017-10-05T00:00:00Z", True), ("2017-10-10T23:59:00Z", True),
    ("2017-10-11T00:00:00Z", False), (None, True)])  # no date: nothing to judge (the required fields drop it)
def test_the_window_applies_to_the_publication_day(published_at: str | None, kept: bool) -> None:
    pipeline = build(WindowPipeline, project_crawler({"since": "2017-10-05", "until": "2017-10-10"}))
    article = snapshot_article(published_at=published_at)
    if kept:
        assert pipeline.process_item(article) is article
    else:
        drop = dropped(pipeline, article)
        assert (drop.bucket, drop.reason) == (Bucket.DROPPED, "out_of_window")


def test_without_since_or_until_every_day_is_in_the_window() -> None:
    article = snapshot_article(published_at="1999-01-01T00:00:00Z")
    assert build(WindowPipeline).process_item(article) is article


# -- 400 ArticleIdPipeline ------------------------------------------------------------------------------------------

def test_one_record_per_article_id_within_a_run() -> None:
    crawler = project_crawler()
    pipeline, other = build(ArticleIdPipeline, crawler), build(ArticleIdPipeline, crawler)
    first = snapshot_article()
    assert pipeline.process_item(first) is first
    drop = dropped(other, snapshot_article(url=first.url + "?utm_source=rss"))  # the same id, another address
    assert (drop.bucket, drop.reason) == (Bucket.DUPLICATE, "same_id")
    second = snapshot_article(next_id(first))
    assert pipeline.process_item(second) is second


def next_id(article: Article) -> str:
    from conftest import cached_snapshot_records

    return next(r["id"] for r in cached_snapshot_records(UNIT_BASE) if r["id"] != article.id)


# -- 500 IncrementalPipeline ----------------------------------------------------------------------------------------

def emitted_before(pipeline: Stage, article: Article, content: str | None = None, lastmod: str | None = LASTMOD,
                   extractor_version: str | None = None) -> None:
    store_of(pipeline).commit_emitted([Emitted(article.id, article.lang, content or article.content_hash, lastmod,
                                               None, article.crawled_at, extractor_version)], None, None)


def test_a_new_article_passes_the_incremental_skip() -> None:
    article = snapshot_article()
    assert build(IncrementalPipeline).process_item(article) is article
    assert article.change == "new"


def test_an_article_unchanged_since_the_last_run_is_skipped_and_its_lastmod_kept() -> None:
    pipeline = build(IncrementalPipeline)
    article = snapshot_article(lastmod="2017-11-01T00:00:00Z")
    emitted_before(pipeline, article)
    drop = dropped(pipeline, article)
    assert (drop.bucket, drop.reason) == (Bucket.SKIPPED, "unchanged")
    seen = store_of(pipeline).get(article.id)
    assert (seen.status, seen.content_hash, seen.lastmod) == (Status.EMITTED, article.content_hash, article.lastmod)


def test_an_article_the_site_edited_passes_as_its_next_revision() -> None:
    pipeline = build(IncrementalPipeline)
    article = snapshot_article()
    before = content_hash("the text as it was before the edit")
    emitted_before(pipeline, article, content=before)
    assert pipeline.process_item(article) is article
    assert (article.change, article.revision, article.previous_hash) == ("updated", 2, before)
    assert (article.status, article.copies) == ("live", [])


def test_a_removed_article_served_again_comes_back_as_its_next_revision() -> None:
    pipeline = build(IncrementalPipeline)
    article = snapshot_article()
    emitted_before(pipeline, article)
    store_of(pipeline).commit_emitted([Emitted(article.id, article.lang, None, None, None, article.crawled_at,
                                               status="removed", url=article.url,
                                               removed_at=article.crawled_at)], None, None)
    edited = dataclasses.replace(article, content_hash=content_hash("served again, edited"))
    assert pipeline.process_item(edited) is edited and edited.revision == 2
    assert edited.previous_hash == article.content_hash


def test_a_text_changed_only_by_a_new_extractor_is_not_an_edit() -> None:
    pipeline = build(IncrementalPipeline)
    article = snapshot_article(extractor_version="9.0", lastmod=LASTMOD)
    old = content_hash("what the old extractor read")
    emitted_before(pipeline, article, content=old, lastmod=LASTMOD, extractor_version="8.0")
    drop = dropped(pipeline, article)
    assert (drop.bucket, drop.reason) == (Bucket.SKIPPED, "reextracted")
    seen = store_of(pipeline).get(article.id)
    assert (seen.content_hash, seen.extractor_version) == (article.content_hash, "9.0")  # the new baseline
    # the same, with the site's lastmod moved: the site edited it
    edited = snapshot_article(extractor_version="9.1", lastmod="2018-01-01T00:00:00Z",
                              content_hash=content_hash("the edited text"))
    assert pipeline.process_item(edited) is edited and edited.change == "updated"


def test_without_incremental_runs_nothing_is_skipped() -> None:
    pipeline = build(IncrementalPipeline, ARABTODAY_INCREMENTAL=False)
    article = snapshot_article()
    emitted_before(pipeline, article)
    assert pipeline.process_item(article) is article


def test_a_copy_or_a_failure_last_time_is_fetched_as_new() -> None:
    pipeline = build(IncrementalPipeline)
    for status in (Status.DUPLICATE, Status.FAILED):
        article = snapshot_article(next_id(snapshot_article()) if status is Status.FAILED else None)
        store_of(pipeline).mark(article.id, status, article.content_hash, LASTMOD)
        assert pipeline.process_item(article) is article
        assert article.change == "new"


# -- 600 ContentDedupPipeline ---------------------------------------------------------------------------------------

def decide(pipeline: ContentDedupPipeline, item: Article) -> Article:
    return asyncio.run(pipeline.process_item(item))


def test_a_copy_published_later_becomes_a_superseded_line_naming_its_original() -> None:
    pipeline = build(ContentDedupPipeline)
    original = snapshot_article()
    assert decide(pipeline, original) is original and original.copies == [] and original.events == []
    copy = copy_of(original, 999_001, published_at=LATER)
    line = decide(pipeline, copy)
    assert isinstance(line, Superseded)
    assert (line.id, line.url, line.duplicate_of, line.outcome) == (copy.id, copy.url, original.id,
                                                                     (Bucket.DUPLICATE, "exact"))
    assert store_of(pipeline).get(copy.id).status is Status.DUPLICATE  # not fetched again next run


def test_an_original_met_after_its_copy_lists_it_and_carries_its_superseded_line() -> None:
    """The copy (published later, lower id) came first and went out as an original: the original's
    record lists it in ``copies`` and carries the line that corrects it; the copy's address is the one
    it was indexed under."""
    pipeline = build(ContentDedupPipeline)
    original = snapshot_article()
    number = int(original.id.split("-")[1])
    copy = copy_of(original, number - 1, published_at=LATER)
    assert decide(pipeline, copy) is copy  # nothing earlier known: held as the original for now
    assert decide(pipeline, original) is original
    assert original.copies == [copy.id]
    [event] = original.events
    assert (event.id, event.url, event.duplicate_of, event.outcome) == (copy.id, copy.url, original.id, None)
    assert pipeline.stats.get_value(Stat.ORIGINAL_LATE) == 1


def test_a_near_copy_with_a_sentence_changed_is_superseded_as_near() -> None:
    pipeline = build(ContentDedupPipeline)
    original = snapshot_article()
    paragraphs = original.body.split("\n\n")
    paragraphs[len(paragraphs) // 2] = "A spokesman declined to comment on the report when reached by phone."
    body = "\n\n".join(paragraphs)
    decide(pipeline, original)
    line = decide(pipeline, copy_of(original, 999_002, body=body, content_hash=content_hash(body)))
    assert isinstance(line, Superseded) and line.outcome == (Bucket.DUPLICATE, "near")


def test_with_emit_duplicates_a_copy_is_emitted_flagged_and_counted() -> None:
    pipeline = build(ContentDedupPipeline, ARABTODAY_EMIT_DUPLICATES=True)
    original = snapshot_article()
    decide(pipeline, original)
    copy = decide(pipeline, copy_of(original, 999_003))
    assert copy.duplicate_of == original.id
    assert pipeline.stats.get_value(Stat.DUPLICATE_FLAGGED.format(kind="exact")) == 1


def test_the_same_text_in_the_other_edition_is_not_a_copy() -> None:
    pipeline = build(ContentDedupPipeline)
    original = snapshot_article()
    other = "ar" if original.lang == "en" else "en"
    decide(pipeline, original)
    translated = dataclasses.replace(original, id=f"{other}-{original.id.split('-')[1]}", lang=other)
    assert decide(pipeline, translated) is translated


def test_a_copy_waits_for_a_lower_id_of_its_edition_still_in_flight() -> None:
    crawler = project_crawler(ARABTODAY_DEDUP_HOLD_SECONDS=5)
    pipeline = build(ContentDedupPipeline, crawler)
    article = snapshot_article()
    lang, number = article.id.split("-")
    lower = f"{lang}-{int(number) - 1}"
    crawler.signals.send_catch_log(signal=signals.request_reached_downloader,
                                   request=Request(f"{UNIT_BASE}/x", meta={"article_id": lower}))

    async def scenario() -> tuple[bool, Article]:
        task = asyncio.ensure_future(pipeline.process_item(article))
        await asyncio.sleep(0.05)
        waited = not task.done()
        crawler.signals.send_catch_log(signal=ARTICLE_DECIDED, article_id=lower, bucket=Bucket.FAILED, reason="x")
        return waited, await asyncio.wait_for(task, 2)

    waited, decided = asyncio.run(scenario())
    assert waited, "the item did not wait for the lower id in flight"
    assert decided is article


# -- 900 MaxArticlesPipeline ----------------------------------------------------------------------------------------

def test_past_max_articles_records_are_dropped_and_the_run_is_stopped_once_at_the_limit() -> None:
    crawler = project_crawler({"max_articles": "2"})
    engine = EngineStandIn(crawler)
    sent = SignalLog(crawler, RUN_STOPPING)
    pipeline = build(MaxArticlesPipeline, crawler)
    first, second, third = (snapshot_article(),) * 3
    assert pipeline.process_item(first) is first
    assert engine.closed == []
    assert pipeline.process_item(second) is second
    assert engine.closed == [MAX_ARTICLES] and sent[RUN_STOPPING] == [{"reason": MAX_ARTICLES}]
    drop = dropped(pipeline, third)
    assert (drop.bucket, drop.reason) == (Bucket.DROPPED, MAX_ARTICLES)
    assert engine.closed == [MAX_ARTICLES]  # stopped once


def test_without_max_articles_nothing_is_dropped_or_stopped() -> None:
    crawler = project_crawler()
    engine = EngineStandIn(crawler)
    pipeline = build(MaxArticlesPipeline, crawler)
    for _ in range(50):
        pipeline.process_item(snapshot_article())
    assert pipeline.passed == 50 and engine.closed == []


# -- the chain, as Scrapy runs it ------------------------------------------------------------------------------------

def test_the_project_chain_built_by_scrapy_emits_a_page_once_and_drops_its_copy() -> None:
    """``ITEM_PIPELINES`` in the project's order, through Scrapy's own ``ItemPipelineManager``."""
    crawler = project_crawler()
    manager = ItemPipelineManager.from_crawler(crawler)
    assert [type(m).__name__ for m in manager.middlewares] == [
        "BoilerplatePipeline", "RemovalPipeline", "RequiredFieldsPipeline", "SchemaPipeline", "WindowPipeline",
        "ArticleIdPipeline", "IncrementalPipeline", "ContentDedupPipeline", "MaxArticlesPipeline"]
    record = asyncio.run(manager.process_item_async(raw_page()))
    assert same_record(record, clean(raw_page()))
    with pytest.raises(Dropped) as caught:
        asyncio.run(manager.process_item_async(raw_page()))
    assert (caught.value.bucket, caught.value.reason) == (Bucket.DUPLICATE, "same_id")
    line = asyncio.run(manager.process_item_async(dataclasses.replace(raw_page(), number="999004")))
    assert isinstance(line, Superseded) and line.duplicate_of == record.id
    assert line.outcome == (Bucket.DUPLICATE, "exact")
