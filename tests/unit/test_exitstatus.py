"""Exit statuses (``arabtoday.exitstatus``): from the run's stats, the gravest cause wins."""

from __future__ import annotations

from arabtoday.exitstatus import ExitStatus, exit_status
from arabtoday.stats import Stat


def test_a_clean_run_exits_zero() -> None:
    assert exit_status({"arabtoday/articles/emitted": 30})[0] is ExitStatus.OK


def test_failed_articles_exit_three_and_say_how_many() -> None:
    status, reason = exit_status({"arabtoday/articles/failed/http_500": 2, "arabtoday/articles/failed/timeout": 1})
    assert status is ExitStatus.ARTICLES_FAILED and reason.startswith("3 article page(s) failed")


def test_the_graver_cause_wins() -> None:
    stats = {"arabtoday/articles/failed/http_500": 1, Stat.EXIT_CAUSE.format(name="write_failed"): 1,
             Stat.EXIT_CAUSE.format(name="blocked"): 1}
    assert exit_status(stats)[0] is ExitStatus.WRITE_FAILED
    stats[Stat.EXIT_CAUSE.format(name="interrupted_term")] = 1
    assert exit_status(stats)[0] is ExitStatus.INTERRUPTED_TERM


def test_an_accounting_gap_is_an_internal_error() -> None:
    assert exit_status({"arabtoday/errors/accounting": 1})[0] is ExitStatus.INTERNAL_ERROR
