"""The incremental skip (``arabtoday.middlewares.IncrementalMiddleware``), a spider middleware, on
what a callback yields: one request per article id per run, none for an article the state says is
unchanged, a later sitemap ``lastmod`` handed to the state, pagination that stops when a page brings
nothing new.

Built by ``from_crawler`` on a crawler from Scrapy's ``get_crawler`` with the project's settings;
``process_spider_output`` (sync) and ``process_spider_output_async`` are called directly with a
callback's output, both where both apply.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.http import HtmlResponse

from arabtoday.meta import ARTICLE_ID, LASTMOD, LISTING_PAGE, SAME_ACCOUNT, SOURCE
from arabtoday.middlewares import IncrementalMiddleware
from arabtoday.signals import LASTMOD_SEEN
from arabtoday.state.extension import StateExtension
from arabtoday.state.store import Emitted, Status
from arabtoday.stats import Stat
from conftest import UNIT_BASE, SignalLog, aiter_of, collect, project_crawler

LISTING = HtmlResponse(f"{UNIT_BASE}/en/politics", body=b"<html></html>")
OLD = "2017-10-09T00:30:00Z"
NEW = "2018-01-01T00:00:00Z"


def article(number: int, source: str = "sitemap", lastmod: str | None = None, slug: str = "a-title",
            **meta: Any) -> Request:
    extra = {LASTMOD: lastmod} if lastmod else {}
    return Request(f"{UNIT_BASE}/en/politics/{number}/{slug}",
                   meta={ARTICLE_ID: f"en-{number}", SOURCE: source, **extra, **meta})


def next_page(n: int) -> Request:
    return Request(f"{UNIT_BASE}/en/politics?page={n}", meta={SOURCE: "listing", LISTING_PAGE: n})


def run(mw: IncrementalMiddleware, output: Iterable[Any], style: str = "sync") -> list[Any]:
    entries = list(output)
    if style == "sync":
        return list(mw.process_spider_output(LISTING, iter(entries)))
    return asyncio.run(collect(mw.process_spider_output_async(LISTING, aiter_of(*entries))))


def skipped(crawler: Crawler, why: str) -> int | None:
    return crawler.stats.get_value(Stat.DISCOVERY_SKIPPED.format(reason=why))


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


def with_history(state_dir: Path, **settings: Any) -> tuple[Crawler, IncrementalMiddleware]:
    """A crawler on a state that already emitted en-1 (sitemap lastmod OLD) and failed en-2."""
    crawler = project_crawler(ARABTODAY_STATE_DIR=str(state_dir), **settings)
    store = crawler.get_extension(StateExtension).store
    store.commit_emitted([Emitted("en-1", "en", "hash-1", OLD, None)], None, None)
    store.mark("en-2", Status.FAILED)
    return crawler, IncrementalMiddleware.from_crawler(crawler)


@pytest.fixture
def close_state():
    """Close the crawlers' states (and their locks) as the engine's stop does."""
    crawlers: list[Crawler] = []
    yield crawlers.append
    for crawler in crawlers:
        crawler.signals.send_catch_log(signal=signals.engine_stopped)


# -- within a run ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("style", ["sync", "async"])
def test_one_request_per_article_id_per_run_whatever_the_address(style: str) -> None:
    crawler = project_crawler()
    mw = IncrementalMiddleware.from_crawler(crawler)
    item = {"not": "a request"}
    first = run(mw, [article(1), article(1, slug="another-title"), item, article(2), Request(f"{UNIT_BASE}/en/")],
                style)
    assert [getattr(e, "url", e) for e in first] == [f"{UNIT_BASE}/en/politics/1/a-title", item,
                                                    f"{UNIT_BASE}/en/politics/2/a-title", f"{UNIT_BASE}/en/"]
    again = run(mw, [article(2, source="listing"), article(3, source="feed")], style)  # a later callback
    assert [r.meta[ARTICLE_ID] for r in again] == ["en-3"]
    assert skipped(crawler, "known") == 2


def test_a_request_that_continues_an_article_passes_even_when_its_id_is_known() -> None:
    crawler = project_crawler()
    mw = IncrementalMiddleware.from_crawler(crawler)
    first, amp = article(1), article(1, source="amp", **{SAME_ACCOUNT: True})
    assert run(mw, [first, amp]) == [first, amp]
    assert run(mw, [amp]) == [amp]
    assert skipped(crawler, "known") is None


def test_the_discovery_total_counts_sitemap_and_feed_articles_once_each() -> None:
    crawler = project_crawler()
    mw = IncrementalMiddleware.from_crawler(crawler)
    run(mw, [article(1, "sitemap"), article(1, "feed"), article(2, "feed"), article(3, "listing"),
             article(4, "article")])
    assert crawler.stats.get_value(Stat.DISCOVERY_TOTAL) == 2


def test_a_sitemap_lastmod_for_an_article_already_requested_goes_to_the_state() -> None:
    """Found on a listing first (no lastmod), then in its sitemap: not requested twice, and the
    sitemap's stamp is sent (``LASTMOD_SEEN``) to be the baseline of the next run."""
    crawler = project_crawler()
    sent = SignalLog(crawler, LASTMOD_SEEN)
    mw = IncrementalMiddleware.from_crawler(crawler)
    assert len(run(mw, [article(7, "listing")])) == 1
    assert run(mw, [article(7, "sitemap", lastmod=NEW)]) == []
    assert sent[LASTMOD_SEEN] == [{"article_id": "en-7", "lastmod": NEW}]
    assert run(mw, [article(7, "listing")]) == []
    assert len(sent[LASTMOD_SEEN]) == 1  # a listing has no stamp to give


