"""The crawl's output is a log; this reads it back as the site's history.

A crawl appends lines and never rewrites one: an article's record (``status:
live``, each ``revision`` of its text), a ``superseded`` line (a copy, found to
republish ``duplicate_of``), a ``removed`` line (the site took the article
down). :class:`Log` reads any number of such files (runs, workers, in any order)
and gives rows:

* :meth:`Log.stories`: one row per story: the latest revision of the original,
  ``copies`` filled with every id found to republish it (superseded ids are folded
  into their original, never rows of their own), ``status: removed`` with the
  removal's time and reason and the last text when the site took it down since;
* :meth:`Log.revisions`: one row per id and revision (the newest line of each),
  copies marked ``superseded`` with their original, the last revision of a removed
  article marked ``removed``.

Which article is the original is what the crawl decided (the one no line calls a
copy); where the lines disagree (files of runs that kept no state), the rule the
crawl applies decides: the earlier ``published_at``, the lower id on a tie. Every
choice is made on what the lines say, never on their order: any order of the
files gives the same rows, sorted by id (and revision). Rows are read back from
the files by offset, so memory holds a few numbers per line, not the texts.

Lines that cannot be read are problems, reported and left out; records written
before a field existed get its default (``status: live``, ``revision: 1``…).
``strict`` (the dataset export) also checks each line against the JSON Schema;
``arabtoday merge``, a repair tool, only needs an ``id``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from arabtoday.export.validation import validate
from arabtoday.schema import DEFAULTS, LIVE, REMOVED, SUPERSEDED

LAST = "\uffff"  # sorts after every timestamp: a record without a publication time is never the earlier
JSON_ARRAY_PEEK = 4096  # bytes read to tell a JSON array (``-O out.json``) from JSON Lines
TIE_BYTES = 8  # of the line's hash: two different lines of one id, revision and time still order the same way


@dataclass(frozen=True, slots=True, order=True)
class Ref:
    """Where a line is, and what orders it against another line of the same id: newest wins."""

    # (captured_at, revision, crawled_at, hash of the line) or (removed_at, crawled_at, hash): a revision read
    # later from an archive (a backfill) was captured earlier, and orders by when the site served it
    key: tuple[Any, ...]
    file: int = field(compare=False)
    offset: int = field(compare=False)


@dataclass(slots=True)
class Article:
    """What the log says of one id."""

    revisions: dict[int, Ref] = field(default_factory=dict)  # revision -> its newest line
    published: str = LAST  # of its newest record
    removal: Ref | None = None  # its newest removed line
    copy_of: set[str] = field(default_factory=set)  # the originals lines name for it
    lines: int = 0

    @property
    def latest(self) -> Ref | None:
        return max(self.revisions.values()) if self.revisions else None

    @property
    def removed(self) -> bool:
        """Removed since its last text was captured (a removal at the same second wins: it was found after);
        an archive's older capture read after the removal leaves it removed."""
        latest = self.latest
        return self.removal is not None and latest is not None and self.removal.key[0] >= latest.key[0]


@dataclass
class Counts:
    lines: int = 0
    history_lines: int = 0  # superseded and removed lines read
    upgraded: int = 0  # records that lacked a field added later, given its default
    outside: int = 0  # copies whose original is in none of the inputs (rows of their own, duplicate_of set)


