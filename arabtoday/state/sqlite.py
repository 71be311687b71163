"""The embedded state: one SQLite file in ``ARABTODAY_STATE_DIR``.

WAL journal, one writer transaction held open between durability points and
committed by :meth:`SqliteStore.flush` (the exporter's fsync cadence), so a
run writes in batches rather than per record. Everything lives on disk, in
indexed ``WITHOUT ROWID`` tables; memory use does not grow with the archive
(SQLite's page cache is bounded by ``CACHE_KIB``).

Damage never becomes a traceback: the file is checked when it is opened
(``PRAGMA quick_check``: every page read once, about 0.6 s for 300,000
articles), and every later call that meets damage (a page overwritten while
the run goes on, a disk that fails) raises :class:`StateCorrupt` or
:class:`StateWriteFailed` after telling the state's owner, which stops the run
with one ERROR line and exit status 7 (4 for a write that failed).
"""

from __future__ import annotations

import functools
import os
import sqlite3
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from arabtoday.cleaning.dates import iso, parse_iso
from arabtoday.dedup.fingerprints import Fingerprint, Fingerprinter, similarity
from arabtoday.state.store import (
    Emitted,
    Seen,
    StateCorrupt,
    StateError,
    StateMismatch,
    StateStore,
    StateWriteFailed,
    Status,
)

