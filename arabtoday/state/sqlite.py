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
from arabtoday.schema import LIVE, REMOVED, SUPERSEDED
from arabtoday.site.ids import IdSet
from arabtoday.state.store import (
    COPY_OF,
    ORIGINAL_OF,
    Emitted,
    Match,
    Seen,
    StateCorrupt,
    StateError,
    StateMismatch,
    StateStore,
    StateWriteFailed,
    Status,
    earlier,
)

# The fingerprints' format: a state built with another cannot be read (2: MurmurHash3; 3: outputs record
# their writer; 4: rowid bands; 5: word-hash shingles). Columns and tables added since are migrated in place.
FINGERPRINT_VERSION = 5
# SQLite's own page cache, in this process's memory (the OS caches the file beyond it, a miss costs a
# read): bounded so that a crawl's memory does not grow with its state.
CACHE_KIB = 8 * 1024
BUSY_TIMEOUT_MS = 30_000
WAL_CHECKPOINT_PAGES = 10_000
CHAIN_LIMIT = 64  # copies of copies followed to the original at most this deep (a cycle cannot hang a run)
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY, status INTEGER NOT NULL, content_hash TEXT, lastmod TEXT, updated REAL, extractor TEXT
) WITHOUT ROWID;
-- each revision of an article the dataset holds: its text's hash and when it was fetched
CREATE TABLE IF NOT EXISTS revisions (
    id TEXT NOT NULL, revision INTEGER NOT NULL, content_hash TEXT NOT NULL, crawled_at TEXT,
    PRIMARY KEY (id, revision)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS exact (key TEXT PRIMARY KEY, id TEXT NOT NULL) WITHOUT ROWID;
-- an LSH band key names an original that had it: a later one with the same band is a copy candidate
-- of that one; a rowid table keeps the probe a single integer-keyed b-tree search
CREATE TABLE IF NOT EXISTS bands (key INTEGER PRIMARY KEY, id TEXT NOT NULL);
-- the originals in the index, with their signature and publication time (which decides originals)
CREATE TABLE IF NOT EXISTS signatures (id TEXT PRIMARY KEY, sig BLOB NOT NULL) WITHOUT ROWID;
-- a copy and the article it republishes (always an original: chains are flattened)
CREATE TABLE IF NOT EXISTS copies (id TEXT PRIMARY KEY, original TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS copies_of ON copies (original);
-- which sources (sitemaps, feeds, listings) listed an article, and in which run last
CREATE TABLE IF NOT EXISTS listings (
    id TEXT NOT NULL, source TEXT NOT NULL, run INTEGER NOT NULL, PRIMARY KEY (id, source)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS runs (run INTEGER PRIMARY KEY, started REAL NOT NULL);
CREATE TABLE IF NOT EXISTS run_sources (
    run INTEGER NOT NULL, source TEXT NOT NULL, complete INTEGER NOT NULL, PRIMARY KEY (run, source)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outputs (
    path TEXT PRIMARY KEY, committed INTEGER NOT NULL, pid INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
"""
# Columns added to ``articles`` since states were first made (additive: older states keep working).
ARTICLE_COLUMNS = {"extractor": "TEXT", "revision": "INTEGER NOT NULL DEFAULT 0", "url": "TEXT",
                   "published": "TEXT", "removed": "TEXT", "run": "INTEGER"}  # run: the last that fetched it


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
            self._check_integrity()
            self.db.executescript(SCHEMA)
            self._migrate()
            self.run = int(self.db.execute("INSERT INTO runs (started) VALUES (?)", (time.time(),)).lastrowid or 0)
        except sqlite3.Error as exc:  # garbage bytes, a damaged page, another program's database, a full disk
            self.db.close()
            raise state_error(self.path, exc) from None
        self._check_params()
        self._in_tx = False
        self._run_claims = IdSet()  # one process per run: the claims live with it

    def _migrate(self) -> None:
        """Columns added since a state was created (additive: older states keep working)."""
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(articles)")}
        if not {"id", "status", "content_hash", "lastmod", "updated"} <= columns:
            raise sqlite3.DatabaseError("the articles table lacks this project's columns")
        for name, kind in ARTICLE_COLUMNS.items():
            if name not in columns:
                self.db.execute(f"ALTER TABLE articles ADD COLUMN {name} {kind}")
        signature_columns = {row[1] for row in self.db.execute("PRAGMA table_info(signatures)")}
        for name in ("published", "url"):
            if name not in signature_columns:
                self.db.execute(f"ALTER TABLE signatures ADD COLUMN {name} TEXT")

    def _check_integrity(self) -> None:
        """Every page read once (``quick_check``): a page overwritten with garbage is found here, at the
        start, rather than by the first read that meets it."""
        if self.path is None:
            return
        problems = [" ".join(str(row[0]).split()) for row in self.db.execute("PRAGMA quick_check(3)")]
        if problems != ["ok"]:
            raise sqlite3.DatabaseError("; ".join(problems))

    def _check_params(self) -> None:
        want = f"v{FINGERPRINT_VERSION} perm={self.fingerprinter.num_perm} bands={self.fingerprinter.bands}" \
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
        row = self.db.execute(
            "SELECT a.status, a.content_hash, a.lastmod, a.updated, a.extractor, a.revision, a.url, c.original "
            "FROM articles a LEFT JOIN copies c ON c.id = a.id WHERE a.id=?", (article_id,)).fetchone()
        if row is None:
            return None
        checked = iso(datetime.fromtimestamp(row[3], timezone.utc)) if row[3] else None
        return Seen(Status(row[0]), row[1], row[2], checked, row[4], int(row[5] or 0), row[6], row[7])

    @guarded
    def mark(self, article_id: str, status: Status, content_hash: str | None = None,
             lastmod: str | None = None, extractor_version: str | None = None) -> None:
        self._tx().execute(
            "INSERT INTO articles (id, status, content_hash, lastmod, updated, extractor, run) VALUES (?,?,?,?,?,?,?) "
            "ON CONFLICT(id) DO UPDATE SET run=excluded.run, "
            "status=CASE WHEN excluded.status=3 AND articles.status IN (1, 4) THEN articles.status "
            "ELSE excluded.status END, "
            "content_hash=COALESCE(excluded.content_hash, articles.content_hash), "
            "lastmod=COALESCE(excluded.lastmod, articles.lastmod), updated=excluded.updated, "
            "extractor=COALESCE(excluded.extractor, articles.extractor)",
            (article_id, int(status), content_hash, lastmod, time.time(), extractor_version, self.run))

    @guarded
    def commit_emitted(self, records: list[Emitted], path: str | None, offset: int | None) -> None:
        db = self._tx()
        now = time.time()
        for r in records:
            if r.status == LIVE:
                self._commit_live(db, r, now)
            elif r.status == SUPERSEDED:
                db.execute("INSERT INTO articles (id, status, updated, url, lastmod) VALUES (?,?,?,?,?) "
                           "ON CONFLICT(id) DO UPDATE SET status=excluded.status, updated=excluded.updated, "
                           "url=COALESCE(articles.url, excluded.url), "
                           "lastmod=COALESCE(excluded.lastmod, articles.lastmod)",
                           (r.id, int(Status.DUPLICATE), now, r.url, r.lastmod))
                if r.duplicate_of:
                    self._make_copy(db, r.id, r.duplicate_of)
            elif r.status == REMOVED:
                db.execute("INSERT INTO articles (id, status, updated, url, removed, lastmod) VALUES (?,?,?,?,?,?) "
                           "ON CONFLICT(id) DO UPDATE SET status=excluded.status, updated=excluded.updated, "
                           "removed=excluded.removed, lastmod=COALESCE(excluded.lastmod, articles.lastmod)",
                           (r.id, int(Status.REMOVED), now, r.url, r.removed_at, r.lastmod))
                db.execute("DELETE FROM listings WHERE id=?", (r.id,))
        if path is not None and offset is not None:
            db.execute("INSERT INTO outputs VALUES (?,?,?) ON CONFLICT(path) DO UPDATE SET "
                       "committed=excluded.committed", (path, offset, os.getpid()))
        self.flush()

    def _commit_live(self, db: sqlite3.Connection, r: Emitted, now: float) -> None:
        status = Status.DUPLICATE if r.duplicate_of else Status.EMITTED  # a copy flagged, not an original
        # an archived capture of a removed article: its revision is kept, the article stays removed
        stays = f"(? AND articles.status={int(Status.REMOVED)})"
        db.execute(
            "INSERT INTO articles (id, status, content_hash, lastmod, updated, extractor, revision, url, published, "
            f"removed, run) VALUES (?,?,?,?,?,?,?,?,?,NULL,?) ON CONFLICT(id) DO UPDATE SET "
            f"status=CASE WHEN {stays} THEN articles.status ELSE excluded.status END, "
            f"removed=CASE WHEN {stays} THEN articles.removed ELSE NULL END, "
            f"url=CASE WHEN {stays} THEN COALESCE(articles.url, excluded.url) ELSE excluded.url END, "
            "run=excluded.run, "
            "content_hash=excluded.content_hash, lastmod=COALESCE(excluded.lastmod, articles.lastmod), "
            "updated=excluded.updated, extractor=COALESCE(excluded.extractor, articles.extractor), "
            "revision=MAX(excluded.revision, articles.revision), "
            "published=COALESCE(excluded.published, articles.published)",
            (r.id, int(status), r.content_hash, r.lastmod, _epoch(r.crawled_at) or now, r.extractor_version,
             r.revision, r.url, r.published_at, self.run, r.archived, r.archived, r.archived))
        if r.content_hash:
            db.execute("INSERT OR REPLACE INTO revisions VALUES (?,?,?,?)",
                       (r.id, r.revision, r.content_hash, r.crawled_at))

    def _make_copy(self, db: sqlite3.Connection, copy: str, original: str) -> None:
        """``copy`` republishes ``original``: it and its own copies point at it (no chains)."""
        db.execute("INSERT OR REPLACE INTO copies VALUES (?,?)", (copy, original))
        db.execute("UPDATE copies SET original=? WHERE original=?", (original, copy))
        db.execute("DELETE FROM copies WHERE id=?", (original,))  # an original is nobody's copy

    def _root(self, db: sqlite3.Connection, article_id: str) -> str:
        """The original an article is a copy of (itself when it is one)."""
        seen = {article_id}
        for _ in range(CHAIN_LIMIT):
            row = db.execute("SELECT original FROM copies WHERE id=?", (article_id,)).fetchone()
            if row is None or row[0] in seen:
                return article_id
            article_id = row[0]
            seen.add(article_id)
        return article_id

    @guarded
    def claim_index(self, article_id: str, fp: Fingerprint, published_at: str | None = None,
                    url: str | None = None) -> Match | None:
        db = self._tx()
        exact_key = f"{fp.lang}:{fp.content_hash}"
        match: tuple[str, str] | None = None
        row = db.execute("SELECT id FROM exact WHERE key=?", (exact_key,)).fetchone()
        if row and self._root(db, row[0]) != article_id:
            match = ("exact", self._root(db, row[0]))
        if match is None:
            marks = ",".join("?" * len(fp.bands))
            rows = db.execute(f"SELECT DISTINCT b.id, s.sig FROM bands b JOIN signatures s ON s.id = b.id "
                              f"WHERE b.key IN ({marks})", fp.bands).fetchall()
            best: tuple[float, str] | None = None
            for other, sig in rows:
                root = self._root(db, other)
                if root == article_id:
                    continue  # the article itself, or one of its own copies
                score = similarity(fp.signature, sig)
                if score >= self.fingerprinter.threshold and (best is None or score > best[0]):
                    best = (score, root)
            if best:
                match = ("near", best[1])
        if match is None:
            self._index(db, article_id, fp, exact_key, published_at=published_at, url=url, replace=False)
            return None
        kind, other = match
        row = db.execute("SELECT published, url FROM signatures WHERE id=?", (other,)).fetchone()
        other_published = row[0] if row and row[0] else self._published(db, other)
        if earlier((published_at, article_id), (other_published, other)):
            self._make_copy(db, other, article_id)  # the one held as the original is the copy
            self._index(db, article_id, fp, exact_key, published_at=published_at, url=url, replace=True)
            return Match(kind, ORIGINAL_OF, other, row[1] if row else None)
        self._make_copy(db, article_id, other)
        return Match(kind, COPY_OF, other)

    def _published(self, db: sqlite3.Connection, article_id: str) -> str | None:
        row = db.execute("SELECT published FROM articles WHERE id=?", (article_id,)).fetchone()
        return row[0] if row else None

    def _index(self, db: sqlite3.Connection, article_id: str, fp: Fingerprint, exact_key: str, *,
               published_at: str | None, url: str | None, replace: bool) -> None:
        """The article is an original: its text's keys name it (``replace``: also those an article it
        supersedes held)."""
        db.execute("INSERT OR REPLACE INTO exact VALUES (?,?)", (exact_key, article_id))
        verb = "REPLACE" if replace else "IGNORE"
        db.executemany(f"INSERT OR {verb} INTO bands VALUES (?,?)", [(k, article_id) for k in fp.bands])
        db.execute("INSERT OR REPLACE INTO signatures (id, sig, published, url) VALUES (?,?,?,?)",
                   (article_id, fp.signature, published_at, url))

    @guarded
    def copies_of(self, article_id: str) -> list[str]:
        return [row[0] for row in self.db.execute("SELECT id FROM copies WHERE original=? ORDER BY id", (article_id,))]

    def claim_run(self, article_id: str) -> bool:
        if article_id in self._run_claims:
            return False
        self._run_claims.add(article_id)
        return True

    # -- listings and removals ---------------------------------------------------------------------------------

    @guarded
    def listed(self, article_id: str, source: str) -> None:
        self._tx().execute("INSERT INTO listings VALUES (?,?,?) ON CONFLICT(id, source) DO UPDATE SET "
                           "run=excluded.run", (article_id, source, self.run))

    @guarded
    def source_read(self, source: str, complete: bool) -> None:
        self._tx().execute("INSERT INTO run_sources VALUES (?,?,?) ON CONFLICT(run, source) DO UPDATE SET "
                           "complete=MIN(run_sources.complete, excluded.complete)", (self.run, source, int(complete)))

    @guarded
    def vanished(self, limit: int) -> list[tuple[str, str]]:
        """Live articles a sitemap listed before, not listed by anything in this run, whose every sitemap was
        read completely in this run, and not fetched in this run (windows are kept under ``''``)."""
        self.flush()
        return [(row[0], row[1]) for row in self.db.execute(
            "SELECT a.id, a.url FROM articles a WHERE a.status=? AND a.url IS NOT NULL "
            "AND (a.run IS NULL OR a.run < ?) "
            "AND EXISTS (SELECT 1 FROM listings l WHERE l.id=a.id AND l.source!='') "
            "AND NOT EXISTS (SELECT 1 FROM listings l WHERE l.id=a.id AND l.run=?) "
            "AND NOT EXISTS (SELECT 1 FROM listings l WHERE l.id=a.id AND l.source!='' AND l.source NOT IN "
            "  (SELECT source FROM run_sources WHERE run=? AND complete=1)) "
            "ORDER BY a.id LIMIT ?", (int(Status.EMITTED), self.run, self.run, self.run, limit))]

    @guarded
    def unlisted(self, article_id: str) -> None:
        self._tx().execute("DELETE FROM listings WHERE id=?", (article_id,))

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
