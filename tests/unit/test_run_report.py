"""The run report as data and text (``arabtoday.run.report``), from hand-made stats: accounting,
errors, settings, aggregates, the text block and the ``report`` command's function."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from arabtoday.exitstatus import ExitStatus
from arabtoday.offline.runner import DictStats
from arabtoday.run import report as report_module
from arabtoday.run.report import (
    Aggregates,
    accounting,
    build_report,
    check_accounting,
    effective_settings,
    format_report,
    load_report,
    report_command,
)
from arabtoday.stats import Stat
from conftest import BALANCED_STATS as BALANCED


def Stats(values: dict[str, Any]) -> DictStats:
    """The project's own stats collector (the one ``extract`` runs with), filled with ``values``."""
    stats = DictStats()
    for key, value in values.items():
        stats.set_value(key, value)
    return stats


def test_accounting_that_adds_up() -> None:
    acc = accounting(BALANCED)
    assert acc["requested"] == 12
    assert acc["sum"] == 12 and acc["difference"] == 0
    assert acc["dropped"] == {"not_article/listing": 1, "out_of_window": 1}
    report = build_report(BALANCED, 3.0)
    assert report["accounting"] == acc
    assert "accounting" not in report["errors"]
    # one article failed: status 3, not 1
    assert report["exit_status"]["code"] == ExitStatus.ARTICLES_FAILED
    assert report["stats"]["arabtoday/exit_status"] == ExitStatus.ARTICLES_FAILED


def test_accounting_that_does_not_add_up_is_an_error_and_exit_status_1(caplog: pytest.LogCaptureFixture) -> None:
    lost = {**BALANCED, "arabtoday/articles/requested": 15}
    report = build_report(lost, 3.0)
    assert report["accounting"]["difference"] == 3
    assert report["errors"]["accounting"] == 1
    assert report["exit_status"]["code"] == ExitStatus.INTERNAL_ERROR
    stats = Stats(lost)
    with caplog.at_level(logging.ERROR, logger="arabtoday.run.report"):
        check_accounting(stats)
    assert stats.get_value(Stat.ACCOUNTING_ERROR) == 1
    line = caplog.records[-1]
    assert line.levelno == logging.ERROR
    assert "15 article(s) requested, 12 in the buckets" in line.getMessage()
    assert "difference 3" in line.getMessage()


def test_a_distributed_worker_reports_its_accounting_without_checking_it(caplog: pytest.LogCaptureFixture) -> None:
    """Its requests go to the shared queue and other workers settle them: only the crawl's sum can add up."""
    partial = {**BALANCED, "arabtoday/articles/requested": 30}
    report = build_report(partial, 3.0, accounting_checked=False)
    assert report["accounting"]["difference"] == 18 and report["accounting"]["checked"] is False
    assert "accounting" not in report["errors"]
    assert report["exit_status"]["code"] == ExitStatus.ARTICLES_FAILED  # the failed article, not an accounting error
    assert "not checked" in format_report(report)
    stats = Stats(partial)
    with caplog.at_level(logging.INFO, logger="arabtoday.run.report"):
        check_accounting(stats, checked=False)
    assert stats.get_value(Stat.ACCOUNTING_ERROR) is None
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_balanced_stats_set_no_accounting_error() -> None:
    stats = Stats(BALANCED)
    check_accounting(stats)
    assert stats.get_value(Stat.ACCOUNTING_ERROR) is None


def test_errors_are_counted_once_and_error_lines_reported() -> None:
    stats = {
        "arabtoday/errors/source/timeout": 2,
        "arabtoday/articles/requested": 1,
        "arabtoday/articles/failed/timeout": 1,
        "arabtoday/errors/log/scrapy.core.scraper": 1,
        # Scrapy's own count of the same failures (and of retries that later succeeded): not added
        "downloader/exception_type_count/twisted.internet.error.TimeoutError": 7,
        "log_count/ERROR": 4,
        "log_count/WARNING": 2,
    }
    report = build_report(stats, 1.0)
    assert report["errors"] == {"log/scrapy.core.scraper": 1, "source/timeout": 2, "timeout": 1}
    assert report["log_count"] == {"ERROR": 4, "WARNING": 2}


