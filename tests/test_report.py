"""The run report: built from hand-made stats (pure), and written by real crawls
of the snapshot served on loopback (normal, interrupted, output or report not
writable, ERROR lines from other code)."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request

from arabtoday.exitstatus import ExitStatus
from arabtoday.files import atomic_write_text
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
from arabtoday.run.reporter import ErrorLineCounter
from arabtoday.stats import Stat
from conftest import FAST, ROOT, CrawlResult, Server, copy_site, crawl, site_meta, start_server, write_site_meta
from devkit.launch import crawl_command

MID_RUN_PAGES = 20  # of the snapshot's ~74: the interrupted run is well under way, far from done
BALANCED = {
    "arabtoday/articles/requested": 12,
    "arabtoday/articles/emitted": 5,
    "arabtoday/articles/skipped/unchanged": 2,
    "arabtoday/articles/duplicate/exact": 1,
    "arabtoday/articles/dropped/out_of_window": 1,
    "arabtoday/articles/dropped/not_article/listing": 1,
    "arabtoday/articles/failed/http_500": 1,
    "arabtoday/articles/unfinished/shutdown": 1,
    "finish_reason": "finished",
}


def Stats(values: dict[str, Any]) -> DictStats:
    """The project's own stats collector (the one ``extract`` runs with), filled with ``values``."""
    stats = DictStats()
    for key, value in values.items():
        stats.set_value(key, value)
    return stats


# -- accounting ---------------------------------------------------------------------------------------------------


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


# -- errors ---------------------------------------------------------------------------------------------------------


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


def test_error_lines_of_other_code_are_counted_by_logger_ours_are_not() -> None:
    stats = Stats({})
    counter = ErrorLineCounter(stats)
    for name, level in (("scrapy.downloadermiddlewares.robotstxt", logging.ERROR),
                        ("scrapy.core.scraper", logging.CRITICAL),
                        ("scrapy.core.scraper", logging.WARNING),  # not an error
                        ("arabtoday.spiders.arabtoday", logging.ERROR),  # ours: counted where it is logged
                        ("arabtoday", logging.ERROR),  # the spider's own logger
                        ("scrapy.downloadermiddlewares.retry", logging.ERROR)):  # followed by a counted one
        if level >= counter.level:  # as a logger does before it hands a record to its handlers
            counter.handle(logging.LogRecord(name, level, __file__, 1, "boom", None, None))
    assert stats.get_stats() == {
        "arabtoday/errors/log/scrapy.downloadermiddlewares.robotstxt": 1,
        "arabtoday/errors/log/scrapy.core.scraper": 1,
        "arabtoday/exit/internal_error": 1,  # an exception nobody handled
    }


def test_a_callback_error_on_an_article_is_left_to_the_ledger() -> None:
    """Scrapy logs an exception in a callback or pipeline; the ledger counts it as failed when it is about
    an article page; otherwise (a listing, a feed) only the log line tells, and it is counted."""
    stats = Stats({})
    counter = ErrorLineCounter(stats)
    message = "Spider error processing %(request)s (referer: %(referer)s)"
    for meta in ({"article_id": "en-104257"}, {"source": "listing"}):
        request = Request("http://127.0.0.1:9/x", meta=meta)
        counter.handle(logging.LogRecord("scrapy.core.scraper", logging.ERROR, __file__, 1, message,
                                         ({"request": request, "referer": None},), None))
    assert stats.get_stats() == {"arabtoday/errors/log/scrapy.core.scraper": 1, "arabtoday/exit/internal_error": 1}


def test_an_unhandled_io_error_is_a_failed_write() -> None:
    stats = Stats({})
    try:
        raise NotADirectoryError(20, "Not a directory")
    except OSError:
        record = logging.LogRecord("scrapy.utils.signal", logging.ERROR, __file__, 1, "Error caught on signal handler",
                                   None, sys.exc_info())
    ErrorLineCounter(stats).handle(record)
    assert stats.get_value("arabtoday/exit/write_failed") == 1
    assert build_report(stats.get_stats(), 1.0)["exit_status"]["code"] == ExitStatus.WRITE_FAILED


# -- what the report carries ------------------------------------------------------------------------------------------


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