SCHEMA_VERSION = 5  # 2: MurmurHash3; 3: outputs record their writer; 4: rowid bands; 5: word-hash shingles
CACHE_KIB = 64 * 1024
BUSY_TIMEOUT_MS = 30_000
WAL_CHECKPOINT_PAGES = 10_000
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY, status INTEGER NOT NULL, content_hash TEXT, lastmod TEXT, updated REAL, extractor TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS exact (key TEXT PRIMARY KEY, id TEXT NOT NULL) WITHOUT ROWID;
-- an LSH band key names the first article that had it: a later one with the same band is a copy
-- candidate of that one; a rowid table keeps the probe a single integer-keyed b-tree search
CREATE TABLE IF NOT EXISTS bands (key INTEGER PRIMARY KEY, id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS signatures (id TEXT PRIMARY KEY, sig BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outputs (
    path TEXT PRIMARY KEY, committed INTEGER NOT NULL, pid INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
"""


def _epoch(stamp: str | None) -> float | None:
    parsed = parse_iso(stamp)
    return parsed.timestamp() if parsed else None


# SQLite's words for a write that failed (the disk), as opposed to a file that is damaged or foreign.
_WRITE_FAILURES = ("disk is full", "disk i/o error", "readonly database", "read-only", "unable to open")


def state_error(path: Path | None, exc: sqlite3.Error) -> StateError:
    """The project's error for an SQLite error, with the one line the user sees."""
    where = f"ARABTODAY_STATE_DIR: {path}" if path else "the in-memory state"
    exc = " ".join(str(exc).split())  # type: ignore[assignment]  (one line, whatever SQLite said)
    text = str(exc).lower()
    if any(words in text for words in _WRITE_FAILURES):
        return StateWriteFailed(f"{where} cannot be written ({exc}); free space or fix the disk, then run again")
    return StateCorrupt(f"{where} is damaged or not this project's state ({exc}); move it away to start afresh, "
                        "or restore it from a backup")


def guarded(method: Callable[..., Any]) -> Callable[..., Any]:
    """An SQLite error in a call becomes a :class:`StateError`, told to the state's owner first."""

    @functools.wraps(method)
    def call(self: SqliteStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise self.failed(state_error(self.path, exc)) from None

    return call


class SqliteStore(StateStore):
    def __init__(self, directory: Path | None, fingerprinter: Fingerprinter) -> None:
        """``directory=None``: a private in-memory state (``extract``, tests)."""
        self.path = directory / "state.sqlite3" if directory else None
        self.fingerprinter = fingerprinter
        try:
            if directory:
                directory.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path or ":memory:", isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise StateCorrupt(f"ARABTODAY_STATE_DIR={directory} is not a usable directory: {exc}") from None
        try:
            self.db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable at checkpoints, never corrupt
            self.db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            # checkpoint the WAL every ~40 MB rather than every 4 MB: band keys are random, so
            # each commit dirties many pages, and each checkpoint costs an fsync
            self.db.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
            self.db.executescript(SCHEMA)
            self._migrate()
            self._check_integrity()
        except sqlite3.Error as exc:  # garbage bytes, a damaged page, another program's database, a full disk
            self.db.close()
            raise state_error(self.path, exc) from None
        self._check_params()
        self._in_tx = False
        self._run_claims: set[str] = set()  # one process per run: the claims live with it

    def _migrate(self) -> None:
        """Columns added since a state was created (additive: older states keep working)."""
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(articles)")}
        if "extractor" not in columns:
            self.db.execute("ALTER TABLE articles ADD COLUMN extractor TEXT")
        if not {"id", "status", "content_hash", "lastmod", "updated"} <= columns | {"extractor"}:
            raise sqlite3.DatabaseError("the articles table lacks this project's columns")

    def _check_integrity(self) -> None:
        """Every page read once (``quick_check``): a page overwritten with garbage is found here, at the
        start, rather than by the first read that meets it."""
        if self.path is None:
            return
        problems = [" ".join(str(row[0]).split()) for row in self.db.execute("PRAGMA quick_check(3)")]
        if problems != ["ok"]:
            raise sqlite3.DatabaseError("; ".join(problems))

    def _check_params(self) -> None:
        want = f"v{SCHEMA_VERSION} perm={self.fingerprinter.num_perm} bands={self.fingerprinter.bands}" \
               f"x{self.fingerprinter.rows}"
        row = self.db.execute("SELECT value FROM meta WHERE key='params'").fetchone()
        if row is None:
            self.db.execute("INSERT INTO meta VALUES ('params', ?)", (want,))
        elif row[0] != want:
            raise StateMismatch(f"{self.path} was built with {row[0]}, these settings need {want}: "
                                "use another ARABTODAY_STATE_DIR or the same near-duplicate settings")

    def _tx(self) -> sqlite3.Connection:
        if not self._in_tx:
            self.db.execute("BEGIN IMMEDIATE")
            self._in_tx = True
        return self.db

    @guarded
    def flush(self) -> None:
        if self._in_tx:
            self.db.execute("COMMIT")
            self._in_tx = False

    @guarded
    def get(self, article_id: str) -> Seen | None:
        row = self.db.execute("SELECT status, content_hash, lastmod, updated, extractor FROM articles WHERE id=?",
                              (article_id,)).fetchone()
        if row is None:
            return None
        checked = iso(datetime.fromtimestamp(row[3], timezone.utc)) if row[3] else None
        return Seen(Status(row[0]), row[1], row[2], checked, row[4])

    @guarded
    def mark(self, article_id: str, status: Status, content_hash: str | None = None,
             lastmod: str | None = None, extractor_version: str | None = None) -> None:
        self._tx().execute(
            "INSERT INTO articles VALUES (?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET "
            "status=CASE WHEN excluded.status=3 AND articles.status=1 THEN 1 ELSE excluded.status END, "
            "content_hash=COALESCE(excluded.content_hash, articles.content_hash), "
            "lastmod=COALESCE(excluded.lastmod, articles.lastmod), updated=excluded.updated, "
            "extractor=COALESCE(excluded.extractor, articles.extractor)",
            (article_id, int(status), content_hash, lastmod, time.time(), extractor_version))

    @guarded
    def commit_emitted(self, records: list[Emitted], path: str | None, offset: int | None) -> None:
        db = self._tx()
        now = time.time()
        db.executemany(
            "INSERT INTO articles VALUES (?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET status=excluded.status, "
            "content_hash=excluded.content_hash, lastmod=COALESCE(excluded.lastmod, articles.lastmod), "
            "updated=excluded.updated, extractor=COALESCE(excluded.extractor, articles.extractor)",
            [(r.id, int(Status.EMITTED), r.content_hash, r.lastmod, _epoch(r.crawled_at) or now,
              r.extractor_version) for r in records])
        if path is not None and offset is not None:
            db.execute("INSERT INTO outputs VALUES (?,?,?) ON CONFLICT(path) DO UPDATE SET "
                       "committed=excluded.committed", (path, offset, os.getpid()))
        self.flush()

    @guarded
    def claim_index(self, article_id: str, fp: Fingerprint) -> tuple[str, str] | None:
        db = self._tx()
        exact_key = f"{fp.lang}:{fp.content_hash}"
        row = db.execute("SELECT id FROM exact WHERE key=?", (exact_key,)).fetchone()
        if row and row[0] != article_id:
            return "exact", row[0]
        marks = ",".join("?" * len(fp.bands))
        rows = db.execute(
            f"SELECT DISTINCT b.id, s.sig FROM bands b JOIN signatures s ON s.id = b.id WHERE b.key IN ({marks})",
            fp.bands).fetchall()
        best: tuple[float, str] | None = None
        for other, sig in rows:
            if other == article_id:
                continue
            score = similarity(fp.signature, sig)
            if score >= self.fingerprinter.threshold and (best is None or score > best[0]):
                best = (score, other)
        if best:
            return "near", best[1]
        db.execute("INSERT OR REPLACE INTO exact VALUES (?,?)", (exact_key, article_id))
        db.executemany("INSERT OR IGNORE INTO bands VALUES (?,?)", [(k, article_id) for k in fp.bands])
        db.execute("INSERT OR REPLACE INTO signatures VALUES (?,?)", (article_id, fp.signature))
        return None

    def claim_run(self, article_id: str) -> bool:
        if article_id in self._run_claims:
            return False
        self._run_claims.add(article_id)
        return True

    @guarded
    def register_output(self, path: str, offset: int) -> None:
        self._tx().execute("INSERT INTO outputs VALUES (?,?,?) ON CONFLICT(path) DO UPDATE SET "
                           "committed=excluded.committed, pid=excluded.pid", (path, offset, os.getpid()))
        self.flush()

    @guarded
    def outputs(self) -> list[tuple[str, int, int]]:
        return [(p, int(o), int(w)) for p, o, w in self.db.execute("SELECT path, committed, pid FROM outputs")]

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.db.close()