def test_effective_settings_are_ours_and_the_politeness_ones_with_credentials_masked() -> None:
    from scrapy.settings import Settings

    settings = Settings({"ARABTODAY_REDIS_URL": "redis://worker:s3cret@10.0.0.5:6379/0", "DOWNLOAD_DELAY": 1.5,
                         "SPIDER_MODULES": ["x"], "FEEDS": {"out.jsonl": {"format": "jsonl"}}})
    got = effective_settings(settings)
    assert got["ARABTODAY_REDIS_URL"] == "redis://worker:***@10.0.0.5:6379/0"
    assert got["DOWNLOAD_DELAY"] == 1.5
    assert got["FEEDS"] == {"out.jsonl": {"format": "jsonl"}}
    assert "SPIDER_MODULES" not in got
    json.dumps(got)  # plain JSON


def test_aggregates_stay_small_whatever_the_number_of_records(monkeypatch: pytest.MonkeyPatch) -> None:
    agg = Aggregates()
    for n in range(20_000):
        agg.add_record({"published_at": f"2017-10-{n % 3 + 1:02d}T06:49:00Z", "lang": "en",
                        "extractor": "article-v1" if n < 15_000 else "article-v2", "title": "t", "body": "b",
                        "tags": [] if n % 2 else ["x"]})
    data = agg.as_dict()
    assert len(data["published"]) == 3
    assert sum(n for day in data["published"].values() for lang in day.values() for n in lang.values()) == 20_000
    assert data["field_coverage"]["records"] == 20_000
    assert data["field_coverage"]["fields"]["tags"] == 10_000
    assert data["field_coverage"]["fields"]["author"] == 0
    monkeypatch.setattr(report_module, "MAX_DAYS", 2)
    capped = Aggregates()
    for day in ("2017-01-01", "2017-01-02", "2017-01-03", "2017-01-04", "not a date"):
        capped.add_record({"published_at": day, "lang": "ar", "extractor": "fallback"})
    assert list(capped.as_dict()["published"]) == ["2017-01-01", "2017-01-02", "other"]


def test_latency_histogram_has_fixed_bins() -> None:
    agg = Aggregates()
    for seconds in (0.01, 0.05, 0.3, 3.0, 120.0):
        agg.add_latency(seconds)
    rt = agg.as_dict()["response_times"]
    assert len(rt["counts"]) == len(rt["upper_bounds_seconds"])
    assert rt["counts"][0] == 2  # <= 50 ms, bound included
    assert rt["counts"][-1] == 1  # longer than the last bound
    assert rt["count"] == 5 and rt["max_seconds"] == 120.0


def test_text_block_is_short_with_accounting_and_exit_status() -> None:
    text = format_report(build_report(BALANCED, 3.0))
    lines = text.splitlines()
    assert lines[0].startswith("arabtoday run report: exit 3 (1 article page(s) failed")
    assert any(line.strip().startswith("accounting  requested 12 = emitted 5 + skipped 2") and "adds up" in line
               for line in lines)
    assert len(lines) <= 12
    lost = format_report(build_report({**BALANCED, "arabtoday/articles/requested": 13}, 3.0))
    assert "DIFFERENCE 1" in lost and "exit 1" in lost


