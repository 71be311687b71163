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
from arabtoday.schema import LIVE, LIVE_ORIGIN

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
    DUPLICATE = 2  # a republished copy of another article (its original in ``Seen.original``)
    FAILED = 3  # could not be fetched: try again next run
    REMOVED = 4  # the site took it down (a ``removed`` line is in the dataset)


@dataclass(frozen=True, slots=True)
class Seen:
    status: Status
    content_hash: str | None
    lastmod: str | None  # what the site's sitemap said (<lastmod>) when the page was last fetched
    checked: str | None = None  # when the page was last fetched (ISO 8601 UTC)
    extractor_version: str | None = None  # the extraction code that made content_hash
    revision: int = 0  # the latest revision of the article in the dataset (0: none yet)
    url: str | None = None
    original: str | None = None  # for a copy: the article it republishes


@dataclass(frozen=True, slots=True)
class Emitted:
    """A line made durable in an output file: an article's record, or a ``superseded``/``removed`` line."""

    id: str
    lang: str
    content_hash: str | None
    lastmod: str | None
    duplicate_of: str | None
    crawled_at: str | None = None  # when the page was fetched (or the event found)
    extractor_version: str | None = None  # the extraction code that made content_hash
    status: str = LIVE
    revision: int = 1
    url: str | None = None
    published_at: str | None = None
    removed_at: str | None = None
    origin: str = LIVE_ORIGIN  # where the record's page was read: an archive's capture revives no removed article

    @property
    def archived(self) -> bool:
        """A record read from a web archive (backfill): it says what the page was, never that the site serves it."""
        return self.origin != LIVE_ORIGIN


# How two copies of a story stand: the article claimed is a copy of the other one (published
# later, or as early with a higher id), or the original of it (the other one, held as an original
# until now, is its copy from now on).
COPY_OF, ORIGINAL_OF = "copy_of", "original_of"


@dataclass(frozen=True, slots=True)
class Match:
    kind: str  # ``exact`` or ``near``
    relation: str  # COPY_OF or ORIGINAL_OF
    other: str  # the other article's id (for COPY_OF: the original, resolved through any chain of copies)
    other_url: str | None = None  # for ORIGINAL_OF: the address the other was indexed with (its superseded line's)


def earlier(a: tuple[str | None, str], b: tuple[str | None, str]) -> bool:
    """Whether ``(published_at, id)`` ``a`` is the original of ``b``: published first, the lower id
    (of the same edition) breaking ties. An unknown time counts as the latest."""
    (time_a, id_a), (time_b, id_b) = a, b
    key_a = (time_a or "9999", int(id_a.rpartition("-")[2] or 0))
    key_b = (time_b or "9999", int(id_b.rpartition("-")[2] or 0))
    return key_a < key_b


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
        """Lines durable in ``path`` up to byte ``offset``: now the state holds what they say (an
        article's revision, a copy superseded, a removal). An archived record (:attr:`Emitted.archived`)
        of an article the state holds as removed adds its revision and leaves it removed. ``path=None``:
        an output without a journal (stdout, pipes, whole-document formats), nothing to recover."""

    @abstractmethod
    def claim_index(self, article_id: str, fp: Fingerprint, published_at: str | None = None,
                    url: str | None = None) -> Match | None:
        """Atomically: if ``fp`` matches an article of another id (its original, through any chain of
        copies), return how the two stand (:class:`Match`) and record it (the copy points at the
        original; the index's entries move to a new original); otherwise add ``fp`` to the index under
        ``article_id`` and return None."""

    @abstractmethod
    def copies_of(self, article_id: str) -> list[str]:
        """The ids known to republish the article (sorted)."""

    # -- listings and removals (a backend without them finds nothing vanished) ------------------------------

    def listed(self, article_id: str, source: str) -> None:  # noqa: B027 - optional
        """``source`` (a sitemap, feed or listing) lists the article in this run."""

    def source_read(self, source: str, complete: bool) -> None:  # noqa: B027 - optional
        """``source`` was read in this run, to its end (``complete``) or not (failed, cut short)."""

    def vanished(self, limit: int) -> list[tuple[str, str]]:
        """``(id, url)`` of at most ``limit`` articles in the dataset that no source lists any more:
        each was listed before, only by sources this run read completely, none of which lists it now."""
        return []

    def unlisted(self, article_id: str) -> None:  # noqa: B027 - optional
        """The article is still served though no source lists it: not vanished again."""

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
    if seen.status is Status.REMOVED and not lastmod:
        return False, "removed_before"  # listed again: fetched once its lastmod says it changed
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
