"""The ledger (``arabtoday.run.ledger.Ledger``), an extension: every article request the scheduler
takes opens one account (``request_scheduled`` with meta ``article_id``), closed once by its first
outcome, in exactly one bucket; accounts move between workers (``hand_off``/``take_on``); what is
still open when a run closes early is ``unfinished``, and at a normal close it is an error.

The ledger is the one the project's settings build on a crawler from Scrapy's ``get_crawler``
(``crawler.get_extension``); it is driven by the signals Scrapy and the project send, as in a crawl.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from scrapy import Request, signals
from scrapy.exceptions import DropItem
from scrapy.http import HtmlResponse
from twisted.python.failure import Failure

from arabtoday.run.ledger import Dropped, Ledger, article_key
from arabtoday.signals import ARTICLE_DECIDED, ARTICLE_OUTCOME
from arabtoday.stats import Bucket, Stat
from conftest import UNIT_BASE, SignalLog, project_crawler, snapshot_article

REQUESTED = Stat.REQUESTED


class Books:
    """A crawler, its ledger and what the ledger announced."""

    def __init__(self) -> None:
        self.crawler = project_crawler()
        self.ledger = self.crawler.get_extension(Ledger)
        self.decided = SignalLog(self.crawler, ARTICLE_DECIDED)

    def send(self, signal: object, **kwargs: Any) -> None:
        self.crawler.signals.send_catch_log(signal=signal, spider=self.crawler.spider, **kwargs)

    def schedule(self, article_id: str | None, **meta: Any) -> Request:
        request = Request(f"{UNIT_BASE}/en/politics/{(article_id or 'x-0').split('-')[1]}/x",
                          meta={"article_id": article_id, **meta} if article_id else meta)
        self.send(signals.request_scheduled, request=request)
        return request

    def stat(self, name: str) -> Any:
        return self.crawler.stats.get_value(name)

    def outcomes(self) -> dict[str, int]:
        return {k: v for k, v in self.crawler.stats.get_stats().items()
                if k.startswith(Stat.ARTICLES) and k != REQUESTED}


def test_an_account_opens_when_an_article_request_is_scheduled_and_only_then() -> None:
    books = Books()
    books.schedule(None, source="listing")  # not an article page
    assert books.ledger.open == {} and books.stat(REQUESTED) is None
    first = books.schedule("en-1")
    books.schedule("en-1", retry_times=1)  # a retry, another address, a redirect: the same account
    assert books.ledger.open == {"en-1": first.url}
    assert books.stat(REQUESTED) == 1


def test_an_account_closes_once_with_its_first_outcome() -> None:
    books = Books()
    books.schedule("en-1")
    books.send(signals.item_scraped, item=snapshot_article(id="en-1", lang="en"), response=None)
    books.send(signals.item_dropped, item=snapshot_article(id="en-1"), response=None,
               exception=Dropped(Bucket.DUPLICATE, "same_id", "again"))
    books.send(ARTICLE_OUTCOME, article_id="en-1", url="u", bucket=Bucket.FAILED, reason="http_500")
    assert books.outcomes() == {Stat.EMITTED: 1}
    assert books.decided[ARTICLE_DECIDED] == [{"article_id": "en-1", "bucket": Bucket.EMITTED, "reason": ""}]
    assert books.stat(Stat.EMITTED_LANG.format(lang="en")) == 1 and books.stat(Stat.EMITTED_NEW) == 1
    books.schedule("en-1")  # decided in this run: scheduling it again opens nothing
    assert books.ledger.open == {} and books.stat(REQUESTED) == 1


@pytest.mark.parametrize(("signal", "kwargs", "outcome"), [
    (signals.item_dropped, {"exception": Dropped(Bucket.DUPLICATE, "exact", "copy of en-0")}, "duplicate/exact"),
    (signals.item_dropped, {"exception": Dropped(Bucket.SKIPPED, "unchanged", "x")}, "skipped/unchanged"),
    (signals.item_dropped, {"exception": DropItem("someone else's pipeline")}, "dropped/other"),
    (signals.item_error, {"failure": Failure(KeyError("body"))}, "failed/pipeline/KeyError"),
])
def test_an_item_s_outcome_closes_its_account_in_the_bucket_it_names(signal: object, kwargs: dict[str, Any],
                                                                     outcome: str) -> None:
    books = Books()
    books.schedule("en-1")
    books.send(signal, item=snapshot_article(id="en-1"), response=None, **kwargs)
    assert books.outcomes() == {Stat.ARTICLES + outcome: 1}
    bucket, reason = outcome.split("/", 1)
    assert books.decided[ARTICLE_DECIDED] == [{"article_id": "en-1", "bucket": bucket, "reason": reason}]


def test_outcomes_without_an_item_close_their_account() -> None:
    books = Books()
    for n in range(1, 5):
        books.schedule(f"en-{n}")
    books.send(ARTICLE_OUTCOME, article_id="en-1", url="u", bucket=Bucket.DROPPED, reason="gone")
    response = HtmlResponse(f"{UNIT_BASE}/en/politics/2/x", body=b"", request=Request(
        f"{UNIT_BASE}/en/politics/2/x", meta={"article_id": "en-2"}))
    books.send(signals.spider_error, failure=Failure(ValueError("boom")), response=response)
    loop = Request(f"{UNIT_BASE}/a", meta={"article_id": "en-3", "redirect_urls": [f"{UNIT_BASE}/a", f"{UNIT_BASE}/b"]})
    books.send(signals.request_dropped, request=loop)  # a redirect back into its own chain
    seen = Request(f"{UNIT_BASE}/c", meta={"article_id": "en-4", "redirect_urls": [f"{UNIT_BASE}/d"]})
    books.send(signals.request_dropped, request=seen)  # to an address already fetched in this run
    assert books.outcomes() == {"arabtoday/articles/dropped/gone": 1, "arabtoday/articles/failed/parse": 1,
                                "arabtoday/articles/failed/redirect/loop": 1,
                                "arabtoday/articles/duplicate/same_address": 1}
    assert books.ledger.open == {}


def test_an_item_is_accounted_under_the_id_it_was_requested_for() -> None:
    books = Books()
    books.schedule("en-1")
    moved = snapshot_article(id="en-9", requested_id="en-1")  # an id-changing redirect
    assert article_key(moved) == "en-1"
    books.send(signals.item_scraped, item=moved, response=None)
    assert books.ledger.open == {} and books.stat(Stat.EMITTED) == 1


def test_an_update_is_counted_as_such() -> None:
    books = Books()
    books.schedule("en-1")
    books.send(signals.item_scraped, item=snapshot_article(id="en-1", change="updated"), response=None)
    assert books.stat(Stat.EMITTED_UPDATED) == 1 and books.stat(Stat.EMITTED_NEW) is None


def test_hand_off_and_take_on_move_an_account_between_workers() -> None:
    books = Books()
    books.schedule("en-1")
    books.ledger.hand_off("en-1")  # queued for another worker: not this one's to settle
    assert books.ledger.open == {} and books.stat(REQUESTED) == 0
    books.ledger.hand_off("en-1")  # nothing open: nothing moves
    assert books.stat(REQUESTED) == 0
    books.schedule("en-2")
    books.send(ARTICLE_OUTCOME, article_id="en-2", url="u", bucket=Bucket.DUPLICATE, reason="same_address")
    books.ledger.take_on("en-2", f"{UNIT_BASE}/en/politics/2/x")  # this worker took it from the shared queue
    assert books.ledger.is_open("en-2") and books.stat(REQUESTED) == 2
    books.send(ARTICLE_OUTCOME, article_id="en-2", url="u", bucket=Bucket.FAILED, reason="timeout")
    assert books.stat("arabtoday/articles/failed/timeout") == 1


def test_an_early_close_settles_what_is_open_as_unfinished() -> None:
    books = Books()
    for n in (1, 2, 3):
        books.schedule(f"en-{n}")
    books.send(ARTICLE_OUTCOME, article_id="en-1", url="u", bucket=Bucket.DROPPED, reason="gone")
    books.send(signals.spider_closed, reason="max_articles")
    assert books.outcomes() == {"arabtoday/articles/dropped/gone": 1, "arabtoday/articles/unfinished/max_articles": 2}
    assert books.ledger.open == {}
    assert [d["bucket"] for d in books.decided[ARTICLE_DECIDED]] == [Bucket.DROPPED, Bucket.UNFINISHED,
                                                                     Bucket.UNFINISHED]


def test_an_account_still_open_at_a_normal_close_is_an_error_not_a_bucket(caplog: pytest.LogCaptureFixture) -> None:
    books = Books()
    request = books.schedule("en-1")
    with caplog.at_level(logging.ERROR, logger="arabtoday.run.ledger"):
        books.send(signals.spider_closed, reason="finished")
    assert books.outcomes() == {}
    assert books.ledger.open == {"en-1": request.url}  # the accounting will not add up: the report says so
    messages = [r.getMessage() for r in caplog.records if r.name == "arabtoday.run.ledger"]
    assert messages == [f"article reached no outcome (a bug): en-1 {request.url}",
                        "1 article(s) reached no outcome: the accounting will not add up"]