def test_a_report_from_an_older_release_still_prints() -> None:
    old = {"duration_seconds": 2.0, "finish_reason": "finished", "pages_fetched": 9, "article_pages_parsed": 3,
           "emitted": {"total": 3, "by_edition": {"en": 3}, "new": 3, "updated": 0}, "skipped": {},
           "duplicates": {}, "dropped": {}, "errors": {"http_500": 1}, "retries": 1,
           "fallbacks": {"pages": 0, "ratio": 0.0, "fields": {}, "alarm": False}}
    text = format_report(old)
    assert "exit ? (unknown)" in text and "errors      1 (http_500 1)" in text


# -- files ------------------------------------------------------------------------------------------------------------


def test_atomic_write_leaves_no_temporary_file_when_it_fails(tmp_path: Path) -> None:
    target = tmp_path / "r.report.json"
    atomic_write_text(target, "{}\n")
    assert target.read_text("utf-8") == "{}\n"
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OSError):
        atomic_write_text(blocker / "r.report.json", "{}")
    os.chmod(tmp_path, 0o755)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "r.report.json"]


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


def test_report_command_runs_from_the_command_line(tmp_path: Path) -> None:
    saved = tmp_path / "x.report.json"
    saved.write_text(json.dumps(build_report(BALANCED, 3.0)), "utf-8")
    proc = subprocess.run([sys.executable, "-m", "arabtoday", "report", str(saved), "--html", str(tmp_path / "x.html")],
                          capture_output=True, text=True, check=False, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "arabtoday run report: exit 3" in proc.stdout
    assert (tmp_path / "x.html").exists()


# -- real crawls ------------------------------------------------------------------------------------------------------


@pytest.mark.e2e
def test_report_of_a_full_crawl(full_crawl: CrawlResult, snapshot_server: Server) -> None:
    report = full_crawl.report
    assert report["report_format"] == 2
    assert report["versions"]["arabtoday"] and report["versions"]["schema"]
    assert report["started_at"] <= report["finished_at"]
    assert report["arguments"]["base_url"] == snapshot_server.base
    assert report["arguments"]["lang"] == "all"
    assert report["settings"]["DOWNLOAD_DELAY"] == "0"  # as the test passed it
    assert report["settings"]["ARABTODAY_STATE_DIR"] == str(full_crawl.output.parent / "state")
    assert "SPIDER_MODULES" not in report["settings"]
    assert report["output"] == str(full_crawl.output)
    assert set(report["accounting"]) == {"requested", "emitted", "skipped", "duplicate", "dropped", "failed",
                                         "unfinished", "sum", "difference", "checked"}
    assert report["exit_status"] == {"code": 0, "reason": "finished: nothing lost"}
    acc = report["accounting"]
    assert acc["emitted"] == len(full_crawl.records)
    assert acc["duplicate"] == {"exact": 1}
    assert acc["requested"] == acc["sum"] == len(full_crawl.records) + 1 and acc["difference"] == 0
    assert report["stats"]["arabtoday/exit_status"] == 0
    assert report["stats"]["finish_reason"] == "finished"
    assert report["errors"] == {}
    charts = report["charts"]
    records = full_crawl.records
    assert charts["field_coverage"]["records"] == len(records)
    assert charts["field_coverage"]["fields"]["author"] == sum(1 for r in records if r["author"])
    per_day: dict[str, int] = {}
    for record in records:
        per_day[record["published_at"][:10]] = per_day.get(record["published_at"][:10], 0) + 1
    assert {day: sum(sum(e.values()) for e in langs.values()) for day, langs in charts["published"].items()} == per_day
    assert charts["response_times"]["count"] == report["pages_fetched"]
    files = sorted(p.name for p in full_crawl.output.parent.iterdir() if p.is_file())
    assert f"{full_crawl.output.name}.report.html" in files
    assert not [name for name in files if name.endswith(".tmp")]
    # The text block in the log: the exit status and the accounting line
    assert "arabtoday run report: exit 0 (finished: nothing lost)" in full_crawl.log
    assert "  accounting  requested " in full_crawl.log


@pytest.mark.e2e
def test_error_lines_from_other_code_are_counted_once(tmp_path: Path) -> None:
    """robots.txt cut short (no retry): Scrapy logs "Gave up retrying" and then "Error downloading" for
    the same failure; the report counts the second only, by its logger."""
    root = copy_site(tmp_path)
    meta = site_meta(root)
    meta.setdefault("faults", {})["/robots.txt"] = "truncate-once"  # the spider's own later fetch is whole
    write_site_meta(root, meta)
    server = start_server(root, tmp_path)
    try:
        result = crawl(server.base, tmp_path / "out.jsonl", "max_articles=2", settings={"RETRY_TIMES": "0"})
    finally:
        server.stop()
    errors = result.report["errors"]
    robots_lines = result.log.count("[scrapy.downloadermiddlewares.robotstxt] ERROR")
    assert robots_lines == 1
    assert "[scrapy.downloadermiddlewares.retry] ERROR: Gave up retrying" in result.log
    assert errors == {"log/scrapy.downloadermiddlewares.robotstxt": robots_lines}
    assert result.report["log_count"]["ERROR"] >= robots_lines


@pytest.mark.e2e
def test_report_is_written_when_the_output_cannot_be(tmp_path: Path, snapshot_server: Server) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    report_path = tmp_path / "reports" / "run.report.json"
    result = crawl(snapshot_server.base, blocker / "out.jsonl", "max_articles=2", server=snapshot_server,
                   settings={"ARABTODAY_REPORT_PATH": str(report_path), "ARABTODAY_STATE_DIR": str(tmp_path / "s")})
    assert result.returncode == ExitStatus.WRITE_FAILED, result.log[-3000:]
    assert result.requests == [], "found out before requesting anything"
    [line] = result.stderr.strip().splitlines()
    assert str(blocker / "out.jsonl") in line and "is a file, not a directory" in line, line
    report = json.loads(report_path.read_text("utf-8"))
    assert report["exit_status"]["code"] == ExitStatus.WRITE_FAILED
    assert report["errors"] == {"output": 1}, report["errors"]
    assert report["emitted"]["total"] == 0 and report["accounting"]["requested"] == 0
    assert report_path.with_suffix(".html").exists()
    assert sorted(p.name for p in report_path.parent.iterdir()) == ["run.report.html", "run.report.json"]
    assert result.report == {}  # nothing beside the unwritable output


@pytest.mark.e2e
def test_report_that_cannot_be_written_is_one_line_and_exit_status_4_before_any_request(
        tmp_path: Path, snapshot_server: Server) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    result = crawl(snapshot_server.base, tmp_path / "out.jsonl", "max_articles=2", server=snapshot_server,
                   settings={"ARABTODAY_REPORT_PATH": str(blocker / "run.report.json")})
    [line] = result.stderr.strip().splitlines()
    assert "cannot write the report" in line and str(blocker / "run.report.json") in line, line
    assert result.returncode == ExitStatus.WRITE_FAILED
    assert result.requests == [], "found out before requesting anything"
    assert not result.records
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == []


@pytest.mark.e2e
def test_report_is_written_when_the_run_is_interrupted(tmp_path: Path, snapshot_server: Server) -> None:
    out = tmp_path / "out.jsonl"
    slow = {**FAST, "DOWNLOAD_DELAY": "0.3", "CONCURRENT_REQUESTS": "1", "LOG_LEVEL": "DEBUG",
            "ARABTODAY_STATE_DIR": str(tmp_path / "s")}  # DEBUG: the "Crawled" lines tell how far it got
    cmd = crawl_command(snapshot_server.base, out, settings=slow)
    log = tmp_path / "crawl.log"
    with log.open("w") as fh:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while log.read_text("utf-8", "replace").count("Crawled (200)") < MID_RUN_PAGES:
        assert proc.poll() is None and time.monotonic() < deadline, log.read_text("utf-8", "replace")[-2000:]
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    assert proc.returncode == ExitStatus.INTERRUPTED_INT
    report = json.loads(out.with_name(out.name + ".report.json").read_text("utf-8"))
    assert report["finish_reason"] == "shutdown"
    assert report["exit_status"]["code"] == ExitStatus.INTERRUPTED_INT
    acc = report["accounting"]
    assert acc["difference"] == 0 and acc["requested"] == acc["sum"]  # what was in flight is "unfinished"
    assert report["emitted"]["total"] >= 1
    assert out.with_name(out.name + ".report.html").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
