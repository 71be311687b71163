"""The extension that writes the run report when the engine has stopped (``EXTENSIONS``).

During the run it collects the small aggregates the HTML report's charts
draw, and counts the ERROR lines of other code that nothing else counted
(:class:`ErrorLineCounter`). When the engine has stopped (after the feed
exporters and the state have closed, so that a failed output or state write
is already counted) it checks the accounting, settles the exit status
(``arabtoday/exit_status``, which ``scrapy crawl`` exits with), logs the text
block and writes ``<output>.report.json`` and ``.report.html`` beside the
first output file (or at ``ARABTODAY_REPORT_PATH``), atomically. A report
that cannot be written is one ERROR line and exit status 4, never a crash.
An interrupted run (SIGINT/SIGTERM) goes through the same path.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Response

from arabtoday.exitstatus import ExitStatus, exit_status, mark, unreachable
from arabtoday.files import atomic_write_text, local_path, writable
from arabtoday.params import CrawlParams, params_of
from arabtoday.run.ledger import article_key
from arabtoday.run.report import (
    Aggregates,
    build_report,
    check_accounting,
    dumps_report,
    effective_settings,
    feed_paths,
    format_report,
    html_path_for,
    spider_arguments,
    utc_now,
)
from arabtoday.run.report_html import write_html
from arabtoday.schema import COMMONCRAWL, LIVE, WAYBACK
from arabtoday.stats import Stat, total

logger = logging.getLogger(__name__)

OUR_LOGGERS = "arabtoday"  # our modules and the spider's own logger: they count what they log
# Where an exception nobody handled is logged: such a line is an internal error (or a failed write).
UNHANDLED_SOURCES = frozenset({"scrapy.utils.signal", "scrapy.core.scraper", "scrapy.core.engine", "asyncio",
                               "twisted", "scrapy.extensions.feedexport"})
SCRAPER = "scrapy.core.scraper"  # logs the exceptions of callbacks and item pipelines
# What a backfill's entry point is set by, for the line that says nothing answered.
ARCHIVE_SETTINGS = {WAYBACK: "ARABTODAY_WAYBACK_URL", COMMONCRAWL: "ARABTODAY_COMMONCRAWL_INDEX_URL"}
# ERROR lines of other code that always come with a second, counted report of the same failure.
COUNTED_ELSEWHERE = {
    # "Gave up retrying": the request then fails to its errback (the spider counts it) or to the
    # robots.txt middleware (which logs its own ERROR line, counted as log/...robotstxt).
    "scrapy.downloadermiddlewares.retry",
}


class ErrorLineCounter(logging.Handler):
    """Counts ERROR lines logged by code outside ours (Scrapy, Twisted): ``arabtoday/errors/log/<logger>``.

    Our own code counts a stat with every ERROR it logs (that stat is the
    error's kind); other code's ERROR lines (an exception in a callback, a
    feed that could not be stored, a failed robots.txt) would otherwise reach
    only ``log_count/ERROR`` and be lost to the report. Lines that always
    precede a counted report of the same failure (:data:`COUNTED_ELSEWHERE`)
    are left out, so that each error is counted once.
    """

    def __init__(self, stats: Any) -> None:
        super().__init__(level=logging.ERROR)
        self.stats = stats

    def emit(self, record: logging.LogRecord) -> None:
        name = record.name or "root"
        if name == OUR_LOGGERS or name.startswith(OUR_LOGGERS + ".") or name in COUNTED_ELSEWHERE:
            return
        if name == SCRAPER and about_an_article(record):
            return  # the ledger counted it: failed/parse, failed/pipeline/<error>
        self.stats.inc_value(Stat.LOG_ERROR.format(source=name))
        cause = error_line_cause(record)
        if cause is not None:
            mark(self.stats, cause)


def about_an_article(record: logging.LogRecord) -> bool:
    """Whether a Scrapy scraper ERROR line (a callback's or a pipeline's exception) is about an article page,
    which the ledger then closes in the ``failed`` bucket: read from the record's request or item."""
    args = record.args if isinstance(record.args, Mapping) else {}
    request = args.get("request")
    if request is not None and getattr(request, "meta", {}).get("article_id"):
        return True
    item = getattr(record, "item", None) or args.get("item")
    return item is not None and article_key(item) is not None


def error_line_cause(record: logging.LogRecord) -> ExitStatus | None:
    """The exit status an uncounted ERROR line stands for, if any.

    An exception that escaped into Scrapy's machinery (a signal handler, a
    callback or pipeline, an asyncio task) is a failure nobody handled: an
    I/O error there is a write that failed (an output that cannot be opened
    or written, exit 4), anything else an internal error (exit 1). ERROR
    lines about the network (robots.txt, downloads) change no status: what
    they cost is in the article buckets.
    """
    if record.name not in UNHANDLED_SOURCES:
        return None
    exc = record.exc_info[1] if record.exc_info else None
    if isinstance(exc, OSError) and not isinstance(exc, ConnectionError):
        return ExitStatus.WRITE_FAILED
    return ExitStatus.INTERNAL_ERROR


class RunReport:
    """Collects what the charts need during the run; writes the report when the engine has stopped."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.settings = crawler.settings
        self.started = time.monotonic()
        self.started_at = utc_now()
        self.finished_at: str | None = None
        self.duration: float | None = None
        self.reason: str | None = None
        self.aggregates = Aggregates()
        self.error_lines = ErrorLineCounter(crawler.stats)
        # a worker of a distributed crawl settles requests other workers made, and the reverse
        # distributed workers too: article accounts move with their requests through the shared queue
        self.accounting_checked = True

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunReport:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(ext.response_received, signal=signals.response_received)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.engine_stopped, signal=signals.engine_stopped)
        return ext

    def spider_opened(self) -> None:
        self.started = time.monotonic()
        self.started_at = utc_now()
        # from here to engine_stopped only: a crawler built but never run (``extract``) counts no log lines
        logging.getLogger().addHandler(self.error_lines)

    def item_scraped(self, item: Any) -> None:
        if getattr(item, "status", LIVE) == LIVE:  # the charts are of articles' records, not lines of history
            self.aggregates.add_record(item)

    def response_received(self, response: Response) -> None:
        latency = response.meta.get("download_latency") if response.request is not None else None
        if isinstance(latency, int | float):
            self.aggregates.add_latency(float(latency))

    def spider_closed(self, reason: str) -> None:
        self.reason = reason
        self.finished_at = utc_now()
        self.duration = time.monotonic() - self.started

    def report_path(self) -> Path | None:
        """``ARABTODAY_REPORT_PATH``, else next to the first file feed (its resolved URI)."""
        explicit = self.settings.get("ARABTODAY_REPORT_PATH")
        if explicit:
            return Path(explicit)
        # next to a regular file only: never beside a device or a pipe (-o /dev/full, a fifo)
        paths = [p for p in feed_paths(self.crawler) if not p.exists() or p.is_file()]
        return paths[0].with_name(paths[0].name + ".report.json") if paths else None

    def run_context(self) -> dict[str, Any]:
        outputs = [str(p) for p in feed_paths(self.crawler)]
        return {
            "started_at": self.started_at,
            "finished_at": self.finished_at or utc_now(),
            "arguments": spider_arguments(getattr(self.crawler, "spider", None)),
            "settings": effective_settings(self.settings),
            "output": outputs[0] if outputs else None,
            "outputs": outputs,
        }

    def engine_stopped(self) -> None:
        """Everything has closed (feeds, state): settle the status, log the block, write the files."""
        logging.getLogger().removeHandler(self.error_lines)
        stats = self.crawler.stats
        if self.reason is not None:
            stats.set_value("finish_reason", self.reason)
        if total(stats.get_stats(), "feedexport/failed_count/"):
            mark(stats, ExitStatus.WRITE_FAILED)  # Scrapy could not store a feed: records were lost
        failed_entries = unreachable(stats.get_stats())
        if failed_entries:
            setting = ARCHIVE_SETTINGS.get(params_of(self.crawler).backfill or "")
            logger.error("the %s did not answer at any entry point (%d connection failures): is %s right and the "
                         "network up?", "archive" if setting else "site", failed_entries, setting or "the address")
        check_accounting(stats, self.accounting_checked)
        self._settle(stats)
        report = self._build()
        if report["fallbacks"]["alarm"]:
            stats.set_value(Stat.FALLBACK_ALARM, 1)
            logger.error(
                "LAYOUT CHANGE? %d of %d article pages (%.0f%%) needed the fallback parser: the selectors in "
                "arabtoday/extraction/selectors.py no longer match the site. Records are still clean, but check "
                "them and add a new Layout (docs/extraction.md, 'After a redesign').",
                report["fallbacks"]["pages"], report["article_pages_parsed"], 100 * report["fallbacks"]["ratio"])
        logger.info("\n%s", format_report(report))
        path = self.report_path()
        if path is None:
            logger.info("no file output and no ARABTODAY_REPORT_PATH: the run report is only this log block")
            return
        self._write(report, path)

    def _build(self) -> dict[str, Any]:
        duration = self.duration if self.duration is not None else time.monotonic() - self.started
        return build_report(self.crawler.stats.get_stats(), duration,
                            self.settings.getfloat("ARABTODAY_FALLBACK_ALARM_RATIO"),
                            self.settings.getint("ARABTODAY_FALLBACK_ALARM_MIN_PAGES"),
                            run=self.run_context(), charts=self.aggregates.as_dict(),
                            accounting_checked=self.accounting_checked)

    @staticmethod
    def _settle(stats: Any) -> int:
        """Compute the exit status from the stats as they are now, and store it (the crawl command exits with it)."""
        code, _ = exit_status(stats.get_stats())
        stats.set_value(Stat.EXIT_STATUS, int(code))
        return int(code)

    def _write(self, report: dict[str, Any], path: Path) -> None:
        """HTML first, then the JSON with the final status. Whatever failed is one ERROR line and exit status 4."""
        html = html_path_for(path)
        failed: list[str] = []
        try:
            write_html(report, html)
        except OSError as exc:
            failed.append(f"{html}: {exc.strerror or exc}")
            mark(self.crawler.stats, ExitStatus.WRITE_FAILED)
            self._settle(self.crawler.stats)
            report = self._build()  # the JSON says the run exits 4
        try:
            atomic_write_text(path, dumps_report(report))
        except OSError as exc:
            failed.append(f"{path}: {exc.strerror or exc}")
        if not failed:
            logger.info("run report written to %s and %s", path, html)
            return
        mark(self.crawler.stats, ExitStatus.WRITE_FAILED)
        code = self._settle(self.crawler.stats)
        logger.error("cannot write the run report (%s): the run exits %d", "; ".join(failed), code)


# The error kind a start failure is counted under, by the status it stands for.
START_ERROR_KINDS = {ExitStatus.BAD_CONFIG: "config", ExitStatus.WRITE_FAILED: "output",
                     ExitStatus.STATE_UNUSABLE: "state"}


def _named_now(uri: str, spider_args: Mapping[str, Any]) -> str | None:
    """An output's name with its placeholders filled as Scrapy fills them when a run starts (``%(time)s``,
    and the spider's ``%(name)s`` and ``%(lang)s``; the default output names both): a run that could not
    start reports beside the file it would have written. None for a placeholder only a run can fill."""
    if "%(" not in uri:
        return uri
    now = datetime.now(tz=timezone.utc).replace(microsecond=0).isoformat().replace(":", "-")  # Scrapy's %(time)s
    try:
        return uri % {"time": now, "name": "arabtoday", "lang": str(spider_args.get("lang", _default_lang()))}
    except (KeyError, ValueError, TypeError):
        return None


def _default_lang() -> str:
    return next(str(f.default) for f in dataclasses.fields(CrawlParams) if f.name == "lang")


def report_start_failure(settings: Any, spider_args: Mapping[str, Any], message: str, status: ExitStatus) -> None:
    """A run that could not start still leaves a report, wherever one can be written: at
    ``ARABTODAY_REPORT_PATH``, else beside the first output whose directory takes it. It says the
    status and why, and that nothing was requested or emitted."""
    interrupted = status in (ExitStatus.INTERRUPTED_INT, ExitStatus.INTERRUPTED_TERM)  # a signal: no error
    stats = {Stat.EXIT_CAUSE.format(name=status.name.lower()): 1,
             "finish_reason": "shutdown" if interrupted else "start_failed"}
    if not interrupted:
        stats[Stat.ERROR.format(kind=START_ERROR_KINDS.get(status, "start"))] = 1
    outputs = [str(uri) for uri in settings.getdict("FEEDS")]
    run = {"started_at": utc_now(), "finished_at": utc_now(), "arguments": {k: str(v) for k, v in spider_args.items()},
           "settings": effective_settings(settings), "output": outputs[0] if outputs else None, "outputs": outputs,
           "start_failure": message}
    report = build_report(stats, 0.0, run=run)
    candidates = [Path(settings.get("ARABTODAY_REPORT_PATH"))] if settings.get("ARABTODAY_REPORT_PATH") else [
        Path(str(path) + ".report.json") for uri in outputs
        if (named := _named_now(uri, spider_args)) is not None and (path := local_path(named)) is not None]
    for path in candidates:
        if writable(path) is None:
            try:
                write_html(report, html_path_for(path))
                atomic_write_text(path, dumps_report(report))
            except OSError:
                continue
            return