def test_the_history_line_says_what_the_run_wrote_and_asked_for_again() -> None:
    assert "history" not in format_report(build_report(BALANCED, 3.0))  # nothing happened: no line
    stats = {**BALANCED, "arabtoday/history/superseded": 2, "arabtoday/history/removed/http_410": 1,
             "arabtoday/history/removed/gone_from_sitemaps": 3, "arabtoday/history/vanished": 4,
             "arabtoday/history/rechecked/removed": 3, "arabtoday/history/rechecked/skipped": 1,
             "arabtoday/history/original_late": 1}
    report = build_report(stats, 3.0)
    assert report["history"] == {"superseded": 2, "removed": {"gone_from_sitemaps": 3, "http_410": 1},
                                 "originals_late": 1, "vanished": 4, "rechecked": {"removed": 3, "skipped": 1}}
    [line] = [x for x in format_report(report).splitlines() if x.strip().startswith("history")]
    assert line == ("  history     superseded 2, removed 4 (gone_from_sitemaps 3, http_410 1), originals met after "
                    "their copy 1, unlisted and asked for again 4 (removed 3, skipped 1)")


def test_a_report_from_an_older_release_still_prints() -> None:
    old = {"duration_seconds": 2.0, "finish_reason": "finished", "pages_fetched": 9, "article_pages_parsed": 3,
           "emitted": {"total": 3, "by_edition": {"en": 3}, "new": 3, "updated": 0}, "skipped": {},
           "duplicates": {}, "dropped": {}, "errors": {"http_500": 1}, "retries": 1,
           "fallbacks": {"pages": 0, "ratio": 0.0, "fields": {}, "alarm": False}}
    text = format_report(old)
    assert "exit ? (unknown)" in text and "errors      1 (http_500 1)" in text


def test_report_command_prints_renders_and_refuses_what_is_not_a_report(tmp_path: Path) -> None:
    saved = tmp_path / "x.report.json"
    saved.write_text(json.dumps(build_report(BALANCED, 3.0)), "utf-8")
    out, err = io.StringIO(), io.StringIO()
    assert report_command(saved, tmp_path / "x.html", out, err) == 0
    assert "accounting  requested 12" in out.getvalue()
    assert (tmp_path / "x.html").read_text("utf-8").startswith("<!doctype html>")
    for bad, why in (("[1, 2]", "not a run report"), ("{not json", "not JSON"), ('{"a": 1}', "not a run report")):
        (tmp_path / "bad.json").write_text(bad, "utf-8")
        err = io.StringIO()
        assert report_command(tmp_path / "bad.json", None, io.StringIO(), err) == 1  # as arabtoday report exits
        assert why in err.getvalue()
    with pytest.raises(report_module.NotAReport, match="no such file"):
        load_report(tmp_path / "missing.json")


def test_a_run_stopped_early_does_not_say_its_discovery_was_complete() -> None:
    finished = build_report({**BALANCED, "finish_reason": "finished"}, 3.0)
    stopped = build_report({**BALANCED, "finish_reason": "shutdown"}, 3.0)
    assert finished["discovery"]["complete"] and not stopped["discovery"]["complete"]
    assert "discovery complete" in format_report(finished)
    assert "discovery cut short (the run stopped)" in format_report(stopped)


def test_skipped_names_only_the_bucket_and_discovery_says_not_followed() -> None:
    """A trial read "skipped 637 (known 637)" (discovery) beside "accounting … skipped 0" (the bucket):
    one word for two things. Addresses found and not requested are "not followed"."""
    stats = {**BALANCED, "arabtoday/discovery/skipped/known": 637}
    lines = format_report(build_report(stats, 3.0)).splitlines()
    [followed] = [line for line in lines if "not followed" in line]
    assert "637" in followed and "known 637" in followed and followed.endswith("found, not requested")
    skipped = [line for line in lines if line.strip().startswith("skipped")]
    assert skipped and all("637" not in line for line in skipped), lines


def test_the_failed_sources_are_named_in_the_report() -> None:
    url = "http://127.0.0.1:1/sitemaps/en-2017-10.xml"
    report = build_report({**BALANCED, Stat.SOURCE_FAILED.format(source="sitemap"): 1,
                           Stat.SOURCES_FAILED_AT: [url]}, 3.0)
    assert report["discovery"]["sources_failed_at"] == [url]
    assert f"failed at   {url}" in format_report(report)
    assert "FAILED 1 (sitemap 1): discovery incomplete" in format_report(report)
