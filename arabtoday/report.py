"""The run report, and the alarm that tells a maintainer the site changed.

At the end of every run one short log block, one JSON file and one HTML page
say what happened: when the run started and ended, with which arguments and
settings, what it fetched, where every article page went (the accounting
buckets, and whether they add up), errors by kind, and the exit status the
run ends with. The JSON goes next to the first output file
(``<output>.report.json``), or to ``ARABTODAY_REPORT_PATH``; the HTML beside it
(``<output>.report.html``, :mod:`arabtoday.report_html`).

The report is written when the engine has stopped, that is after the feed
exporters and the state have closed, so that a failed output or state write
is already counted in it; an interrupted run (SIGINT/SIGTERM) goes through the
same path. It is written atomically (a temporary file renamed over the
target), and a report that cannot be written is one ERROR line and exit
status 4, never a crash.

When most article pages of a run needed the fallback parser, the layout
selectors no longer match the site: the alarm is logged at ERROR, written in
the report, and counted (``arabtoday/fallback/alarm``).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import sys
import time
from bisect import bisect_left
from collections.abc import Mapping
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Response

from arabtoday.accounting import article_key
from arabtoday.items import EXPORT_FIELDS
from arabtoday.outcome import ExitStatus, exit_status, mark
from arabtoday.stats import Stat
from arabtoday.version import SCHEMA_VERSION, __version__

logger = logging.getLogger(__name__)

PREFIX = "arabtoday/"
REPORT_FORMAT = 2  # bumped when a key of the report JSON changes meaning; 1 had no accounting
EXIT_STATUS_STAT = "arabtoday/exit_status"
ACCOUNTING_ERROR = "arabtoday/errors/accounting"
LOG_ERROR = "arabtoday/errors/log/{source}"  # ERROR lines from outside our code that nothing else counted
OUR_LOGGERS = "arabtoday"  # our modules and the spider's own logger: they count what they log
# Where an exception nobody handled is logged: such a line is an internal error (or a failed write).
UNHANDLED_SOURCES = frozenset({"scrapy.utils.signal", "scrapy.core.scraper", "scrapy.core.engine", "asyncio",
                               "twisted", "scrapy.extensions.feedexport"})
SCRAPER = "scrapy.core.scraper"  # logs the exceptions of callbacks and item pipelines
# ERROR lines of other code that always come with a second, counted report of the same failure.
COUNTED_ELSEWHERE = {
    # "Gave up retrying": the request then fails to its errback (the spider counts it) or to the
    # robots.txt middleware (which logs its own ERROR line, counted as log/...robotstxt).
    "scrapy.downloadermiddlewares.retry",
}

# Where each article page a run reached may end (docs/CONTRACTS.md, "Accounting").
ARTICLES = "arabtoday/articles/"
REQUESTED = ARTICLES + "requested"
EMITTED = ARTICLES + "emitted"
BUCKETS = ("skipped", "duplicate", "dropped", "failed", "unfinished")

# The effective settings a reader needs to understand a run: ours (ARABTODAY_*)
# and those that decide politeness and bounds; not Scrapy's whole dump.
REPORTED_SETTINGS = (
    "USER_AGENT", "ROBOTSTXT_OBEY", "CONCURRENT_REQUESTS", "CONCURRENT_REQUESTS_PER_DOMAIN", "DOWNLOAD_DELAY",
    "RANDOMIZE_DOWNLOAD_DELAY", "AUTOTHROTTLE_ENABLED", "AUTOTHROTTLE_START_DELAY", "AUTOTHROTTLE_MAX_DELAY",
    "AUTOTHROTTLE_TARGET_CONCURRENCY", "DOWNLOAD_TIMEOUT", "DNS_TIMEOUT", "DOWNLOAD_MAXSIZE", "DOWNLOAD_WARNSIZE",
    "DOWNLOAD_FAIL_ON_DATALOSS", "RETRY_ENABLED", "RETRY_TIMES", "RETRY_HTTP_CODES", "REDIRECT_MAX_TIMES",
    "CLOSESPIDER_TIMEOUT", "CLOSESPIDER_ITEMCOUNT", "CLOSESPIDER_PAGECOUNT", "CLOSESPIDER_ERRORCOUNT",
    "FEEDS", "FEED_EXPORT_ENCODING", "LOG_LEVEL",
)
OUR_SETTINGS = "ARABTODAY_"
_CREDENTIALS = re.compile(r"(?<=//)([^/@\s:]*):[^/@\s]*@")  # user:password@ in an address

# Response times: fixed bins (upper bounds, seconds), so memory does not grow with the run.
LATENCY_BOUNDS = (0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
# Published days kept apart; beyond this many (a hostile or broken date field) they share one bucket.
MAX_DAYS = 40_000
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}")
UNKNOWN_DAY = "unknown"
OTHER_DAYS = "other"


def _group(stats: Mapping[str, Any], prefix: str) -> dict[str, int]:
    return {k[len(prefix):]: v for k, v in sorted(stats.items()) if k.startswith(prefix)}


def _total(stats: Mapping[str, Any], prefix: str) -> int:
    return sum(int(v) for k, v in stats.items() if k.startswith(prefix) and isinstance(v, int | float))


# -- accounting ----------------------------------------------------------------------------------------------------

def accounting(stats: Mapping[str, Any], checked: bool = True) -> dict[str, Any]:
    """``requested`` against the sum of the buckets every article page ends in.

    A difference means an article was lost (or counted twice) somewhere
    between request and output: the run then exits 1 (docs/CONTRACTS.md).
    ``checked`` is False for a worker of a distributed crawl: the requests it
    makes go to the shared queue and other workers settle them, so only the
    sum over all workers can add up.
    """
    result: dict[str, Any] = {"requested": int(stats.get(REQUESTED, 0)), "emitted": int(stats.get(EMITTED, 0))}
    total = result["emitted"]
    for bucket in BUCKETS:
        result[bucket] = _group(stats, f"{ARTICLES}{bucket}/")
        total += sum(int(v) for v in result[bucket].values())
    result["sum"] = total
    result["difference"] = result["requested"] - total
    result["checked"] = checked
    return result


def accounting_error(acc: Mapping[str, Any]) -> bool:
    return bool(acc["difference"]) and acc.get("checked", True)


def check_accounting(stats: Any, checked: bool = True) -> dict[str, Any]:
    """Set ``arabtoday/errors/accounting`` and log the numbers at ERROR when the buckets do not add up.

    Called on the live stats collector before the exit status is computed, so
    that the status (1) and the report agree.
    """
    acc = accounting(stats.get_stats(), checked)
    if acc["difference"] and not checked:
        logger.info("accounting not checked for one worker of a distributed crawl: %d article(s) requested here, "
                    "%d settled here (each worker settles what it takes from the shared queue)",
                    acc["requested"], acc["sum"])
    if accounting_error(acc):
        stats.set_value(ACCOUNTING_ERROR, 1)
        logger.error("accounting does not add up: %d article(s) requested, %d in the buckets (emitted %d, %s): "
                     "difference %d", acc["requested"], acc["sum"], acc["emitted"],
                     ", ".join(f"{b} {sum(acc[b].values())}" for b in BUCKETS), acc["difference"])
    return acc


def errors_by_kind(stats: Mapping[str, Any], acc: Mapping[str, Any] | None = None) -> dict[str, int]:
    """Every error once: ours (``arabtoday/errors/<kind>``, which include the ERROR
    lines of other code, ``log/<logger>``) and the article pages that failed
    (``arabtoday/articles/failed/<reason>``), which by contract are never also
    counted under ``errors/``. Scrapy's ``downloader/exception_type_count/*``
    are left out: they count the same failures again, and retried ones that
    later succeeded."""
    errors: dict[str, int] = {}
    for prefix in (PREFIX + "errors/", ARTICLES + "failed/"):
        for kind, value in _group(stats, prefix).items():
            errors[kind] = errors.get(kind, 0) + int(value)
    if acc is not None and accounting_error(acc) and "accounting" not in errors:
        errors["accounting"] = 1
    return dict(sorted(errors.items()))


# -- the report ----------------------------------------------------------------------------------------------------

def build_report(stats: Mapping[str, Any], duration: float, fallback_ratio_alarm: float = 0.5,
                 fallback_min_pages: int = 5, *, run: Mapping[str, Any] | None = None,
                 charts: Mapping[str, Any] | None = None, accounting_checked: bool = True) -> dict[str, Any]:
    """The report as a plain dict, from a run's stats (pure: tested without a crawl).

    ``run`` carries what the stats do not know (times, arguments, settings,
    output); ``charts`` the aggregates the HTML report draws
    (:meth:`Aggregates.as_dict`); ``accounting_checked`` is False for a
    worker of a distributed crawl (:func:`accounting`).
    """
    acc = accounting(stats, accounting_checked)
    settled = dict(stats)
    if accounting_error(acc):
        settled.setdefault(ACCOUNTING_ERROR, 1)
    code, reason = exit_status(settled)
    parsed = int(stats.get(Stat.PAGES_PARSED, 0))
    fallback = int(stats.get(Stat.FALLBACK_PAGES, 0))
    ratio = fallback / parsed if parsed else 0.0
    fetched = int(stats.get("response_received_count", 0))
    report: dict[str, Any] = {
        "report_format": REPORT_FORMAT,
        "versions": {"arabtoday": __version__, "schema": SCHEMA_VERSION, "scrapy": scrapy.__version__},
        "started_at": None, "finished_at": None, "arguments": {}, "settings": {}, "output": None,
        **(run or {}),
        "duration_seconds": round(duration, 3),
        "finish_reason": stats.get("finish_reason"),
        "exit_status": {"code": int(code), "reason": reason},
        "accounting": acc,
        "errors": errors_by_kind(settled, acc),
        "log_count": {k: int(v) for k, v in _group(stats, "log_count/").items()},
        "pages_fetched": fetched,
        "requests": int(stats.get("downloader/request_count", 0)),
        "article_pages_parsed": parsed,
        "emitted": {
            "total": int(stats.get("item_scraped_count", 0)),
            "by_edition": {k: v for k, v in _group(stats, PREFIX + "emitted/").items() if k in ("en", "ar")},
            "new": int(stats.get(Stat.EMITTED_NEW, 0)),
            "updated": int(stats.get(Stat.EMITTED_UPDATED, 0)),
        },
        "skipped": {**_group(stats, PREFIX + "discovery/skipped/"), **_group(stats, ARTICLES + "skipped/")},
        "duplicates": _group(stats, ARTICLES + "duplicate/"),
        "dropped": _group(stats, ARTICLES + "dropped/"),
        "fallbacks": {
            "pages": fallback,
            "ratio": round(ratio, 3),
            "fields": _group(stats, PREFIX + "fallback/field/"),
            "alarm": parsed >= fallback_min_pages and ratio > fallback_ratio_alarm,
        },
        "extractors": _group(stats, PREFIX + "extractor/"),
        "retries": int(stats.get("retry/count", 0)),
        "pages_per_second": round(fetched / duration, 1) if duration else 0.0,
        "peak_rss_bytes": int(stats.get("memusage/max", 0)),
        "filtered": {"offsite": int(stats.get("offsite/filtered", 0)),
                     "robots_forbidden": int(stats.get("robotstxt/forbidden", 0))},
        "charset_corrected": int(stats.get(Stat.CHARSET_CORRECTED, 0)),
        "charts": dict(charts) if charts else Aggregates().as_dict(),
        "stats": {**{k: v for k, v in sorted(settled.items()) if k.startswith(PREFIX)},
                  "finish_reason": stats.get("finish_reason")},
    }
    report["stats"][EXIT_STATUS_STAT] = int(code)
    return report


def _count_line(title: str, items: Mapping[str, Any]) -> str:
    inner = ", ".join(f"{k} {v}" for k, v in items.items())
    return f"  {title:<11} {sum(int(v) for v in items.values())}" + (f" ({inner})" if inner else "")


def format_report(report: Mapping[str, Any]) -> str:
    """The short text block logged at the end of a run (and printed by ``python -m arabtoday report``).

    Reads every key with a default, so that reports written by older
    releases (no accounting, no exit status) still print.
    """
    status = report.get("exit_status") or {}
    e = report.get("emitted") or {}
    lines = [
        f"arabtoday run report: exit {status.get('code', '?')} ({status.get('reason', 'unknown')})",
        f"  run         {report.get('duration_seconds', '?')} s, {report.get('finish_reason')}"
        + (f", {report['started_at']} → {report['finished_at']}" if report.get("started_at") else ""),
        f"  fetched     {report.get('pages_fetched', 0)} pages ({report.get('article_pages_parsed', 0)} article "
        f"pages parsed, {report.get('retries', 0)} retries, {report.get('pages_per_second', 0)} pages/s)",
        f"  emitted     {e.get('total', 0)} "
        + " ".join(f"{k}={v}" for k, v in (e.get("by_edition") or {}).items())
        + f" (new {e.get('new', 0)}, updated {e.get('updated', 0)})",
    ]
    acc = report.get("accounting")
    if acc:
        parts = " + ".join(f"{b} {sum(acc.get(b, {}).values())}" for b in BUCKETS)
        verdict = ("adds up" if not acc["difference"] else f"DIFFERENCE {acc['difference']}"
                   if acc.get("checked", True) else "not checked (one worker of a distributed crawl)")
        lines.append(f"  accounting  requested {acc['requested']} = emitted {acc['emitted']} + {parts}: {verdict}")
    for title, key in (("skipped", "skipped"), ("duplicates", "duplicates"), ("dropped", "dropped"),
                       ("errors", "errors")):
        lines.append(_count_line(title, report.get(key) or {}))
    log_count = report.get("log_count") or {}
    loud = ", ".join(f"{k} {log_count[k]}" for k in ("CRITICAL", "ERROR", "WARNING") if k in log_count)
    lines.append(f"  log lines   {loud or 'none above INFO'}")
    fb = report.get("fallbacks") or {}
    if fb.get("pages"):
        lines.append(f"  fallbacks   {fb['pages']} pages ({fb.get('ratio', 0):.0%})"
                     + (", fields " + ", ".join(f"{k} {v}" for k, v in fb["fields"].items())
                        if fb.get("fields") else ""))
    return "\n".join(lines)


# -- what the charts need --------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Aggregates:
    """Small running totals for the HTML report's charts: memory bounded by the
    number of published days (capped), fields and fixed latency bins, never by
    the number of records."""

    published: dict[str, dict[str, dict[str, int]]] = dataclasses.field(default_factory=dict)
    fields: dict[str, int] = dataclasses.field(default_factory=lambda: dict.fromkeys(EXPORT_FIELDS, 0))
    records: int = 0
    latency_counts: list[int] = dataclasses.field(default_factory=lambda: [0] * (len(LATENCY_BOUNDS) + 1))
    latency_total: float = 0.0
    latency_max: float = 0.0

    def add_record(self, item: Any) -> None:
        """Count one emitted record: its published day × edition × extractor, and which fields it filled."""
        get = item.get if isinstance(item, Mapping) else partial(getattr, item)  # no ItemAdapter: a hot path
        day = _day(get("published_at", None))
        if day not in self.published and len(self.published) >= MAX_DAYS:
            day = OTHER_DAYS
        by_lang = self.published.setdefault(day, {})
        by_extractor = by_lang.setdefault(str(get("lang", None) or "unknown"), {})
        extractor = str(get("extractor", None) or "unknown")
        by_extractor[extractor] = by_extractor.get(extractor, 0) + 1
        self.records += 1
        for name in self.fields:
            if _filled(get(name, None)):
                self.fields[name] += 1

    def add_latency(self, seconds: float) -> None:
        """Count one download time in its bin (the last bin is "longer than the last bound")."""
        index = bisect_left(LATENCY_BOUNDS, seconds)  # the first bound >= seconds
        self.latency_counts[index] += 1
        self.latency_total += seconds
        self.latency_max = max(self.latency_max, seconds)

    def as_dict(self) -> dict[str, Any]:
        count = sum(self.latency_counts)
        return {
            "published": {day: self.published[day] for day in sorted(self.published)},
            "field_coverage": {"records": self.records, "fields": dict(self.fields)},
            "response_times": {
                "upper_bounds_seconds": [*LATENCY_BOUNDS, None],
                "counts": list(self.latency_counts),
                "count": count,
                "mean_seconds": round(self.latency_total / count, 4) if count else None,
                "max_seconds": round(self.latency_max, 4) if count else None,
            },
        }


def _day(value: Any) -> str:
    text = str(value or "")
    return text[:10] if DAY.match(text) else UNKNOWN_DAY


def _filled(value: Any) -> bool:
    return value not in (None, "", [], {}, ())


# -- settings, arguments, output -------------------------------------------------------------------------------------

def _jsonable(value: Any) -> Any:
    """A settings or argument value as plain JSON, credentials in addresses masked."""
    if hasattr(value, "copy_to_dict"):
        value = value.copy_to_dict()
    if isinstance(value, Mapping):
        return {str(_jsonable(k)): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return _CREDENTIALS.sub(r"\1:***@", value)
    return _jsonable(str(value))


def effective_settings(settings: Any) -> dict[str, Any]:
    """Our settings and the politeness/bounds ones, as the run saw them."""
    names = sorted({n for n in settings if str(n).startswith(OUR_SETTINGS)} | set(REPORTED_SETTINGS))
    return {name: _jsonable(settings.get(name)) for name in names}


def spider_arguments(spider: Any) -> dict[str, Any]:
    """The spider's arguments after validation (``spider.params``), defaults included."""
    params = getattr(spider, "params", None)
    if params is not None and dataclasses.is_dataclass(params) and not isinstance(params, type):
        return {k: _jsonable(v) for k, v in dataclasses.asdict(params).items()}
    return {}


