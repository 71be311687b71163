"""How a run ended, as one exit status a scheduler can read.

``scrapy crawl arabtoday`` exits with :func:`exit_status` of the run's stats
(the project's ``crawl`` command, :mod:`arabtoday.commands.crawl`); the run
report carries the same status and reason. The table is in the README ("Exit statuses").
Pure: the status is a function of the stats, tested without a crawl.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from arabtoday.stats import Bucket, Stat, bucket_total, total


class ExitStatus(enum.IntEnum):
    OK = 0
    INTERNAL_ERROR = 1  # an exception in our code, or the accounting does not add up
    BAD_CONFIG = 2  # bad spider argument or setting: nothing was requested
    ARTICLES_FAILED = 3  # some article pages could not be fetched or parsed (retried next run)
    WRITE_FAILED = 4  # output or state could not be written
    BLOCKED = 5  # the site is blocking the crawler: stopped early
    UNREACHABLE = 6  # no entry point of the site answered
    STATE_UNUSABLE = 7  # the state is locked by another run, corrupt, or its directory cannot hold it
    DISCOVERY_INCOMPLETE = 8  # a sitemap, feed or listing could not be fetched or read: some articles not reached
    INTERRUPTED_INT = 130  # SIGINT
    INTERRUPTED_TERM = 143  # SIGTERM


class ToolStatus(enum.IntEnum):
    """The helper command's statuses (``arabtoday extract|report|merge|export``)."""

    OK = 0
    INPUT_FAILED = 1  # some input could not be read or processed: each said in one line; the rest was done
    USAGE = 2  # a bad command line (one line says which)
    OUTPUT_FAILED = 4  # what the command writes could not be written
    INTERRUPTED = 130  # SIGINT


# When several causes apply, the first of these wins.
PRECEDENCE = (
    ExitStatus.INTERRUPTED_INT, ExitStatus.INTERRUPTED_TERM, ExitStatus.STATE_UNUSABLE, ExitStatus.WRITE_FAILED,
    ExitStatus.BAD_CONFIG, ExitStatus.INTERNAL_ERROR, ExitStatus.UNREACHABLE, ExitStatus.BLOCKED,
    ExitStatus.DISCOVERY_INCOMPLETE, ExitStatus.ARTICLES_FAILED,
)

class StartError(Exception):
    """A part of the crawl could not start (state locked or corrupt, Redis unusable…).

    ``status`` is the exit status it stands for; the message is the one line the user sees."""

    def __init__(self, message: str, status: ExitStatus = ExitStatus.INTERNAL_ERROR) -> None:
        super().__init__(message)
        self.status = status


# A source that failed for one of these reasons did not answer at all.
UNREACHABLE_KINDS = frozenset({"dns", "connection_refused", "timeout", "response_failed", "download_failed"})
RESPONSES = "response_received_count"  # Scrapy's count of answers


def mark(stats: Any, status: ExitStatus) -> None:
    """Record that a cause of a non-zero exit happened (any component may call it)."""
    stats.set_value(Stat.EXIT_CAUSE.format(name=status.name.lower()), 1)


def unreachable(stats: Mapping[str, Any]) -> int:
    """How many entry points failed to connect in a run that got no answer at all (0: the site answered)."""
    if stats.get(RESPONSES):
        return 0
    return sum(int(v) for k, v in stats.items()
               if k.startswith(Stat.SOURCE_ERRORS) and k.rsplit("/", 1)[-1] in UNREACHABLE_KINDS)


def exit_status(stats: Mapping[str, Any]) -> tuple[ExitStatus, str]:
    """The status and a one-line reason, from the run's stats."""
    causes = {s for s in ExitStatus if stats.get(Stat.EXIT_CAUSE.format(name=s.name.lower()))}
    failed = bucket_total(stats, Bucket.FAILED)
    if failed:
        causes.add(ExitStatus.ARTICLES_FAILED)
    if stats.get(Stat.ACCOUNTING_ERROR):
        causes.add(ExitStatus.INTERNAL_ERROR)
    if unreachable(stats):
        causes.add(ExitStatus.UNREACHABLE)
    sources_failed = total(stats, Stat.SOURCES_FAILED)
    if sources_failed:
        causes.add(ExitStatus.DISCOVERY_INCOMPLETE)
    for status in PRECEDENCE:
        if status in causes:
            return status, _REASONS[status].format(failed=failed, sources=sources_failed)
    return ExitStatus.OK, "finished: nothing lost"


_REASONS = {
    ExitStatus.INTERNAL_ERROR: "internal error (see the ERROR lines of the log)",
    ExitStatus.BAD_CONFIG: "could not start: bad argument or setting",
    ExitStatus.ARTICLES_FAILED: "{failed} article page(s) failed; they are retried by the next run",
    ExitStatus.WRITE_FAILED: "output or state could not be written",
    ExitStatus.BLOCKED: "stopped early: the site is blocking the crawler",
    ExitStatus.UNREACHABLE: "the site (or, for a backfill, the archive) was unreachable at every entry point",
    ExitStatus.STATE_UNUSABLE: "the state is locked by another run, corrupt, or its directory cannot hold it",
    ExitStatus.DISCOVERY_INCOMPLETE: "{sources} source(s) of addresses (sitemap, feed, listing, archive index) failed: "
                                     "discovery is incomplete; the next run reads them again",
    ExitStatus.INTERRUPTED_INT: "interrupted (SIGINT)",
    ExitStatus.INTERRUPTED_TERM: "interrupted (SIGTERM)",
}