class Log:
    """Pass 1 over the inputs (:meth:`read`), then rows read back by offset."""

    def __init__(self, inputs: list[Path], *, strict: bool = True) -> None:
        self.inputs = inputs
        self.strict = strict
        self.articles: dict[str, Article] = {}
        self.problems: list[str] = []
        self.counts = Counts()
        self._root: dict[str, str] = {}  # union-find over "is a copy of"
        self._original: dict[str, str] = {}  # component root -> the original of the story
        self._members: dict[str, list[str]] = {}  # the original -> its copies
        self._files: dict[int, BinaryIO] = {}  # open while rows are read back

    # -- pass 1 ------------------------------------------------------------------------------------------------

    def read(self) -> Log:
        for index, path in enumerate(self.inputs):
            for offset, raw, record, upgraded in read_lines(path, self.problems.append, self.strict):
                self._take(index, offset, raw, record)
                self.counts.upgraded += upgraded
        self._decide_originals()
        return self

    def _take(self, index: int, offset: int, raw: bytes, record: dict[str, Any]) -> None:
        self.counts.lines += 1
        article_id = record["id"]
        article = self.articles.setdefault(article_id, Article())
        article.lines += 1
        tie = hashlib.blake2b(raw.rstrip(b"\r\n"), digest_size=TIE_BYTES).digest()
        status = record.get("status") or LIVE
        original = record.get("duplicate_of")
        if original:
            self._link(article_id, original)
            article.copy_of.add(original)
        if status == SUPERSEDED:
            self.counts.history_lines += 1
            return
        if status == REMOVED:
            self.counts.history_lines += 1
            ref = Ref((record.get("removed_at") or "", record.get("crawled_at") or "", tie), index, offset)
            if article.removal is None or ref > article.removal:
                article.removal = ref
            return
        for copy in record.get("copies") or ():
            self._link(copy, article_id)
            self.articles.setdefault(copy, Article()).copy_of.add(article_id)
        revision = int(record.get("revision") or 1)
        crawled = record.get("crawled_at") or ""
        ref = Ref((record.get("captured_at") or crawled, revision, crawled, tie), index, offset)
        newest = article.latest
        if revision not in article.revisions or ref > article.revisions[revision]:
            article.revisions[revision] = ref
        if newest is None or ref > newest:
            article.published = record.get("published_at") or LAST

    def _find(self, article_id: str) -> str:
        root = self._root.setdefault(article_id, article_id)
        while root != self._root[root]:
            self._root[root] = self._root[self._root[root]]
            root = self._root[root]
        return root

    def _link(self, copy: str, original: str) -> None:
        a, b = self._find(copy), self._find(original)
        if a != b:
            self._root[max(a, b)] = min(a, b)

    def _decide_originals(self) -> None:
        """Each group of copies gets its original: the member no line calls a copy, else the earliest."""
        groups: dict[str, list[str]] = {}
        for article_id in self._root:
            groups.setdefault(self._find(article_id), []).append(article_id)
        for root, members in groups.items():
            held = [m for m in members if self.articles.get(m) and self.articles[m].revisions]
            unmarked = [m for m in members if not self.articles.get(m) or not self.articles[m].copy_of]
            by_rule = sorted(held, key=lambda m: (not self._unmarked(m), self.articles[m].published, m))
            if unmarked and not any(m in held for m in unmarked):
                # the original is in none of the inputs: each copy held is a row of its own, naming it
                self._original[root] = min(unmarked)
                self.counts.outside += len(held)
                continue
            if by_rule:
                self._original[root] = by_rule[0]
                self._members[by_rule[0]] = sorted(m for m in members if m != by_rule[0])

    def _unmarked(self, article_id: str) -> bool:
        return not self.articles[article_id].copy_of

    @property
    def folded(self) -> int:
        """Ids found to be copies of an original the inputs hold."""
        return sum(len(copies) for copies in self._members.values())

    def folded_said(self) -> str:
        """``1 copy folded``, ``3 copies folded``: for the export's and merge's summary line."""
        return f"{self.folded} {'copy' if self.folded == 1 else 'copies'} folded"

    def original_of(self, article_id: str) -> str:
        """The story an id belongs to (itself when it is no one's copy)."""
        if article_id not in self._root:
            return article_id
        return self._original.get(self._find(article_id), article_id)

    # -- rows --------------------------------------------------------------------------------------------------

    def stories(self) -> Iterator[dict[str, Any]]:
        """One row per story, by id: the original's latest revision, its copies, removed or live."""
        def plan() -> Iterator[tuple[str, Ref, dict[str, Any]]]:
            for article_id in sorted(self.articles):
                article = self.articles[article_id]
                latest = article.latest
                original = self.original_of(article_id)
                if latest is None:
                    continue  # only lines of history: no text to make a row of
                if original != article_id and original in self._members:
                    continue  # folded into its original's row
                patch: dict[str, Any] = {"copies": self._members.get(article_id, [])}
                patch["duplicate_of"] = original if original != article_id else None
                patch.update(self._removal(article))
                yield article_id, latest, patch
        return self._rows(plan())

    def revisions(self) -> Iterator[dict[str, Any]]:
        """One row per id and revision, by id then revision."""
        def plan() -> Iterator[tuple[str, Ref, dict[str, Any]]]:
            for article_id in sorted(self.articles):
                article = self.articles[article_id]
                original = self.original_of(article_id)
                latest = article.latest
                for revision in sorted(article.revisions):
                    ref = article.revisions[revision]
                    patch: dict[str, Any] = {"copies": self._members.get(article_id, [])}
                    if original != article_id:
                        patch.update(status=SUPERSEDED if original in self._members else LIVE, duplicate_of=original)
                    elif ref is latest:
                        patch.update(self._removal(article))
                    yield article_id, ref, patch
        return self._rows(plan())

    def _removal(self, article: Article) -> dict[str, Any]:
        if not article.removed or article.removal is None:
            return {"status": LIVE, "removed_at": None, "removed_reason": None}
        line = self._line(article.removal)
        return {"status": REMOVED, "removed_at": line["removed_at"], "removed_reason": line["removed_reason"]}

    def _rows(self, plan: Iterator[tuple[str, Ref, dict[str, Any]]]) -> Iterator[dict[str, Any]]:
        try:
            for _, ref, patch in plan:
                record = self._line(ref)
                record.update(patch)
                yield record
        finally:
            self._close()

    def _line(self, ref: Ref) -> dict[str, Any]:
        fh = self._files.get(ref.file)
        if fh is None:
            fh = self._files[ref.file] = self.inputs[ref.file].open("rb")
        fh.seek(ref.offset)
        record = json.loads(fh.readline())
        for name, default in DEFAULTS.items():
            record.setdefault(name, list(default) if isinstance(default, list) else default)
        return record

    def _close(self) -> None:
        for fh in self._files.values():
            fh.close()
        self._files.clear()


