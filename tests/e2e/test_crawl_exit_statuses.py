"""A failed run never looks like a success (issue 8, ``docs/CONTRACTS.md``): a bad configuration
(2) or state (7) stops the crawl before any request, an unreachable site exits 6 quickly, an
unwritable output 4 with its report, a second run on a state in use 7, SIGTERM 143 with whole
output and report; records to stdout need no seek. The crawl core's acceptance tests."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import (
    Server,
    article_requests,
    assert_accounted,
    assert_emitted_once,
    assert_exit,
    copy_site,
    crawl,
    finish_crawl,
    free_port,
    originals,
    read_jsonl,
    serving,
    start_crawl,
    wait_until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.acceptance]
SLOW_ARTICLE_SECONDS = 1.5
GARBAGE = b"\x00\xffnot a database\x13\x37" * 512
SQLITE_MAGIC = b"SQLite format 3\x00"
UNREACHABLE_SECONDS = 60


@pytest.mark.parametrize(("setting", "value", "status"), [
    ("ARABTODAY_NEAR_DUP_THRESHOLD", "2", 2),
    ("ARABTODAY_INCREMENTAL", "maybe", 2),
    ("ARABTODAY_STAET_DIR", "x", 2),  # misspelled ARABTODAY_STATE_DIR
    ("ARABTODAY_STATE_DIR", "<a file>", 7),
])
def test_bad_configuration_stops_before_any_request(snapshot_server: Server, tmp_path: Path, setting: str,
                                                    value: str, status: int) -> None:
    if value == "<a file>":
        blocker = tmp_path / "not-a-directory"
        blocker.write_text("a file where the state directory should be\n")
        value = str(blocker)
    result = crawl(snapshot_server.base, tmp_path / "out.jsonl", settings={setting: value}, server=snapshot_server,
                   timeout=120)
    assert result.returncode == status, f"exit {result.returncode}, want {status}:\n{result.tail()}"
    assert result.requests == [], "nothing may be requested with a bad configuration"
    assert "Traceback" not in result.log, result.tail()
    naming = [line for line in result.stderr.splitlines() if setting in line]
    assert naming, f"no line of stderr names {setting}:\n{result.stderr[-2000:]}"


@pytest.mark.parametrize("base", ["http://127.0.0.1:{closed}", "http://arabtoday.invalid"])
def test_unreachable_site_exits_6_quickly(tmp_path: Path, base: str) -> None:
    closed = free_port()  # nothing listens there
    result = crawl(base.format(closed=closed), tmp_path / "out.jsonl", timeout=UNREACHABLE_SECONDS * 2)
    assert result.seconds < UNREACHABLE_SECONDS, f"took {result.seconds:.1f} s"
    assert result.records == []
    assert_exit(result, 6)
    assert assert_accounted(result)["requested"] == 0


def test_stdout_output_yields_records_and_no_seek_error(snapshot_server: Server, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    result = crawl(snapshot_server.base, tmp_path / "unused.jsonl", "lang=ar", outputs=["-o", "-:jsonl"],
                   report=report)
    assert "Illegal seek" not in result.log, result.tail()
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert {r["id"] for r in records} == {k for k in originals(snapshot_server.base) if k.startswith("ar-")}
    assert_emitted_once(records)
    assert_exit(result, 0)


def test_output_not_writable_exits_4_with_report(snapshot_server: Server, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    result = crawl(snapshot_server.base, tmp_path / "unused.jsonl", "lang=ar", outputs=["-O", "/dev/full:jsonl"],
                   report=report)
    assert report.exists(), "the report is written even when the output is not"
    assert result.stats.get("arabtoday/errors/output", 0) >= 1, result.stats
    assert "Traceback" not in result.log, result.tail()
    assert_exit(result, 4)
    accounting = assert_accounted(result)  # every article out or counted: none reached the output
    assert accounting["emitted"] == 0 and accounting["failed"].get("not_written", 0) >= 1, accounting


def garble_sqlite_files(directory: Path) -> list[Path]:
    """Overwrite every SQLite database under ``directory`` with garbage bytes (same size or more)."""
    garbled = []
    for path in directory.rglob("*"):
        if path.is_file() and path.read_bytes()[:len(SQLITE_MAGIC)] == SQLITE_MAGIC:
            path.write_bytes(GARBAGE)
            garbled.append(path)
    return garbled


def test_corrupt_state_exits_7_with_one_clear_line(snapshot_server: Server, tmp_path: Path) -> None:
    state = {"ARABTODAY_STATE_DIR": str(tmp_path / "state")}
    first = crawl(snapshot_server.base, tmp_path / "run1.jsonl", "lang=ar", settings=state)
    assert first.returncode == 0, first.tail()
    assert garble_sqlite_files(tmp_path / "state"), "the first run left no SQLite state to corrupt"
    second = crawl(snapshot_server.base, tmp_path / "run2.jsonl", "lang=ar", settings=state,
                   server=snapshot_server)
    assert "Traceback" not in second.log, second.tail()
    assert [line for line in second.stderr.splitlines() if "state" in line.lower()], second.stderr[-2000:]
    assert article_requests(second.requests) == []
    assert_exit(second, 7)
    assert assert_accounted(second)["requested"] == 0


@pytest.fixture(scope="module")
def slow_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The snapshot with every article page answering after a delay: crawls that last."""
    workdir = tmp_path_factory.mktemp("slow-site")
    root = copy_site(workdir)
    with serving(root, workdir, {"faults": {"/*/*/[0-9]*": f"slow:{SLOW_ARTICLE_SECONDS}"}}) as server:
        yield server


