"""Block pages (``arabtoday.run.blocking``): one body served for many article addresses, or a short
page that says it blocks; and the block watch (``BlockWatch``, an extension), which stops a run whose
recent article fetches were mostly blocked."""

from __future__ import annotations

from typing import Any

from arabtoday.exitstatus import ExitStatus, exit_status
from arabtoday.run.blocking import BLOCKED, BlockPageDetector, BlockWatch, says_blocked
from arabtoday.signals import ARTICLE_DECIDED, RUN_STOPPING
from arabtoday.stats import Bucket, Stat
from conftest import EngineStandIn, SignalLog, project_crawler


def test_one_body_for_many_article_addresses_is_a_block_page() -> None:
    detector = BlockPageDetector()
    page = b"<html><body><h1>Please wait</h1></body></html>"
    verdicts = [detector.served_for_many(page, f"https://x/en/politics/{n}") for n in range(4)]
    assert verdicts == [False, False, True, True]
    assert not detector.served_for_many(page.replace(b"wait", b"hold"), "https://x/en/politics/9")


def test_a_short_page_that_says_it_blocks_is_one_and_an_article_that_mentions_it_is_not() -> None:
    assert says_blocked(b"<html><title>Access denied</title><body>Access denied</body></html>")
    assert says_blocked("<html><body>تم حظر عنوانك</body></html>".encode())
    article = b'<html><head><meta property="og:type" content="article"></head><body>Entry was forbidden.</body>'
    assert not says_blocked(article)


# -- the block watch: an extension built by the project's settings on a get_crawler crawler ------------------------

def watched(window: int = 4, ratio: float = 0.75) -> tuple[Any, BlockWatch, EngineStandIn, SignalLog]:
    crawler = project_crawler(ARABTODAY_BLOCKED_WINDOW=window, ARABTODAY_BLOCKED_RATIO=ratio)
    return crawler, crawler.get_extension(BlockWatch), EngineStandIn(crawler), SignalLog(crawler, RUN_STOPPING)


def decide(crawler: Any, *outcomes: tuple[str, str]) -> None:
    for n, (bucket, reason) in enumerate(outcomes):
        crawler.signals.send_catch_log(signal=ARTICLE_DECIDED, article_id=f"en-{n}", bucket=bucket, reason=reason)


BLOCKED_FETCH = (Bucket.FAILED, BLOCKED)


def test_a_run_the_site_blocks_is_stopped_once_with_exit_status_5() -> None:
    crawler, _, engine, sent = watched(window=4, ratio=0.75)
    decide(crawler, (Bucket.EMITTED, ""), BLOCKED_FETCH, BLOCKED_FETCH)
    assert engine.closed == []  # the window is not full yet
    decide(crawler, BLOCKED_FETCH)  # 3 of the last 4
    assert engine.closed == [BLOCKED] and sent[RUN_STOPPING] == [{"reason": BLOCKED}]
    assert crawler.stats.get_value(Stat.EXIT_CAUSE.format(name="blocked")) == 1
    assert exit_status(crawler.stats.get_stats())[0] is ExitStatus.BLOCKED
    decide(crawler, BLOCKED_FETCH, BLOCKED_FETCH)
    assert engine.closed == [BLOCKED]  # stopped once


def test_other_failures_and_unfinished_articles_are_not_blocks() -> None:
    crawler, watch, engine, _ = watched(window=4, ratio=0.75)
    decide(crawler, (Bucket.FAILED, "http_500"), (Bucket.FAILED, "timeout"), BLOCKED_FETCH, BLOCKED_FETCH)
    assert sum(watch.window) == 2 and engine.closed == []  # other failures count as answers, not blocks
    crawler, watch, engine, _ = watched(window=4, ratio=0.75)
    decide(crawler, BLOCKED_FETCH, BLOCKED_FETCH, BLOCKED_FETCH, (Bucket.UNFINISHED, "shutdown"),
           (Bucket.UNFINISHED, "shutdown"))
    assert list(watch.window) == [True, True, True] and engine.closed == []  # unfinished: no answer to judge
    decide(crawler, BLOCKED_FETCH)
    assert engine.closed == [BLOCKED]
    assert crawler.stats.get_value(Stat.EXIT_CAUSE.format(name="blocked")) == 1


def test_the_window_moves_so_that_old_blocks_are_forgotten() -> None:
    crawler, _, engine, _ = watched(window=4, ratio=0.75)
    decide(crawler, BLOCKED_FETCH, BLOCKED_FETCH, (Bucket.EMITTED, ""), (Bucket.EMITTED, ""),
           (Bucket.EMITTED, ""), BLOCKED_FETCH, BLOCKED_FETCH)
    assert engine.closed == []  # never 3 blocks among 4 consecutive outcomes
    decide(crawler, BLOCKED_FETCH)
    assert engine.closed == [BLOCKED]