# -- across runs: the state ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("style", ["sync", "async"])
def test_an_unchanged_article_is_not_fetched_again(state_dir: Path, close_state: Any, style: str) -> None:
    crawler, mw = with_history(state_dir)
    close_state(crawler)
    assert run(mw, [article(1, lastmod=OLD)], style) == []
    assert skipped(crawler, "already_seen") == 1
    assert run(mw, [article(1, "listing")], style) == []  # nor when a listing finds it later in the run
    assert (skipped(crawler, "already_seen"), skipped(crawler, "known")) == (1, 1)


def test_a_moved_lastmod_a_failure_last_time_and_a_new_article_are_fetched(state_dir: Path, close_state: Any) -> None:
    crawler, mw = with_history(state_dir)
    close_state(crawler)
    passed = run(mw, [article(1, lastmod=NEW), article(2, lastmod=OLD), article(3, lastmod=OLD)])
    assert [r.meta[ARTICLE_ID] for r in passed] == ["en-1", "en-2", "en-3"]
    assert not any(k.startswith("arabtoday/discovery/skipped/") for k in crawler.stats.get_stats())


def test_skipped_from_a_listing_then_fetched_when_the_sitemap_gives_a_new_lastmod(state_dir: Path,
                                                                                 close_state: Any) -> None:
    crawler, mw = with_history(state_dir)
    close_state(crawler)
    assert run(mw, [article(1, "listing")]) == []
    assert [r.meta[ARTICLE_ID] for r in run(mw, [article(1, "sitemap", lastmod=NEW)])] == ["en-1"]
    assert run(mw, [article(1, "sitemap", lastmod=NEW)]) == []  # now requested: once per run


def test_an_article_found_again_with_a_new_lastmod_is_in_the_discovery_total_once(state_dir: Path,
                                                                                   close_state: Any) -> None:
    crawler, mw = with_history(state_dir)
    close_state(crawler)
    assert run(mw, [article(1, "sitemap", lastmod=OLD)]) == []  # unchanged: skipped, but discovered
    assert len(run(mw, [article(1, "feed", lastmod=NEW)])) == 1  # a newer stamp elsewhere: fetched
    assert crawler.stats.get_value(Stat.DISCOVERY_TOTAL) == 1


@pytest.mark.parametrize("settings", [{"ARABTODAY_INCREMENTAL": False}, {}], ids=["incremental-off", "no-state"])
def test_without_incremental_history_nothing_is_skipped(state_dir: Path, close_state: Any,
                                                        settings: dict[str, Any]) -> None:
    if settings:
        crawler, mw = with_history(state_dir, **settings)
        close_state(crawler)
    else:  # a run without ARABTODAY_STATE_DIR: a private state, no history to skip by
        crawler = project_crawler()
        crawler.get_extension(StateExtension).store.commit_emitted([Emitted("en-1", "en", "h", OLD, None)], None,
                                                                    None)
        mw = IncrementalMiddleware.from_crawler(crawler)
    assert [r.meta[ARTICLE_ID] for r in run(mw, [article(1, lastmod=OLD)])] == ["en-1"]


# -- pagination ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("style", ["sync", "async"])
def test_pagination_past_page_2_stops_when_a_page_brought_no_new_article(style: str) -> None:
    crawler = project_crawler()
    mw = IncrementalMiddleware.from_crawler(crawler)
    assert len(run(mw, [article(1), article(2), next_page(2)], style)) == 3
    assert [r.url for r in run(mw, [article(1), article(2), next_page(2)], style)] == [next_page(2).url]  # page 2: on
    assert run(mw, [article(1), article(2), next_page(3)], style) == []  # nothing new: no page 3
    assert crawler.stats.get_value(Stat.BOUND.format(name="pagination_no_new")) == 1
    passed = run(mw, [article(2), article(9), next_page(3)], style)  # en-9 is new: page 3 follows
    assert [r.url for r in passed] == [article(9).url, next_page(3).url]
    assert crawler.stats.get_value(Stat.BOUND.format(name="pagination_no_new")) == 1
