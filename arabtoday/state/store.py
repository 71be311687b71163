"""What earlier runs did: the state behind incremental crawls and deduplication.

One interface, two backends: SQLite in ``ARABTODAY_STATE_DIR`` (one machine,
the default) and Redis at ``ARABTODAY_REDIS_URL`` (several machines sharing
one crawl). The state holds, per article id, its status (emitted, duplicate,
failed), content hash and the ``lastmod`` the site gave; the exact and
near-duplicate index (:mod:`arabtoday.dedup.fingerprints`); and a journal of output files
with the byte offset up to which their records are committed.

Crash recovery (records that reached an output but not the state) is
:mod:`arabtoday.state.recovery`.
"""

from __future__ import annotations

import enum
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arabtoday.dedup.fingerprints import Fingerprint, Fingerprinter
from arabtoday.exitstatus import ExitStatus

logger = logging.getLogger(__name__)


class StateError(RuntimeError):
    """The state cannot be used; ``status`` is the exit status it stands for, the message the one line shown."""

    status = ExitStatus.STATE_UNUSABLE


class StateCorrupt(StateError):
    """The state cannot be read as this project's state (a damaged or foreign file)."""


class StateMismatch(StateError):
    """The state was built with other deduplication parameters."""


class StateWriteFailed(StateError):
    """The state could not be written (disk full, read-only, I/O error): like any unwritable output."""

    status = ExitStatus.WRITE_FAILED


class Status(enum.IntEnum):
    EMITTED = 1  # a record with this id is in the dataset
    DUPLICATE = 2  # a republished copy of another article: not emitted (or emitted flagged)
    FAILED = 3  # could not be fetched: try again next run


@dataclass(frozen=True, slots=True)
class Seen:
    status: Status
    content_hash: str | None
    lastmod: str | None  # what the site's sitemap said (<lastmod>) when the page was last fetched
    checked: str | None = None  # when the page was last fetched (ISO 8601 UTC)
    extractor_version: str | None = None  # the extraction code that made content_hash


@dataclass(frozen=True, slots=True)
class Emitted:
    """A record made durable in an output file."""

    id: str
    lang: str
    content_hash: str
    lastmod: str | None
    duplicate_of: str | None
    crawled_at: str | None = None  # when the page was fetched
    extractor_version: str | None = None  # the extraction code that made content_hash


class StateStore(ABC):
    """The operations the crawler needs; each backend implements them atomically.

    A backend raises :class:`StateError` for a state it cannot use, and calls ``on_error`` (set by
    the state's owner, :class:`arabtoday.state.extension.StateExtension`) first, so that the run
    stops with the right status whichever part was reading or writing."""

    fingerprinter: Fingerprinter
    on_error: Callable[[StateError], None] | None = None

    def failed(self, error: StateError) -> StateError:
        """Tell the owner, then return the error for the caller to raise."""
        if self.on_error is not None:
            self.on_error(error)
        return error

    @abstractmethod
    def get(self, article_id: str) -> Seen | None: ...

    @abstractmethod
    def mark(self, article_id: str, status: Status, content_hash: str | None = None,
             lastmod: str | None = None, extractor_version: str | None = None) -> None:
        """Record a status that needs no output file (duplicates dropped, failures, new lastmods).
        A failure never demotes an article that is in the dataset."""

    @abstractmethod
    def commit_emitted(self, records: list[Emitted], path: str | None, offset: int | None) -> None:
        """Records durable in ``path`` up to byte ``offset``: now they are emitted. ``path=None``:
        an output without a journal (stdout, pipes, whole-document formats), nothing to recover."""

    @abstractmethod
    def claim_index(self, article_id: str, fp: Fingerprint) -> tuple[str, str] | None:
        """Atomically: if ``fp`` duplicates an article of another id, return ``(kind, that id)``
        with kind ``exact`` or ``near``; otherwise add ``fp`` to the index under ``article_id``."""

    @abstractmethod
    def register_output(self, path: str, offset: int) -> None:
        """A file this process starts writing (its pid is recorded as the file's writer)."""

    @abstractmethod
    def outputs(self) -> list[tuple[str, int, int]]:
        """``(path, committed offset, writer pid)`` of the output files written on this host."""

    @abstractmethod
    def claim_run(self, article_id: str) -> bool:
        """True the first time an id is claimed in this run (by any worker sharing the state)."""

    def flush(self) -> None:  # noqa: B027 - optional for backends that write through
        """Make pending writes durable."""

    @abstractmethod
    def close(self) -> None: ...


def should_fetch(seen: Seen | None, lastmod: str | None) -> tuple[bool, str]:
    """Whether an article page needs fetching, given the state and the sitemap's ``lastmod``.

    New, failed last time, or its ``lastmod`` differs from the one the site gave
    when the page was last fetched: fetch. Otherwise: skip. Only the site's own
    stamps are compared (never our fetch time: an edit stamped earlier than our
    last visit is still an edit; never a feed's publication date).
    """
    if seen is None:
        return True, "new"
    if seen.status is Status.FAILED:
        return True, "failed_before"
    if lastmod and lastmod != seen.lastmod:
        return True, "lastmod_moved"
    return False, "already_seen"


def is_real_edit(seen: Seen, content_hash: str, extractor_version: str | None, lastmod: str | None) -> bool:
    """Is a changed ``content_hash`` an edit by the site, or only our extractor reading the same page
    differently? A new extractor version with the site's ``lastmod`` unchanged is not an edit."""
    if seen.content_hash == content_hash:
        return False
    if seen.extractor_version and extractor_version and seen.extractor_version != extractor_version:
        return bool(lastmod and seen.lastmod and lastmod != seen.lastmod)
    return True


def make_fingerprinter(settings: Any) -> Fingerprinter:
    return Fingerprinter(settings.getfloat("ARABTODAY_NEAR_DUP_THRESHOLD"),
                         settings.getint("ARABTODAY_NEAR_DUP_PERMUTATIONS"))


def open_store(settings: Any) -> StateStore:
    """The backend the settings choose: Redis when ``ARABTODAY_REDIS_URL`` is set, SQLite in
    ``ARABTODAY_STATE_DIR`` when that is, else a private in-memory store (one run, no history)."""
    fingerprinter = make_fingerprinter(settings)
    redis_url = settings.get("ARABTODAY_REDIS_URL")
    if redis_url:
        from arabtoday.state.redis import RedisStore

        return RedisStore(redis_url, fingerprinter, settings.get("ARABTODAY_REDIS_PREFIX"),
                          timeout=settings.getfloat("ARABTODAY_REDIS_TIMEOUT"))
    from arabtoday.state.sqlite import SqliteStore

    directory = settings.get("ARABTODAY_STATE_DIR")
    return SqliteStore(Path(directory) if directory else None, fingerprinter)
