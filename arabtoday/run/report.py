"""The run report: what a run did, as a plain dict, a text block and (``report_html``) a page.

Pure: built from a run's stats and context (:func:`build_report`), printed
(:func:`format_report`), read back (:func:`load_report`); tested without a
crawl. The extension that collects what the charts need and writes the files
at the end of a run is :mod:`arabtoday.run.reporter`.

The report says when the run started and ended, with which arguments and
settings, what it fetched, where every article page went (the accounting
buckets, and whether they add up: :func:`accounting`), errors by kind, and the
exit status the run ends with. When most article pages of a run needed the
fallback parser, the layout selectors no longer match the site: the report
says so (``fallbacks.alarm``).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import sys
from bisect import bisect_left
from collections.abc import Mapping
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import scrapy
from scrapy.crawler import Crawler

from arabtoday.exitstatus import exit_status
from arabtoday.items import EXPORT_FIELDS
from arabtoday.stats import NOT_EMITTED, PREFIX, Stat, group, total
from arabtoday.version import SCHEMA_VERSION, __version__

logger = logging.getLogger(__name__)

REPORT_FORMAT = 2  # bumped when a key of the report JSON changes meaning; 1 had no accounting
# The effective settings a reader needs to understand a run: ours (ARABTODAY_*)
# and those that decide politeness and bounds; not Scrapy's whole dump.
REPORTED_SETTINGS = (
    "USER_AGENT", "ROBOTSTXT_OBEY", "CONCURRENT_REQUESTS", "CONCURRENT_REQUESTS_PER_DOMAIN", "DOWNLOAD_DELAY",
    "DOWNLOAD_DELAY_JITTER", "AUTOTHROTTLE_ENABLED", "AUTOTHROTTLE_START_DELAY", "AUTOTHROTTLE_MAX_DELAY",
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


# -- accounting ----------------------------------------------------------------------------------------------------

def accounting(stats: Mapping[str, Any], checked: bool = True) -> dict[str, Any]:
    """``requested`` against the sum of the buckets every article page ends in.

    A difference means an article was lost (or counted twice) somewhere
    between request and output: the run then exits 1 (``docs/running.md``, "Every article out or counted").
    ``checked`` is False for a worker of a distributed crawl: the requests it
    makes go to the shared queue and other workers settle them, so only the
    sum over all workers can add up.
    """
    result: dict[str, Any] = {"requested": int(stats.get(Stat.REQUESTED, 0)),
                              "emitted": int(stats.get(Stat.EMITTED, 0))}
    summed = result["emitted"]
    for bucket in NOT_EMITTED:
        result[bucket] = group(stats, f"{Stat.ARTICLES}{bucket}/")
        summed += sum(int(v) for v in result[bucket].values())
    result["sum"] = summed
    result["difference"] = result["requested"] - summed
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
        stats.set_value(Stat.ACCOUNTING_ERROR, 1)
        logger.error("accounting does not add up: %d article(s) requested, %d in the buckets (emitted %d, %s): "
                     "difference %d", acc["requested"], acc["sum"], acc["emitted"],
                     ", ".join(f"{b} {sum(acc[b].values())}" for b in NOT_EMITTED), acc["difference"])
    return acc


def errors_by_kind(stats: Mapping[str, Any], acc: Mapping[str, Any] | None = None) -> dict[str, int]:
    """Every error once: ours (``arabtoday/errors/<kind>``, which include the ERROR
    lines of other code, ``log/<logger>``) and the article pages that failed
    (``arabtoday/articles/failed/<reason>``), which by contract are never also
    counted under ``errors/``. Scrapy's ``downloader/exception_type_count/*``
    are left out: they count the same failures again, and retried ones that
    later succeeded."""
    errors: dict[str, int] = {}
    for prefix in (PREFIX + "errors/", Stat.ARTICLES + "failed/"):
        for kind, value in group(stats, prefix).items():
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
        settled.setdefault(Stat.ACCOUNTING_ERROR, 1)
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
        "log_count": {k: int(v) for k, v in group(stats, "log_count/").items()},
        "pages_fetched": fetched,
        "requests": int(stats.get("downloader/request_count", 0)),
        "article_pages_parsed": parsed,
        "emitted": {
            "total": int(stats.get(Stat.EMITTED, 0)),
            "by_edition": {k: v for k, v in group(stats, PREFIX + "emitted/").items() if k in ("en", "ar")},
            "new": int(stats.get(Stat.EMITTED_NEW, 0)),
            "updated": int(stats.get(Stat.EMITTED_UPDATED, 0)),
        },
        "skipped": group(stats, Stat.ARTICLES + "skipped/"),
        "discovery": {
            "not_followed": group(stats, PREFIX + "discovery/skipped/"),
            "sources_read": {k: v for k, v in group(stats, PREFIX + "sources/").items() if "/" not in k},
            "sources_failed": group(stats, Stat.SOURCES_FAILED),
            "sources_failed_at": list(stats.get(Stat.SOURCES_FAILED_AT) or []),
            # a run stopped early (a signal, max_articles, a lost output…) did not read every source
            "complete": not total(stats, Stat.SOURCES_FAILED) and stats.get("finish_reason") == "finished",
        },
        "history": {
            "superseded": int(stats.get(Stat.HISTORY.format(status="superseded"), 0)),
            "removed": group(stats, Stat.HISTORY.format(status="removed") + "/"),
            "originals_late": int(stats.get(Stat.ORIGINAL_LATE, 0)),
            "vanished": int(stats.get(Stat.VANISHED, 0)),
            "rechecked": group(stats, Stat.RECHECKED.format(outcome="")),
        },
        "duplicates": group(stats, Stat.ARTICLES + "duplicate/"),
        "dropped": group(stats, Stat.ARTICLES + "dropped/"),
        "fallbacks": {
            "pages": fallback,
            "ratio": round(ratio, 3),
            "fields": group(stats, PREFIX + "fallback/field/"),
            "alarm": parsed >= fallback_min_pages and ratio > fallback_ratio_alarm,
        },
        "extractors": group(stats, PREFIX + "extractor/"),
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
    report["stats"][Stat.EXIT_STATUS] = int(code)
    return report


def _count_line(title: str, items: Mapping[str, Any]) -> str:
    inner = ", ".join(f"{k} {v}" for k, v in items.items())
    return f"  {title:<11} {sum(int(v) for v in items.values())}" + (f" ({inner})" if inner else "")


def _history_line(history: Mapping[str, Any]) -> str:
    """What the run's lines of history said: copies superseded, removals, rechecks."""
    removed = history.get("removed") or {}
    rechecked = history.get("rechecked") or {}
    parts = [f"superseded {history.get('superseded', 0)}",
             f"removed {sum(removed.values())}" + (f" ({', '.join(f'{k} {v}' for k, v in removed.items())})"
                                                   if removed else "")]
    if history.get("originals_late"):
        parts.append(f"originals met after their copy {history['originals_late']}")
    if history.get("vanished"):
        parts.append(f"unlisted and asked for again {history['vanished']}"
                     + (f" ({', '.join(f'{k} {v}' for k, v in rechecked.items())})" if rechecked else ""))
    return "  history     " + ", ".join(parts)


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
        f"  emitted     {e.get('total', 0)}"
        + "".join(f" {k}={v}" for k, v in (e.get("by_edition") or {}).items())
        + f" (new {e.get('new', 0)}, updated {e.get('updated', 0)})",
    ]
    acc = report.get("accounting")
    if acc:
        parts = " + ".join(f"{b} {sum(acc.get(b, {}).values())}" for b in NOT_EMITTED)
        verdict = ("adds up" if not acc["difference"] else f"DIFFERENCE {acc['difference']}"
                   if acc.get("checked", True) else "not checked (one worker of a distributed crawl)")
        lines.append(f"  accounting  requested {acc['requested']} = emitted {acc['emitted']} + {parts}: {verdict}")
    discovery = report.get("discovery") or {}
    if discovery:
        failed = discovery.get("sources_failed") or {}
        verdict = (f"; FAILED {sum(failed.values())} (" + ", ".join(f"{k} {v}" for k, v in failed.items())
                   + "): discovery incomplete") if failed else (
            "; discovery complete" if discovery.get("complete", True) else "; discovery cut short (the run stopped)")
        lines.append(_count_line("sources", discovery.get("sources_read") or {}) + verdict)
        if discovery.get("sources_failed_at"):
            lines.append("  failed at   " + ", ".join(discovery["sources_failed_at"]))
        lines.append(_count_line("addresses", discovery.get("not_followed") or {}).replace(
            "addresses  ", "not followed", 1) + ": found, not requested")
    for title, key in (("skipped", "skipped"), ("duplicates", "duplicates"), ("dropped", "dropped"),
                       ("errors", "errors")):
        lines.append(_count_line(title, report.get(key) or {}))
    history = report.get("history") or {}
    if any(history.values()):  # a line only when the run wrote history or asked for vanished articles
        lines.append(_history_line(history))
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


