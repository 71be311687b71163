"""The state's one owner (``arabtoday.state.extension.StateExtension``), an extension: opened, locked
and recovered when the crawler is built, advanced by the exporters' and the ledger's signals, closed
(and unlocked) when the engine stops; a state that cannot be used stops the run with status 7.

Built with the crawler from Scrapy's ``get_crawler`` with the project's settings (a state directory
of the test's own); driven by the signals the exporters, the ledger and the incremental skip send.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.settings import Settings

from arabtoday.exitstatus import ExitStatus, StartError
from arabtoday.export.exporters import Receipt
from arabtoday.signals import ARTICLE_DECIDED, LASTMOD_SEEN, OUTPUT_OPENED, RECORDS_DURABLE
from arabtoday.state.extension import LOCK_FILE, StateExtension
from arabtoday.state.sqlite import SqliteStore
from arabtoday.state.store import Status, make_fingerprinter
from arabtoday.stats import Bucket, Stat
from conftest import project_crawler, project_settings, snapshot_article

LATE = "2020-01-01T00:00:00Z"


@pytest.fixture
def crawlers(tmp_path: Path) -> Iterator[Any]:
    """``open_state(**settings)``: a crawler on the test's state directory; every one is stopped (its
    state closed, its lock released) at the end, as the engine's stop does."""
    made: list[Crawler] = []

    def open_state(**settings: Any) -> Crawler:
        crawler = project_crawler(**{"ARABTODAY_STATE_DIR": str(tmp_path / "state"), **settings})
        made.append(crawler)
        return crawler

    yield open_state
    for crawler in made:
        crawler.signals.send_catch_log(signal=signals.engine_stopped)


def state_of(crawler: Crawler) -> StateExtension:
    return crawler.get_extension(StateExtension)


def send(crawler: Crawler, signal: object, **kwargs: Any) -> None:
    crawler.signals.send_catch_log(signal=signal, **kwargs)


def receipt(article_id: str, lastmod: str | None = "2017-10-09T00:30:00Z") -> Receipt:
    return Receipt.of(snapshot_article(id=article_id, lastmod=lastmod))


def test_without_a_state_directory_the_state_is_private_and_not_persistent() -> None:
    state = state_of(project_crawler())
    assert not state.persistent
    state.article_decided("en-1", Bucket.FAILED, "timeout")
    assert state.store.get("en-1") is None  # nothing to retry next run: there is no next run's state


def test_the_directory_is_locked_for_the_run_and_released_when_the_engine_stops(crawlers: Any,
                                                                               tmp_path: Path) -> None:
    first = crawlers()
    assert state_of(first).persistent
    assert (tmp_path / "state" / LOCK_FILE).read_text() == f"pid {os.getpid()}\n"
    with pytest.raises(StartError) as caught:
        crawlers()
    assert caught.value.status is ExitStatus.STATE_UNUSABLE and "in use by another run" in str(caught.value)
    send(first, signals.engine_stopped)
    assert state_of(crawlers()).persistent  # free again


@pytest.mark.parametrize("damage", ["a file where the directory goes", "garbage in the database"])
def test_a_state_that_cannot_be_used_is_a_start_error_with_status_7(tmp_path: Path, damage: str) -> None:
    directory = tmp_path / "state"
    if damage.startswith("a file"):
        directory.write_text("not a directory")
    else:
        directory.mkdir()
        (directory / "state.sqlite3").write_bytes(b"\x00\xffnot a database" * 512)
    with pytest.raises(StartError) as caught:
        project_crawler(ARABTODAY_STATE_DIR=str(directory))
    assert caught.value.status is ExitStatus.STATE_UNUSABLE
    if not damage.startswith("a file"):  # the lock was taken, then given back: a fixed state can be opened
        (directory / "state.sqlite3").unlink()
        project_crawler(ARABTODAY_STATE_DIR=str(directory)).signals.send_catch_log(signal=signals.engine_stopped)


def test_records_an_interrupted_run_left_in_its_output_are_recovered_at_start(tmp_path: Path, crawlers: Any) -> None:
    out = tmp_path / "out.jsonl"
    out.write_bytes(b"")
    earlier = SqliteStore(tmp_path / "state", make_fingerprinter(Settings(project_settings())))
    earlier.register_output(str(out), 0)
    earlier.close()
    record = {"id": "en-5", "lang": "en", "body": "Five words of body text.", "content_hash": "h5",
              "duplicate_of": None}
    out.write_text(json.dumps(record) + "\n" + '{"id": "en-6", "body": "torn', "utf-8")
    crawler = crawlers()
    assert crawler.stats.get_value(Stat.STATE_RECOVERED) == 1
    assert state_of(crawler).store.get("en-5").status is Status.EMITTED
    assert out.read_text("utf-8") == json.dumps(record) + "\n"


