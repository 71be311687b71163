"""How a run ended, as one exit status a scheduler can read.

``scrapy crawl arabtoday`` exits with :func:`exit_status` of the run's stats
(the project's ``crawl`` command, :mod:`arabtoday.commands.crawl`); the run
report carries the same status and reason. The table is in the README.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any


class ExitStatus(enum.IntEnum):
    OK = 0
    INTERNAL_ERROR = 1  # an exception in our code, or the accounting does not add up
    BAD_CONFIG = 2  # bad spider argument or setting: nothing was requested
    ARTICLES_FAILED = 3  # some article pages could not be fetched or parsed (retried next run)
    WRITE_FAILED = 4  # output or state could not be written
    BLOCKED = 5  # the site is blocking the crawler: stopped early
    UNREACHABLE = 6  # no entry point of the site answered
    STATE_UNUSABLE = 7  # the state is locked by another run, or corrupt
    INTERRUPTED_INT = 130  # SIGINT
    INTERRUPTED_TERM = 143  # SIGTERM


# When several causes apply, the first of these wins.
PRECEDENCE = (
    ExitStatus.INTERRUPTED_INT, ExitStatus.INTERRUPTED_TERM, ExitStatus.STATE_UNUSABLE, ExitStatus.WRITE_FAILED,
    ExitStatus.BAD_CONFIG, ExitStatus.INTERNAL_ERROR, ExitStatus.UNREACHABLE, ExitStatus.BLOCKED,
    ExitStatus.ARTICLES_FAILED,
)

class StartError(Exception):
    """A part of the crawl could not start (state locked or corrupt, Redis unusable…).

    ``status`` is the exit status it stands for; the message is the one line the user sees."""

    def __init__(self, message: str, status: ExitStatus = ExitStatus.INTERNAL_ERROR) -> None:
        super().__init__(message)
        self.status = status


CAUSE = "arabtoday/exit/{name}"  # a stat set to 1 by whoever detects the cause


def mark(stats: Any, status: ExitStatus) -> None:
    """Record that a cause of a non-zero exit happened (any component may call it)."""
    stats.set_value(CAUSE.format(name=status.name.lower()), 1)


def _sum(stats: Mapping[str, Any], prefix: str) -> int:
    return sum(int(v) for k, v in stats.items() if k.startswith(prefix) and isinstance(v, int | float))


def exit_status(stats: Mapping[str, Any]) -> tuple[ExitStatus, str]:
    """The status and a one-line reason, from the run's stats (pure: tested without a crawl)."""
    causes = {s for s in ExitStatus if stats.get(CAUSE.format(name=s.name.lower()))}
    failed = _sum(stats, "arabtoday/articles/failed/")
    if failed:
        causes.add(ExitStatus.ARTICLES_FAILED)
    if stats.get("arabtoday/errors/accounting"):
        causes.add(ExitStatus.INTERNAL_ERROR)
    for status in PRECEDENCE:
        if status in causes:
            return status, _REASONS[status].format(failed=failed)
    return ExitStatus.OK, "finished: nothing lost"


_REASONS = {
    ExitStatus.INTERNAL_ERROR: "internal error (see the ERROR lines of the log)",
    ExitStatus.BAD_CONFIG: "could not start: bad argument or setting",
    ExitStatus.ARTICLES_FAILED: "{failed} article page(s) failed; they are retried by the next run",
    ExitStatus.WRITE_FAILED: "output or state could not be written",
    ExitStatus.BLOCKED: "stopped early: the site is blocking the crawler",
    ExitStatus.UNREACHABLE: "the site was unreachable at every entry point",
    ExitStatus.STATE_UNUSABLE: "the state is locked by another run, or corrupt",
    ExitStatus.INTERRUPTED_INT: "interrupted (SIGINT)",
    ExitStatus.INTERRUPTED_TERM: "interrupted (SIGTERM)",
}