def utc_now() -> str:
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


def dumps_report(report: Mapping[str, Any]) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2) + "\n"


# -- printing (and rendering) a saved report ---------------------------------------------------------------------------

# Keys a run report has, this release's or an older one's: a JSON file with none of them is some
# other file given by mistake.
REPORT_KEYS = frozenset({"report_format", "stats", "exit_status", "accounting", "emitted", "finish_reason"})


class NotAReport(ValueError):
    """A file that is not a run report this code can read."""


def load_report(path: Path) -> dict[str, Any]:
    """A report JSON from disk, or :class:`NotAReport` saying why not (unreadable, not JSON, not a report)."""
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise NotAReport("no such file") from None
    except OSError as exc:
        raise NotAReport(f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise NotAReport(f"not UTF-8 text: {exc.reason}") from None
    except ValueError as exc:
        raise NotAReport(f"not JSON ({exc})") from None
    if not isinstance(data, dict) or not REPORT_KEYS & data.keys():
        raise NotAReport(f"not a run report (no {', '.join(sorted(REPORT_KEYS))}); give the <output>.report.json "
                         "written next to a crawl's output")
    return data


def report_command(path: Path, html: Path | None = None, out: Any = None, err: Any = None) -> int:
    """``arabtoday report FILE.report.json [--html OUT.html]``: print the text block, and render the HTML.

    Exit status: 0 done; 1 the file is not a readable report, or the HTML could not be written
    (one line on ``err`` says which).
    """
    out, err = out or sys.stdout, err or sys.stderr
    try:
        report = load_report(path)
        text = format_report(report)
    except NotAReport as exc:
        print(f"report: {path}: {exc}", file=err)
        return 1
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        print(f"report: {path}: not a complete run report (missing or wrong {exc})", file=err)
        return 1
    print(text, file=out)
    if html is not None:
        from arabtoday.run.report_html import write_html

        try:
            write_html(report, html)
        except OSError as exc:
            print(f"report: cannot write {html}: {exc.strerror or exc}", file=err)
            return 1
        print(f"HTML report written to {html}", file=out)
    return 0
