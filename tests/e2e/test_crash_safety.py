"""Kill the crawl with SIGKILL at several points, run again with the same state: across all output
files every article appears exactly once, no line is torn; a JOBDIR crawl pauses on Ctrl-C and resumes."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from arabtoday.export.resolve import Log
from conftest import FAST, ROOT, Server, crawl, expected_records, read_jsonl
from devkit.launch import crawl_command

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
KILL_AFTER_LINES = (1, 4, 7)  # records in this run's output when the process is killed

SLOW = {**FAST, "DOWNLOAD_DELAY": "0.05", "CONCURRENT_REQUESTS_PER_DOMAIN": "1", "DOWNLOAD_DELAY_JITTER": "0",
        "ARABTODAY_FSYNC_EVERY": "3"}


def lines_in(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def crawl_and_kill(base: str, output: Path, state: Path, after_lines: int) -> None:
    cmd = crawl_command(base, output, settings={"ARABTODAY_STATE_DIR": state, **SLOW})
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    try:
        while lines_in(output) < after_lines and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def test_kill_and_resume_loses_nothing_and_duplicates_nothing(snapshot_server: Server, tmp_path: Path) -> None:
    state = tmp_path / "state"
    outputs = []
    for n, after in enumerate(KILL_AFTER_LINES):
        out = tmp_path / f"killed-{n}.jsonl"
        crawl_and_kill(snapshot_server.base, out, state, after)
        outputs.append(out)
    final = crawl(snapshot_server.base, tmp_path / "final.jsonl", settings={"ARABTODAY_STATE_DIR": str(state)})
    assert final.returncode == 0, final.log[-2000:]
    outputs.append(final.output)
    killed_records = sum(lines_in(o) for o in outputs[:-1])
    assert killed_records >= 3, "the kills came too late to test anything"
    assert final.records, "the kills came too early: everything was done before the last run"

    written = [out for out in outputs if out.exists()]
    assert_history_whole(written, snapshot_server.base)


def assert_history_whole(outputs: list[Path], base: str) -> None:
    """Every line whole; no article's revision written twice; and the log resolves to every story of the
    site, each with its expected record (a copy that came first in one run is corrected by a later line)."""
    union = [line for out in outputs for line in read_jsonl(out)]  # raises on a torn or invalid line
    revisions = [(r["id"], r["revision"]) for r in union if r["status"] == "live"]
    twice = sorted({r for r in revisions if revisions.count(r) > 1})
    assert not twice, f"written twice: {twice}"
    expected = {k: v for k, v in expected_records(base).items() if not v["duplicate_of"]}
    stories = {row["id"]: row for row in Log(outputs).read().stories()}
    assert set(stories) == set(expected)
    for article_id, row in stories.items():
        assert row == {**row, **expected[article_id]}


def test_jobdir_pause_and_resume(snapshot_server: Server, tmp_path: Path) -> None:
    """Ctrl-C (SIGINT) pauses a JOBDIR crawl; the same command resumes it."""
    state, jobdir = tmp_path / "state", tmp_path / "job"
    first = tmp_path / "part1.jsonl"
    # slow enough that the interruption lands mid-crawl (with JOBDIR the whole frontier is queued at once)
    cmd = crawl_command(snapshot_server.base, None, settings={
        "ARABTODAY_STATE_DIR": state, "JOBDIR": jobdir, **SLOW, "DOWNLOAD_DELAY": "0.2", "CONCURRENT_REQUESTS": "2"})
    proc = subprocess.Popen([*cmd, "-O", str(first)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while lines_in(first) < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert b"shutting down gracefully" in err.lower() or b"Received SIGINT" in err
    assert proc.returncode == 130, "an interrupted run says so in its exit status"
    assert (jobdir / "requests.queue").exists(), "the paused job kept its queue"
    second = tmp_path / "part2.jsonl"
    resumed = subprocess.run([*cmd, "-O", str(second)], cwd=ROOT, capture_output=True, timeout=120, check=False)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert_history_whole([first, second], snapshot_server.base)
    assert read_jsonl(first) and read_jsonl(second)