def test_announced_records_are_emitted_in_the_state_with_the_output_journalled(crawlers: Any, tmp_path: Path) -> None:
    crawler = crawlers()
    store = state_of(crawler).store
    path = str(tmp_path / "out.jsonl")
    send(crawler, OUTPUT_OPENED, path=path, offset=0)
    assert store.outputs() == [(path, 0, os.getpid())]
    send(crawler, RECORDS_DURABLE, records=[receipt("en-1"), receipt("en-2")], path=path, offset=2048)
    assert store.outputs() == [(path, 2048, os.getpid())]
    seen = store.get("en-1")
    assert (seen.status, seen.lastmod) == (Status.EMITTED, "2017-10-09T00:30:00Z")
    send(crawler, RECORDS_DURABLE, records=[receipt("en-3")], path=None, offset=None)  # stdout, csv, json
    assert store.get("en-3").status is Status.EMITTED and store.outputs() == [(path, 2048, os.getpid())]


def test_a_late_lastmod_waits_for_the_fetch_to_settle_then_becomes_the_baseline(crawlers: Any) -> None:
    crawler = crawlers()
    store = state_of(crawler).store
    send(crawler, LASTMOD_SEEN, article_id="en-1", lastmod=LATE)  # the fetch is still under way
    assert store.get("en-1") is None, "a fetch not settled must not look up to date"
    send(crawler, RECORDS_DURABLE, records=[receipt("en-1")], path=None, offset=None)
    assert store.get("en-1").lastmod == LATE
    send(crawler, LASTMOD_SEEN, article_id="en-1", lastmod="2021-01-01T00:00:00Z")  # after it settled
    assert store.get("en-1").lastmod == "2021-01-01T00:00:00Z"


def test_a_late_lastmod_of_a_failed_fetch_is_forgotten_and_the_failure_kept(crawlers: Any) -> None:
    crawler = crawlers()
    store = state_of(crawler).store
    send(crawler, LASTMOD_SEEN, article_id="en-1", lastmod=LATE)
    send(crawler, ARTICLE_DECIDED, article_id="en-1", bucket=Bucket.FAILED, reason="http_500")
    seen = store.get("en-1")
    assert (seen.status, seen.lastmod) == (Status.FAILED, None)  # fetched again next run
    send(crawler, RECORDS_DURABLE, records=[receipt("en-1", lastmod=None)], path=None, offset=None)
    assert store.get("en-1").lastmod is None  # the forgotten stamp is not applied later


def test_a_skipped_or_duplicate_article_keeps_its_status_and_takes_a_late_lastmod(crawlers: Any) -> None:
    crawler = crawlers()
    store = state_of(crawler).store
    send(crawler, RECORDS_DURABLE, records=[receipt("en-1")], path=None, offset=None)
    send(crawler, LASTMOD_SEEN, article_id="en-2", lastmod=LATE)
    send(crawler, LASTMOD_SEEN, article_id="en-1", lastmod=LATE)
    send(crawler, ARTICLE_DECIDED, article_id="en-2", bucket=Bucket.DUPLICATE, reason="exact")
    assert (store.get("en-2").status, store.get("en-2").lastmod) == (Status.DUPLICATE, LATE)
    assert (store.get("en-1").status, store.get("en-1").lastmod) == (Status.EMITTED, LATE)
    send(crawler, LASTMOD_SEEN, article_id="en-3", lastmod=LATE)
    send(crawler, ARTICLE_DECIDED, article_id="en-3", bucket=Bucket.DROPPED, reason="gone")
    assert store.get("en-3") is None  # dropped: nothing to remember


def test_a_failure_never_demotes_an_article_in_the_dataset(crawlers: Any) -> None:
    crawler = crawlers()
    send(crawler, RECORDS_DURABLE, records=[receipt("en-1")], path=None, offset=None)
    send(crawler, ARTICLE_DECIDED, article_id="en-1", bucket=Bucket.FAILED, reason="timeout")
    assert state_of(crawler).store.get("en-1").status is Status.EMITTED
