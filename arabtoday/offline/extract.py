"""``arabtoday extract``: saved pages through the crawl's own extraction, cleaning and item pipelines.

Pages are read within bounds (:mod:`arabtoday.offline.saved`), parsed by the
page objects (:mod:`arabtoday.extraction`), then run through the project's
item pipelines (:mod:`arabtoday.offline.runner`) and written as JSON Lines to
stdout. Unreadable files and pages that are not articles are reported on
stderr, one line each, and counted; they never stop the others.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arabtoday.exitstatus import ToolStatus
from arabtoday.offline.saved import STDIN, Problem, SavedPage, read_input, restore_archived_page
from arabtoday.stats import Stat

if TYPE_CHECKING:
    from arabtoday.items import RawArticle
    from arabtoday.offline.runner import DictStats

logger = logging.getLogger(__name__)

PARSE_ERROR = "parse"
PIPELINE_ERROR = "pipeline"
MESSAGE_LIMIT = 300  # characters of an exception's text shown on the one line
OK_STATUS, REDIRECT_STATUS = 200, 300  # the answers the crawl parses: 2xx


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


def _parse(page: SavedPage, path: str, stats: DictStats) -> RawArticle | None:
    """The page's article, or None (reported and counted) when it is not one or cannot be parsed."""
    from arabtoday.extraction.api import NotAnArticle, decode_html, parse_page

    url = page.url or (Path(path).resolve().as_uri() if path != STDIN else "stdin:")
    if page.status is not None and not OK_STATUS <= page.status < REDIRECT_STATUS:
        # a redirect, an error answer, a retry's failure: what the crawl would never parse as an article
        stats.inc_value(Stat.SKIPPED.format(reason=f"http_{page.status}"))
        return None
    try:
        decoded = decode_html(page.body, page.content_type)
        if decoded.corrected:
            stats.inc_value(Stat.CHARSET_CORRECTED)
        raw = parse_page(restore_archived_page(decoded.text), url)
    except NotAnArticle as exc:
        stats.inc_value(Stat.SKIPPED.format(reason="not_article"))
        hint = "" if page.url else " (give its address with --url)"
        print(f"{page.label}: skipped, not an article: {exc}{hint}", file=sys.stderr)
        return None
    except Exception as exc:  # whatever one page raises must not end the run: counted, shown, logged
        logger.debug("%s: extraction failed", page.label, exc_info=True)
        _report(stats, Problem(page.label, PARSE_ERROR, f"cannot be parsed: {describe(exc)}"))
        return None
    # where the page was captured (a WARC record): the record says so, as the crawl's did
    raw.captured_at, raw.warc_file, raw.warc_record_id = page.captured_at, page.warc_file, page.warc_record_id
    return raw


class _PageFeed:
    """The pages of every input, remembering which one went into the pipelines last (for their errors)."""

    def __init__(self, paths: list[str], url: str | None, stats: DictStats, max_size: int) -> None:
        self.current = ""
        self.count = 0  # pages handed to the pipelines
        self._items = self._articles(paths, url, stats, max_size)

    def __iter__(self) -> Iterator[RawArticle]:
        return self._items

    def _articles(self, paths: list[str], url: str | None, stats: DictStats, max_size: int) -> Iterator[RawArticle]:
        for path in paths:
            for item in read_input(path, url, max_size):
                if isinstance(item, Problem):
                    _report(stats, item)
                    continue
                article = _parse(item, path, stats)
                if article is not None:
                    self.current = item.label
                    self.count += 1
                    yield article


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


def extract_command(paths: list[str], url: str | None) -> int:
    """Extract ``paths`` to stdout; the exit status (0, or 1 when some input failed)."""
    from scrapy.utils.project import get_project_settings

    from arabtoday.offline.runner import DictStats

    # the project's settings wherever the command is run from (a scrapy.cfg is found only in a clone)
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "arabtoday.settings")
    settings = get_project_settings()
    stats = DictStats()
    try:
        emitted = _write_records(_PageFeed(paths, url, stats, _max_size(settings)), settings, stats)
    except PipelinesCannotStart as exc:
        print(str(exc), file=sys.stderr)
        return ToolStatus.INPUT_FAILED
    counts = {k.removeprefix("arabtoday/"): v for k, v in sorted(stats.get_stats().items())}
    print(f"extract: {emitted} line(s); " + ", ".join(f"{k} {v}" for k, v in counts.items()), file=sys.stderr)
    return ToolStatus.INPUT_FAILED if any(k.startswith(Stat.ERRORS) for k in stats.get_stats()) else ToolStatus.OK