# both: against a slow first byte, Scrapy 2.19 lets more than CONCURRENT_REQUESTS_PER_DOMAIN run at once
SLOW_SETTINGS = {"CONCURRENT_REQUESTS": "2", "CONCURRENT_REQUESTS_PER_DOMAIN": "2"}


def wait_for_article_requests(server: Server, before: int, count: int, proc) -> None:
    wait_until(lambda: len(article_requests(server.requests()[before:])) >= count, proc,
               f"a crawl reaching {count} article requests", timeout=60)


def test_second_run_on_the_same_state_refuses_to_start(slow_site: Server, tmp_path: Path) -> None:
    settings = {**SLOW_SETTINGS, "ARABTODAY_STATE_DIR": str(tmp_path / "state")}
    before = len(slow_site.requests())
    started = time.monotonic()
    first = start_crawl(slow_site.base, tmp_path / "run1.jsonl", "lang=ar", settings=settings)
    wait_for_article_requests(slow_site, before, 1, first)
    second = crawl(slow_site.base, tmp_path / "run2.jsonl", "lang=ar", settings=settings, timeout=60)
    still_running = first.poll() is None
    first_result = finish_crawl(first, tmp_path / "run1.jsonl", timeout=120, started=started)
    assert second.returncode == 7, f"exit {second.returncode}:\n{second.tail()}"
    assert "Traceback" not in second.log, second.tail()
    assert second.records == []
    assert still_running, "the first run should still have been crawling (the site is slow)"
    assert first_result.returncode == 0, first_result.tail()
    assert len(first_result.records) == 8


def test_sigterm_exits_143_with_whole_output_and_report(slow_site: Server, tmp_path: Path) -> None:
    settings = {**SLOW_SETTINGS, "ARABTODAY_STATE_DIR": str(tmp_path / "state")}
    output = tmp_path / "out.jsonl"
    before = len(slow_site.requests())
    started = time.monotonic()
    proc = start_crawl(slow_site.base, output, "lang=en", settings=settings)
    wait_for_article_requests(slow_site, before, 4, proc)
    proc.send_signal(signal.SIGTERM)
    result = finish_crawl(proc, output, timeout=90, started=started)
    assert result.returncode == 143, f"exit {result.returncode}:\n{result.tail()}"
    assert output.exists(), "the output file is whole, even if empty"
    assert len(result.records) < len({k for k in originals(slow_site.base) if k.startswith("en-")})
    assert_emitted_once(read_jsonl(output))
    assert result.report, "the report is written on SIGTERM"
    assert_accounted(result)
    assert_exit(result, 143)
