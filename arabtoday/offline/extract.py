"""``arabtoday extract``: saved pages through the crawl's own extraction, cleaning and item pipelines.

Pages are read within bounds (:mod:`arabtoday.offline.saved`), parsed by the
page objects (:mod:`arabtoday.extraction`), then run through the project's
item pipelines (:mod:`arabtoday.offline.runner`) and written as JSON Lines to
stdout. Unreadable files and pages that are not articles are reported on
stderr, one line each, and counted; they never stop the others.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arabtoday.archive.replay import OK_STATUSES
from arabtoday.exitstatus import ToolStatus
from arabtoday.offline.saved import STDIN, Problem, SavedPage, read_input, restore_archived_page
from arabtoday.stats import Stat

if TYPE_CHECKING:
    from arabtoday.dedup.fingerprints import Fingerprinter
    from arabtoday.items import RawArticle
    from arabtoday.offline.runner import DictStats

logger = logging.getLogger(__name__)

PARSE_ERROR = "parse"
PIPELINE_ERROR = "pipeline"
MESSAGE_LIMIT = 300  # characters of an exception's text shown on the one line
NOTICES_NAMED = 5  # pages that are no article named on stderr; a crawl's WARC holds listings by the dozen
BATCH_PAGES = 16  # pages a worker parses per task: large enough that handing them over costs little
AHEAD = 4  # batches per worker in flight: the workers never wait for the reader, memory stays bounded
# Workers start as copies of this process (its imports done once); "spawn" where fork is unavailable.
POOL_START = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"


class PipelinesCannotStart(Exception):
    """The pipelines fail before any page (not a page's fault): the command stops with this line."""


def describe(exc: BaseException) -> str:
    """An exception as part of one line: its type and the start of its text."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:MESSAGE_LIMIT]}"


def _max_size(settings: Any) -> int:
    """The crawl's response bound applies to saved pages too: a file is not trusted more than a server."""
    return settings.getint("DOWNLOAD_MAXSIZE")


def _report(stats: DictStats, problem: Problem) -> None:
    stats.inc_value(Stat.ERROR.format(kind=problem.kind))
    print(f"{problem.label}: {problem.message}", file=sys.stderr)


@dataclass(slots=True)
class Parsed:
    """What parsing one saved page gave: its article or nothing, the counts and the line to show.

    Pure data (no stats object, no output), so that a page can be parsed in another process and
    the result applied here in input order: one process or many, the same lines and counts."""

    label: str
    raw: RawArticle | None = None
    counted: list[str] = field(default_factory=list)
    notice: str | None = None  # a line for stderr
    problem: Problem | None = None  # an error (counted by kind, shown)


def parse_saved(page: SavedPage, path: str) -> Parsed:
    """The page's article, or why there is none (not an article, not a 2xx answer, cannot be parsed)."""
    from arabtoday.extraction.api import NotAnArticle, decode_html, parse_page

    done = Parsed(page.label)
    url = page.url or (Path(path).resolve().as_uri() if path != STDIN else "stdin:")
    if page.status is not None and page.status not in OK_STATUSES:
        # a redirect, an error answer, a retry's failure: what the crawl would never parse as an article
        done.counted.append(Stat.SKIPPED.format(reason=f"http_{page.status}"))
        return done
    try:
        decoded = decode_html(page.body, page.content_type)
        if decoded.corrected:
            done.counted.append(Stat.CHARSET_CORRECTED)
        raw = parse_page(restore_archived_page(decoded.text), url)
    except NotAnArticle as exc:
        done.counted.append(Stat.SKIPPED.format(reason="not_article"))
        hint = "" if page.url else " (give its address with --url)"
        done.notice = f"{page.label}: skipped, not an article: {exc}{hint}"
        return done
    except Exception as exc:  # whatever one page raises must not end the run: counted, shown, logged
        logger.debug("%s: extraction failed", page.label, exc_info=True)
        done.problem = Problem(page.label, PARSE_ERROR, f"cannot be parsed: {describe(exc)}")
        return done
    # where and when the page was captured, as the crawl's record says it
    raw.origin, raw.captured_at = page.origin, page.captured_at
    raw.warc_file, raw.warc_record_id = page.warc_file, page.warc_record_id
    done.raw = raw
    return done


Entry = tuple[SavedPage, str] | Problem  # a page and the input it came from, or an input's problem


def _parse_one(entry: Entry) -> Parsed | Problem:
    return entry if isinstance(entry, Problem) else parse_saved(*entry)


_worker_fingerprinter: Fingerprinter | None = None


def _start_worker(fingerprinter: Fingerprinter) -> None:
    """A pool worker's start: the fingerprinter of the main process's state (the same parameters)."""
    global _worker_fingerprinter  # noqa: PLW0603  (one per worker process, made once)
    _worker_fingerprinter = fingerprinter


def _parse_batch(batch: list[Entry]) -> list[Parsed | Problem]:
    """A pool worker's task: the batch's pages parsed, its problems passed through, in order. Cleaning
    and fingerprinting are pure, so the worker does them too (``RawArticle.cleaned``, with its
    ``fingerprint``): the pipelines, in the main process, take what they would have computed."""
    from arabtoday.cleaning.record import clean

    done = [_parse_one(entry) for entry in batch]
    for result in done:
        if isinstance(result, Parsed) and result.raw is not None:
            article = result.raw.cleaned = clean(result.raw)
            if _worker_fingerprinter is not None and article.body:
                article.fingerprint = _worker_fingerprinter.fingerprint(article.lang, article.body,
                                                                        article.content_hash)
    return done


def _batches(entries: Iterator[Entry], size: int) -> Iterator[list[Entry]]:
    batch: list[Entry] = []
    for entry in entries:
        batch.append(entry)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _parsed_in_pool(entries: Iterator[Entry], jobs: int, settings: Any) -> Iterator[Parsed | Problem]:
    """``_parse_batch`` over ``jobs`` processes, results in input order; at most ``AHEAD`` batches per
    process in flight, so that memory stays bounded whatever the inputs' size."""
    pending: deque[Future[list[Parsed | Problem]]] = deque()
    context = multiprocessing.get_context(POOL_START)
    from arabtoday.state.store import make_fingerprinter

    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_start_worker,
                             initargs=(make_fingerprinter(settings),)) as pool:
        for batch in _batches(entries, BATCH_PAGES):
            pending.append(pool.submit(_parse_batch, batch))
            if len(pending) >= jobs * AHEAD:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()