def read_lines(path: Path, problem: Callable[[str], None], strict: bool = True
               ) -> Iterator[tuple[int, bytes, dict[str, Any], bool]]:
    """``(offset, raw line, record given defaults, whether it needed one)`` of each readable line of one file;
    every other line is a problem (``problem`` is told, naming the file and line)."""
    try:
        fh = path.open("rb")
    except OSError as exc:
        problem(f"{path}: cannot read: {exc.strerror or exc}")
        return
    with fh:
        if fh.read(JSON_ARRAY_PEEK).lstrip()[:1] == b"[":
            problem(f"{path}: is a JSON array, not JSON Lines (one record a line): left out")
            return
        fh.seek(0)
        offset = 0
        for line_no, raw in enumerate(fh, 1):
            start, offset = offset, offset + len(raw)
            if not raw.endswith(b"\n"):
                problem(f"{path}: line {line_no}: torn last line ({len(raw)} bytes, no newline), left out")
                break
            if not raw.strip():
                problem(f"{path}: line {line_no}: empty line")
                continue
            parsed = parse_line(raw, strict)
            if isinstance(parsed, str):
                problem(f"{path}: line {line_no}{parsed}")
                continue
            yield start, raw, *parsed


def parse_line(raw: bytes, strict: bool = True) -> tuple[dict[str, Any], bool] | str:
    """The record of one line (given defaults; validated when ``strict``) and whether it needed a default;
    or what is wrong with it."""
    try:
        record = json.loads(raw)
    except ValueError as exc:  # UnicodeDecodeError is one
        return f": not JSON ({exc})"
    if not isinstance(record, dict):
        return ": not a JSON object"
    if not isinstance(record.get("id"), str):
        return ": no id"
    missing = [name for name in DEFAULTS if name not in record]
    for name in missing:
        default = DEFAULTS[name]
        record[name] = list(default) if isinstance(default, list) else default
    if strict:
        problems = validate(record)
        if problems:
            return f" ({record.get('id')}): invalid: {'; '.join(problems)}"
    return record, bool(missing and record.get("status", LIVE) == LIVE)