def _utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def feed_paths(crawler: Crawler) -> list[Path]:
    """The local files the feed exporter writes (other storages are not files we can sit beside)."""
    from scrapy.extensions.feedexport import FeedExporter

    paths = []
    for slot in getattr(crawler.get_extension(FeedExporter), "slots", None) or []:
        parts = urlsplit(slot.uri)
        if parts.scheme in ("", "file") and parts.path and parts.path != "-":
            paths.append(Path(unquote(parts.path) if parts.scheme else slot.uri))
    return paths


def html_path_for(json_path: Path) -> Path:
    """``x.report.json`` -> ``x.report.html``; any other name gains ``.html``."""
    if json_path.suffix == ".json":
        return json_path.with_suffix(".html")
    return json_path.with_name(json_path.name + ".html")


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, fsync it, rename it over ``path``.

    A reader sees the old file or the whole new one, never half of it; the
    temporary file is removed when anything fails, so none is left behind.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def dumps_report(report: Mapping[str, Any]) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2) + "\n"


# -- the extension -----------------------------------------------------------------------------------------------------

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
        self.stats.inc_value(LOG_ERROR.format(source=name))
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
        self.started_at = _utc_now()
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
        self.started_at = _utc_now()
        # from here to engine_stopped only: a crawler built but never run (``extract``) counts no log lines
        logging.getLogger().addHandler(self.error_lines)

    def item_scraped(self, item: Any) -> None:
        self.aggregates.add_record(item)

    def response_received(self, response: Response) -> None:
        latency = response.meta.get("download_latency") if response.request is not None else None
        if isinstance(latency, int | float):
            self.aggregates.add_latency(float(latency))

    def spider_closed(self, reason: str) -> None:
        self.reason = reason
        self.finished_at = _utc_now()
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
            "finished_at": self.finished_at or _utc_now(),
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
        if _total(stats.get_stats(), "feedexport/failed_count/"):
            mark(stats, ExitStatus.WRITE_FAILED)  # Scrapy could not store a feed: records were lost
        check_accounting(stats, self.accounting_checked)
        self._settle(stats)
        report = self._build()
        if report["fallbacks"]["alarm"]:
            stats.set_value(Stat.FALLBACK_ALARM, 1)
            logger.error(
                "LAYOUT CHANGE? %d of %d article pages (%.0f%%) needed the fallback parser: the selectors in "
                "arabtoday/extraction/selectors.py no longer match the site. Records are still clean, but check "
                "them and add a new Layout (README: 'Adapting to a redesign').",
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
        stats.set_value(EXIT_STATUS_STAT, int(code))
        return int(code)

    def _write(self, report: dict[str, Any], path: Path) -> None:
        """HTML first, then the JSON with the final status. Whatever failed is one ERROR line and exit status 4."""
        from arabtoday.report_html import write_html

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
            logger.info("run report written to %s and %s", path, html.name)
            return
        mark(self.crawler.stats, ExitStatus.WRITE_FAILED)
        code = self._settle(self.crawler.stats)
        logger.error("cannot write the run report (%s): the run exits %d", "; ".join(failed), code)


# -- printing (and rendering) a saved report ---------------------------------------------------------------------------

class NotAReport(ValueError):
    """A file that is not a run report this code can read."""


def load_report(path: Path) -> dict[str, Any]:
    """A report JSON from disk, or :class:`NotAReport` saying why not (unreadable, not JSON, not a report)."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise NotAReport(f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise NotAReport(f"not UTF-8 text: {exc.reason}") from None
    except ValueError as exc:
        raise NotAReport(f"not JSON: {exc}") from None
    if not isinstance(data, dict) or not ({"report_format", "emitted"} & data.keys()):
        raise NotAReport("not a run report (no 'report_format' or 'emitted' key)")
    return data


def report_command(path: Path, html: Path | None = None, out: Any = None, err: Any = None) -> int:
    """``python -m arabtoday report FILE.report.json [--html OUT.html]``: print the text block; render the HTML.

    Exit status: 0 done, 1 the HTML could not be written, 2 the file is not a readable report.
    """
    out, err = out or sys.stdout, err or sys.stderr
    try:
        report = load_report(path)
    except NotAReport as exc:
        print(f"report: {path}: {exc}", file=err)
        return 2
    print(format_report(report), file=out)
    if html is not None:
        from arabtoday.report_html import write_html

        try:
            write_html(report, html)
        except OSError as exc:
            print(f"report: cannot write {html}: {exc.strerror or exc}", file=err)
            return 1
        print(f"HTML report written to {html}", file=out)
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m arabtoday.report FILE [--html OUT]`` (the same as the ``report`` command of the helper CLI)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m arabtoday.report", description="print a run report")
    parser.add_argument("path", type=Path, help="a run's .report.json")
    parser.add_argument("--html", type=Path, help="also render the self-contained HTML report to this file")
    args = parser.parse_args(argv)
    return report_command(args.path, args.html)


if __name__ == "__main__":
    raise SystemExit(main())