class _PageFeed:
    """The pages of every input, remembering which one went into the pipelines last (for their errors)."""

    def __init__(self, paths: list[str], url: str | None, stats: DictStats, settings: Any, jobs: int = 1) -> None:
        self.current = ""
        self.count = 0  # pages handed to the pipelines
        self.notices = 0  # pages that were no article (each counted; the first few named on stderr)
        self._items = self._articles(paths, url, stats, settings, jobs)

    def __iter__(self) -> Iterator[RawArticle]:
        return self._items

    @staticmethod
    def _entries(paths: list[str], url: str | None, max_size: int) -> Iterator[Entry]:
        for path in paths:
            for item in read_input(path, url, max_size):
                yield item if isinstance(item, Problem) else (item, path)

    def _articles(self, paths: list[str], url: str | None, stats: DictStats, settings: Any,
                  jobs: int) -> Iterator[RawArticle]:
        entries = self._entries(paths, url, _max_size(settings))
        results = _parsed_in_pool(entries, jobs, settings) if jobs > 1 else map(_parse_one, entries)
        for result in results:
            if isinstance(result, Problem):
                _report(stats, result)
                continue
            for key in result.counted:
                stats.inc_value(key)
            if result.notice:
                self.notices += 1
                if self.notices <= NOTICES_NAMED:
                    print(result.notice, file=sys.stderr)
            if result.problem is not None:
                _report(stats, result.problem)
            if result.raw is not None:
                self.current = result.label
                self.count += 1
                yield result.raw


def _write_records(pages: _PageFeed, settings: Any, stats: DictStats) -> int:
    """Run the pages through the pipelines to stdout; the number of lines written (records and history).

    A pipeline raising on one page ends ``run_pipelines``; it is counted
    against that page and the pipelines start again with the next one, so one
    bad page never costs the others.
    """
    from arabtoday.export.exporters import encode_record, lines_of
    from arabtoday.offline.runner import run_pipelines

    emitted = 0
    out = sys.stdout.buffer
    failed_at = -1
    while True:
        try:
            for item in run_pipelines(pages, settings, stats):
                for line in lines_of(item):  # a record, then the lines of history it carries
                    out.write(encode_record(line))
                    emitted += 1
                out.flush()
            return emitted
        except BrokenPipeError:
            raise
        except Exception as exc:  # a pipeline failing on one page must not end the run: counted, logged
            logger.debug("%s: pipeline failed", pages.current, exc_info=True)
            if pages.count in (0, failed_at):  # not a page's fault: restarting would fail again
                raise PipelinesCannotStart(f"extract: the pipelines cannot start: {describe(exc)}") from exc
            failed_at = pages.count
            _report(stats, Problem(pages.current, PIPELINE_ERROR,
                                   f"pipeline failed: {describe(exc)}; the pipelines restart with "
                                   "the next page (copies of earlier pages may not be recognised)"))


def default_jobs() -> int:
    """Every core this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def extract_command(paths: list[str], url: str | None, jobs: int = 1) -> int:
    """Extract ``paths`` to stdout with ``jobs`` processes parsing; the exit status (0, or 1 when some
    input failed). The lines come in input order whatever ``jobs``: pages are parsed in parallel, then
    go through the pipelines (deduplication needs them all, in order) in this process."""
    from scrapy.utils.project import get_project_settings

    from arabtoday.offline.runner import DictStats

    # the project's settings wherever the command is run from (a scrapy.cfg is found only in a clone)
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "arabtoday.settings")
    settings = get_project_settings()
    stats = DictStats()
    try:
        feed = _PageFeed(paths, url, stats, settings, jobs)
        emitted = _write_records(feed, settings, stats)
    except PipelinesCannotStart as exc:
        print(str(exc), file=sys.stderr)
        return ToolStatus.INPUT_FAILED
    if feed.notices > NOTICES_NAMED:
        print(f"extract: {feed.notices - NOTICES_NAMED} more page(s) were not articles (skipped/not_article below)",
              file=sys.stderr)
    counts = {k.removeprefix("arabtoday/"): v for k, v in sorted(stats.get_stats().items())}
    print(f"extract: {emitted} line(s); " + ", ".join(f"{k} {v}" for k, v in counts.items()), file=sys.stderr)
    return ToolStatus.INPUT_FAILED if any(k.startswith(Stat.ERRORS) for k in stats.get_stats()) else ToolStatus.OK
