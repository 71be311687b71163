"""What vanished from the site (arabtoday.state.history): the SQLite state's listings over runs, the
History extension (built by the project's settings on Scrapy's get_crawler), and the spider telling it
whether a sitemap listed all it holds."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from scrapy.http import Request, XmlResponse

from arabtoday.cleaning.dates import iso
from arabtoday.dedup.fingerprints import Fingerprinter
from arabtoday.meta import ARTICLE_ID, SOURCE
from arabtoday.signals import ARTICLE_DECIDED, SOURCE_READ
from arabtoday.state.history import History
from arabtoday.state.sqlite import SqliteStore
from arabtoday.state.store import Emitted, StateStore
from arabtoday.stats import Bucket, Stat
from conftest import UNIT_BASE, SignalLog, project_crawler

SITEMAP = "/sitemaps/en-2017-10.xml"
OTHER = "/sitemaps/en-2017-11.xml"


def run(directory: Path) -> SqliteStore:
    """A new run on the state: a store opened again."""
    return SqliteStore(directory, Fingerprinter())


def in_dataset(store: StateStore, *ids: str, crawled_at: str = "2017-10-01T00:00:00Z") -> None:
    store.commit_emitted([Emitted(i, "en", f"{n:032x}", None, None, crawled_at,
                                  url=f"{UNIT_BASE}/en/politics/{i.split('-')[1]}/story")
                          for n, i in enumerate(ids)], None, None)


def first_run(directory: Path, listed: dict[str, str]) -> None:
    """Run 1: the articles emitted, each listed by its source (``''``: a feed or listing page)."""
    store = run(directory)
    in_dataset(store, *listed)
    for article_id, source in listed.items():
        store.listed(article_id, source)
        store.source_read(source, True)
    store.close()


def test_an_article_no_complete_sitemap_lists_any_more_has_vanished(tmp_path: Path) -> None:
    first_run(tmp_path, {"en-1": SITEMAP, "en-2": SITEMAP, "en-3": OTHER})
    store = run(tmp_path)
    store.listed("en-2", SITEMAP)
    store.source_read(SITEMAP, True)
    store.source_read(OTHER, False)  # cut short at a bound: its articles may not have vanished
    assert [i for i, _ in store.vanished(10)] == ["en-1"]
    assert store.vanished(10)[0][1] == f"{UNIT_BASE}/en/politics/1/story"
    store.unlisted("en-1")  # still served: only unlisted, never vanished again
    assert store.vanished(10) == []


def test_a_sitemap_not_read_in_this_run_vanishes_nothing(tmp_path: Path) -> None:
    first_run(tmp_path, {"en-1": SITEMAP})
    assert run(tmp_path).vanished(10) == []  # failed, or out of the window: no row for it in this run


def test_feeds_and_listings_keep_an_article_listed_but_never_make_it_vanish(tmp_path: Path) -> None:
    first_run(tmp_path, {"en-1": "", "en-2": SITEMAP})
    store = run(tmp_path)
    store.listed("en-2", "")  # left its sitemap, still on the home page
    store.source_read(SITEMAP, True)
    assert store.vanished(10) == []  # en-1 only ever was in a window; en-2 is still listed


def test_an_article_fetched_in_this_run_or_not_in_the_dataset_is_not_asked_for_again(tmp_path: Path) -> None:
    first_run(tmp_path, {"en-1": SITEMAP, "en-2": SITEMAP})
    store = run(tmp_path)
    store.source_read(SITEMAP, True)
    in_dataset(store, "en-1", crawled_at=iso(datetime.now(timezone.utc)))  # fetched in this run (an article's links)
    store.commit_emitted([Emitted("en-2", "en", None, None, None, "2017-10-02T00:00:00Z", status="removed",
                                  removed_at="2017-10-02T00:00:00Z")], None, None)
    assert store.vanished(10) == []


def test_the_limit_bounds_the_rechecks(tmp_path: Path) -> None:
    first_run(tmp_path, {f"en-{n}": SITEMAP for n in range(1, 6)})
    store = run(tmp_path)
    store.source_read(SITEMAP, True)
    assert [i for i, _ in store.vanished(2)] == ["en-1", "en-2"]


# -- the extension ---------------------------------------------------------------------------------------------------

def history(tmp_path: Path, **settings: Any) -> tuple[Any, History]:
    crawler = project_crawler(ARABTODAY_STATE_DIR=str(tmp_path), **settings)
    return crawler, crawler.get_extension(History)


def test_the_extension_keeps_sitemaps_by_path_and_windows_as_one(tmp_path: Path) -> None:
    first_run(tmp_path, {"en-1": SITEMAP, "en-2": SITEMAP, "en-3": SITEMAP})
    crawler, ext = history(tmp_path)
    ext.listed("en-2", "sitemap", f"http://elsewhere.test:8080{SITEMAP}")  # a copy of the site served elsewhere
    ext.listed("en-3", "listing", f"{UNIT_BASE}/en/politics?page=2")
    ext.listed("en-1", "article", f"{UNIT_BASE}/en/politics/9/x")  # an article's links list nothing
    crawler.signals.send_catch_log(SOURCE_READ, url=f"http://elsewhere.test:8080{SITEMAP}", complete=True)
    assert ext.rechecks_due() == [("en-1", f"{UNIT_BASE}/en/politics/1/story")]
    assert ext.rechecks_due() == []  # once per run
    assert crawler.stats.get_value(Stat.VANISHED) == 1


def test_a_recheck_that_finds_the_article_served_unlists_it_and_one_that_finds_it_gone_counts(tmp_path: Path) -> None:
    first_run(tmp_path, {"en-1": SITEMAP, "en-2": SITEMAP})
    crawler, ext = history(tmp_path)
    crawler.signals.send_catch_log(SOURCE_READ, url=f"{UNIT_BASE}{SITEMAP}", complete=True)
    assert [i for i, _ in ext.rechecks_due()] == ["en-1", "en-2"]
    crawler.signals.send_catch_log(ARTICLE_DECIDED, article_id="en-1", bucket=Bucket.SKIPPED, reason="unchanged")
    crawler.signals.send_catch_log(ARTICLE_DECIDED, article_id="en-2", bucket=Bucket.DROPPED, reason="gone")
    assert crawler.stats.get_value(Stat.RECHECKED.format(outcome="skipped")) == 1
    assert crawler.stats.get_value(Stat.RECHECKED.format(outcome="removed")) == 1
    ext.store.flush()
    assert ext.store.get("en-1") is not None
    assert [i for i, _ in ext.store.vanished(10)] == ["en-2"]  # en-1 unlisted (en-2's removal is the line's job)


def test_without_a_state_directory_or_with_rechecks_off_nothing_is_asked(tmp_path: Path) -> None:
    first_run(tmp_path, {"en-1": SITEMAP})
    crawler, ext = history(tmp_path, ARABTODAY_RECHECK_MAX=0)
    crawler.signals.send_catch_log(SOURCE_READ, url=f"{UNIT_BASE}{SITEMAP}", complete=True)
    assert ext.rechecks_due() == []
    crawler = project_crawler()
    assert crawler.get_extension(History).rechecks_due() == []


# -- the spider tells whether a sitemap listed all it holds ---------------------------------------------------------

def sitemap_response(entries: list[tuple[str, str]]) -> XmlResponse:
    body = ('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            + "".join(f"<url><loc>{UNIT_BASE}{path}</loc><lastmod>{stamp}</lastmod></url>" for path, stamp in entries)
            + "</urlset>")
    url = f"{UNIT_BASE}{SITEMAP}"
    return XmlResponse(url, body=body.encode(), request=Request(url, meta={SOURCE: "sitemap"}))


ENTRIES = [("/en/politics/104327/a", "2017-10-07T20:12:00+00:00"),
           ("/ar/politics/680100/b", "2017-10-01T03:51:00+00:00"),
           ("/en/politics/104300/c", "2017-10-01T11:38:00+00:00")]


def read_sitemap(spider_args: dict[str, str], entries: list[tuple[str, str]] = ENTRIES,
                 **settings: Any) -> tuple[list[Request], list[dict[str, Any]]]:
    crawler = project_crawler(spider_args, **settings)
    sent = SignalLog(crawler, SOURCE_READ)
    requests = list(crawler.spider.parse_sitemap(sitemap_response(entries)))
    return requests, sent[SOURCE_READ]


def test_a_sitemap_read_whole_is_complete() -> None:
    requests, sent = read_sitemap({})
    assert sorted(r.meta[ARTICLE_ID] for r in requests) == ["ar-680100", "en-104300", "en-104327"]
    assert sent == [{"url": f"{UNIT_BASE}{SITEMAP}", "complete": True}]


def test_entries_left_out_by_the_window_or_the_edition_make_it_incomplete() -> None:
    for args in ({"since": "2017-10-05"}, {"lang": "en"}):
        requests, sent = read_sitemap(args)
        assert len(requests) < len(ENTRIES), args
        assert sent == [{"url": f"{UNIT_BASE}{SITEMAP}", "complete": False}], args


def test_a_sitemap_stopped_at_its_entry_bound_is_incomplete() -> None:
    requests, sent = read_sitemap({}, ARABTODAY_SITEMAP_MAX_ENTRIES=2)
    assert len(requests) == 2
    assert sent == [{"url": f"{UNIT_BASE}{SITEMAP}", "complete": False}]
