"""The run report, and the alarm that tells a maintainer the site changed.

At the end of every run one log block and one JSON file say what happened:
pages fetched, articles emitted (new, updated) by edition, skipped, duplicates,
dropped by reason, fallbacks, errors by kind, duration. The JSON file goes
next to the first output file (``<output>.report.json``), or to
``ARABTODAY_REPORT_PATH``.

When most article pages of a run needed the fallback parser, the layout
selectors no longer match the site: the alarm is logged at ERROR, written in
the report, and counted (``arabtoday/fallback/alarm``).
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from scrapy import signals
from scrapy.crawler import Crawler

from arabtoday.outcome import exit_status
from arabtoday.stats import Stat

logger = logging.getLogger(__name__)
PREFIX = "arabtoday/"


def _group(stats: dict[str, Any], prefix: str) -> dict[str, int]:
    return {k[len(prefix):]: v for k, v in sorted(stats.items()) if k.startswith(prefix)}


def build_report(stats: dict[str, Any], duration: float, fallback_ratio_alarm: float,
                 fallback_min_pages: int) -> dict[str, Any]:
    """The report as a plain dict, from a run's stats (pure: tested without a crawl)."""
    parsed = int(stats.get(Stat.PAGES_PARSED, 0))
    fallback = int(stats.get(Stat.FALLBACK_PAGES, 0))
    ratio = fallback / parsed if parsed else 0.0
    errors = {**_group(stats, "arabtoday/errors/"), **_group(stats, "arabtoday/articles/failed/")}
    status, reason = exit_status(stats)
    return {
        "stats": {k: v for k, v in sorted(stats.items()) if k.startswith("arabtoday/")},
        "exit_status": {"code": int(status), "reason": reason},
        "duration_seconds": round(duration, 3),
        "finish_reason": stats.get("finish_reason"),
        "pages_fetched": int(stats.get("response_received_count", 0)),
        "requests": int(stats.get("downloader/request_count", 0)),
        "article_pages_parsed": parsed,
        "emitted": {
            "total": int(stats.get("item_scraped_count", 0)),
            "by_edition": {k: v for k, v in _group(stats, "arabtoday/emitted/").items() if k in ("en", "ar")},
            "new": int(stats.get(Stat.EMITTED_NEW, 0)),
            "updated": int(stats.get(Stat.EMITTED_UPDATED, 0)),
        },
        "skipped": {**_group(stats, "arabtoday/discovery/skipped/"), **_group(stats, "arabtoday/articles/skipped/")},
        "duplicates": _group(stats, "arabtoday/articles/duplicate/"),
        "dropped": _group(stats, "arabtoday/articles/dropped/"),
        "fallbacks": {
            "pages": fallback,
            "ratio": round(ratio, 3),
            "fields": _group(stats, "arabtoday/fallback/field/"),
            "alarm": parsed >= fallback_min_pages and ratio > fallback_ratio_alarm,
        },
        "extractors": _group(stats, "arabtoday/extractor/"),
        "errors": errors,
        "retries": int(stats.get("retry/count", 0)),
        "pages_per_second": round(int(stats.get("response_received_count", 0)) / duration, 1) if duration else 0.0,
        "peak_rss_bytes": int(stats.get("memusage/max", 0)),
        "filtered": {"offsite": int(stats.get("offsite/filtered", 0)),
                     "robots_forbidden": int(stats.get("robotstxt/forbidden", 0))},
        "charset_corrected": int(stats.get(Stat.CHARSET_CORRECTED, 0)),
    }


def format_report(report: dict[str, Any]) -> str:
    e = report["emitted"]
    lines = [
        "arabtoday run report",
        f"  duration        {report['duration_seconds']} s ({report['finish_reason']})",
        f"  pages fetched   {report['pages_fetched']} ({report['article_pages_parsed']} article pages parsed,"
        f" {report['retries']} retries)",
        f"  emitted         {e['total']} " + " ".join(f"{k}={v}" for k, v in e["by_edition"].items())
        + f" (new {e['new']}, updated {e['updated']})",
    ]
    for title in ("skipped", "duplicates", "dropped", "errors"):
        items = report[title]
        lines.append(f"  {title:<15} {sum(items.values())}" + (
            " (" + ", ".join(f"{k} {v}" for k, v in items.items()) + ")" if items else ""))
    fb = report["fallbacks"]
    lines.append(f"  fallbacks       {fb['pages']} pages ({fb['ratio']:.0%})"
                 + (", fields " + ", ".join(f"{k} {v}" for k, v in fb["fields"].items()) if fb["fields"] else ""))
    return "\n".join(lines)


class RunReport:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.settings = crawler.settings
        self.started = time.monotonic()
        self.path: Path | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunReport:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self) -> None:
        self.started = time.monotonic()

    def report_path(self) -> Path | None:
        """``ARABTODAY_REPORT_PATH``, else next to the first file feed (its resolved URI)."""
        explicit = self.settings.get("ARABTODAY_REPORT_PATH")
        if explicit:
            return Path(explicit)
        from scrapy.extensions.feedexport import FeedExporter

        for slot in getattr(self.crawler.get_extension(FeedExporter), "slots", []):
            parts = urlsplit(slot.uri)
            if parts.scheme in ("", "file") and parts.path and parts.path != "-":
                path = Path(unquote(parts.path) if parts.scheme else slot.uri)
                return path.with_name(path.name + ".report.json")
        return None

    def spider_closed(self, reason: str) -> None:
        self.crawler.stats.set_value("finish_reason", reason)
        stats = self.crawler.stats.get_stats()
        report = build_report(stats, time.monotonic() - self.started,
                              self.settings.getfloat("ARABTODAY_FALLBACK_ALARM_RATIO"),
                              self.settings.getint("ARABTODAY_FALLBACK_ALARM_MIN_PAGES"))
        report["finish_reason"] = reason
        self.crawler.stats.set_value("arabtoday/exit_status", report["exit_status"]["code"])
        if report["fallbacks"]["alarm"]:
            self.crawler.stats.set_value(Stat.FALLBACK_ALARM, 1)
            logger.error(
                "LAYOUT CHANGE? %d of %d article pages (%.0f%%) needed the fallback parser: the selectors in "
                "arabtoday/extraction/selectors.py no longer match the site. Records are still clean, but check "
                "them and add a new Layout (README: 'Adapting to a redesign').",
                report["fallbacks"]["pages"], report["article_pages_parsed"], 100 * report["fallbacks"]["ratio"])
        logger.info("\n%s", format_report(report))
        path = self.report_path()
        if path:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", "utf-8")
            os.replace(tmp, path)
            logger.info("run report written to %s", path)
