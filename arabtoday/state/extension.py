"""The state's one owner: opened, locked, checked and recovered when the crawler is built,
advanced by the exporters' durability signal, closed when the engine stops.

Other components get the store from here (``crawler.get_extension(StateExtension).store``);
nothing opens it lazily. A state that cannot be used (a directory that is a
file, a database that is not one or is damaged, another run holding the lock)
stops the run before its first request with one line and exit status 7. A
state that fails later (damage met by a read, a disk that fills up) stops the
run with one ERROR line and exit status 7 (4 for a failed write): whichever
part met it, the store tells this owner (:meth:`StateExtension.store_failed`).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from pathlib import Path
from typing import IO, Any

from scrapy import signals
from scrapy.crawler import Crawler

from arabtoday.exitstatus import ExitStatus, StartError, mark
from arabtoday.run.stopping import stop_run
from arabtoday.schema import LIVE, LIVE_ORIGIN
from arabtoday.signals import ARTICLE_DECIDED, LASTMOD_SEEN, OUTPUT_OPENED, RECORDS_DURABLE
from arabtoday.site.ids import IdMap, IdSet
from arabtoday.state.recovery import recover
from arabtoday.state.store import Emitted, StateError, StateStore, Status, open_store
from arabtoday.stats import Bucket, Stat

logger = logging.getLogger(__name__)
LOCK_FILE = "lock"
STATE_ERROR = "state_error"  # the run's close reason when the state fails mid-run


class StateExtension:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self._lock: IO[str] | None = None
        directory = crawler.settings.get("ARABTODAY_STATE_DIR")
        distributed = bool(crawler.settings.get("ARABTODAY_REDIS_URL"))
        self.persistent = bool(directory) or distributed
        if directory and not distributed:
            self._lock = _lock_directory(Path(directory))
        try:
            self.store: StateStore = open_store(crawler.settings)
            recovered = recover(self.store)
        except StateError as exc:
            self.release()
            raise StartError(str(exc), exc.status) from None
        self.store.on_error = self.store_failed
        self.failure: StateError | None = None
        if recovered:
            crawler.stats.set_value(Stat.STATE_RECOVERED, recovered)
        # lastmods the sitemap gave for articles already committed in this run (found first on a listing)
        self._late_lastmods: dict[str, str] = {}
        self._settled = IdMap()  # ids whose fetch settled this run, and their status
        self._written = IdSet()  # ids this run wrote a live record of

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StateExtension:
        ext = cls(crawler)
        crawler.signals.connect(ext.output_opened, signal=OUTPUT_OPENED)
        crawler.signals.connect(ext.records_durable, signal=RECORDS_DURABLE)
        crawler.signals.connect(ext.article_decided, signal=ARTICLE_DECIDED)
        crawler.signals.connect(ext.lastmod_seen, signal=LASTMOD_SEEN)
        crawler.signals.connect(ext.engine_stopped, signal=signals.engine_stopped)
        return ext

    def store_failed(self, error: StateError) -> None:
        """The store met damage or could not write: say it once, and stop the run with its status."""
        if self.failure is not None:
            return
        self.failure = error
        mark(self.crawler.stats, error.status)
        self.crawler.stats.inc_value(Stat.ERROR.format(kind="state"))
        logger.error("%s: the run stops", error)
        stop_run(self.crawler, STATE_ERROR)

    def output_opened(self, path: str, offset: int) -> None:
        with contextlib.suppress(StateError):  # told to store_failed
            self.store.register_output(path, offset)

    def records_durable(self, records: list[Any], path: str | None, offset: int | None) -> None:
        """Lines on disk (records, and the lines of history they carried): the state takes what they say."""
        emitted = [Emitted(r.id, r.lang, r.content_hash, self._late_lastmods.pop(r.id, None) or r.lastmod,
                           r.duplicate_of, r.crawled_at, getattr(r, "extractor_version", None) or None,
                           r.status, r.revision, r.url, r.published_at, r.removed_at,
                           getattr(r, "origin", None) or LIVE_ORIGIN)
                   for r in records]
        with contextlib.suppress(StateError):  # told to store_failed; recovery commits them next run
            self.store.commit_emitted(emitted, path, offset)
            for record in records:
                if record.status == LIVE:
                    self._settled[record.id] = Status.EMITTED
                    self._written.add(record.id)

    def written_this_run(self, article_id: str) -> str | None:
        """The ``content_hash`` of the record this run wrote for the article (None: it wrote none)."""
        if article_id not in self._written:
            return None
        seen = self.store.get(article_id)
        return seen.content_hash if seen is not None else None

    def lastmod_seen(self, article_id: str, lastmod: str) -> None:
        """The sitemap's stamp arrived after the article was requested from a listing: it becomes the
        baseline of the next run once this run's fetch of the article has settled (never before: a
        failed fetch must not look up to date)."""
        settled = self._settled.get(article_id)
        if settled is None:
            self._late_lastmods[article_id] = lastmod
            return
        with contextlib.suppress(StateError):  # told to store_failed
            self.store.mark(article_id, settled, lastmod=lastmod)

    def article_decided(self, article_id: str, bucket: str, reason: str) -> None:
        with contextlib.suppress(StateError):  # told to store_failed
            self._remember(article_id, bucket)

    def _remember(self, article_id: str, bucket: str) -> None:
        if bucket == Bucket.FAILED:
            self._late_lastmods.pop(article_id, None)
            if self.persistent:
                self.store.mark(article_id, Status.FAILED)  # fetch it again next run
        elif bucket in (Bucket.DUPLICATE, Bucket.SKIPPED):
            seen = self.store.get(article_id)
            status = seen.status if seen is not None else Status.DUPLICATE
            self._settled[article_id] = status
            late = self._late_lastmods.pop(article_id, None)
            if late:
                self.store.mark(article_id, status, lastmod=late)
        elif bucket != Bucket.EMITTED:  # dropped, unfinished: nothing to remember
            self._late_lastmods.pop(article_id, None)

    def engine_stopped(self) -> None:
        try:
            self.store.close()
        except StateError:
            pass  # told to store_failed, and logged there
        finally:
            self.release()

    def release(self) -> None:
        if self._lock is not None:
            fcntl.flock(self._lock.fileno(), fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None


def _lock_directory(directory: Path) -> IO[str]:
    """Hold the state directory for this run: a second run on it refuses to start."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handle = (directory / LOCK_FILE).open("a+", encoding="utf-8")
    except OSError as exc:
        raise StartError(f"ARABTODAY_STATE_DIR={directory} is not a usable directory: {exc.strerror or exc}",
                         ExitStatus.STATE_UNUSABLE) from None
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise StartError(f"ARABTODAY_STATE_DIR={directory} is in use by another run ({holder}); "
                         "wait for it to finish, or give this run another ARABTODAY_STATE_DIR",
                         ExitStatus.STATE_UNUSABLE) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}\n")
    handle.flush()
    return handle
