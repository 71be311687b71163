"""The run report written by real crawls of the snapshot served on loopback: a full run, ERROR
lines from other code, an output or a report that cannot be written, an interrupted run."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from arabtoday.exitstatus import ExitStatus
from conftest import FAST, ROOT, CrawlResult, Server, copy_site, crawl, site_meta, start_server, write_site_meta
from devkit.launch import crawl_command

MID_RUN_PAGES = 20  # of the snapshot's ~74: the interrupted run is well under way, far from done


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


@pytest.mark.e2e
def test_a_log_file_that_cannot_be_written_is_one_line_and_exit_status_4(tmp_path: Path,
                                                                         snapshot_server: Server) -> None:
    """Scrapy opens LOG_FILE while it builds the crawler: the check comes before, in the command."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    result = crawl(snapshot_server.base, tmp_path / "out.jsonl", server=snapshot_server, process=True,
                   settings={"LOG_FILE": str(blocker / "crawl.log")})
    assert result.returncode == ExitStatus.WRITE_FAILED
    [line] = result.stderr.strip().splitlines()
    assert f"cannot write the log {blocker / 'crawl.log'}" in line and "Traceback" not in result.stderr
    assert result.requests == []


COUNTED_LINES = ("emitted", "accounting", "sources", "not followed", "skipped", "duplicates", "dropped", "errors",
                 "history")  # the report's lines that do not depend on timing


@pytest.mark.parametrize("page", [ROOT / "README.md", ROOT / "docs" / "operations.md"])
def test_the_report_the_docs_show_is_what_a_crawl_of_the_copy_prints(full_crawl: CrawlResult, page: Path) -> None:
    """The README's first screen promises this block for a crawl of the bundled copy: its counted lines are
    the real crawl's (a trial found 'not followed 544' where the crawl said 405)."""
    from arabtoday.run.report import format_report

    text = page.read_text("utf-8")
    shown = text.split("arabtoday run report: exit 0", 1)[1].split("```", 1)[0].splitlines()
    printed = format_report(full_crawl.report).splitlines()

    def counted(lines: list[str]) -> list[str]:
        return [line.strip() for line in lines if line.strip().startswith(COUNTED_LINES)]

    assert counted(shown) and counted(shown) == counted(printed), (counted(shown), counted(printed))
