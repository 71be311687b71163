"""Progress: the numbers of a line from hand-made stats (pure), and real crawls
of the snapshot: log lines at the cadence set, a live bar on a terminal (a
real pseudo-terminal), none when stderr is a pipe or under CI."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import re
import struct
import subprocess
import termios
import threading
from pathlib import Path

import pytest

from arabtoday.run.progress import RateMeter, Snapshot, bar_wanted, eta_seconds, format_line, snapshot
from conftest import FAST, ROOT, Server, crawl
from devkit.launch import crawl_command

LINE = re.compile(r"\[arabtoday\.run\.progress\] INFO: progress: (?P<done>[\d,]+)(?:/(?P<total>[\d,]+))? articles done"
                  r".*?fetched (?P<fetched>[\d,]+) pages")
BAR = re.compile(r"articles: .*articles")  # tqdm's meter: "articles: 12 articles [00:01, ...]" or with a percentage
CADENCE = 0.4  # seconds between lines in the crawl tests
TERMINAL_SIZE = (40, 120)  # rows, columns
SLOW = {"DOWNLOAD_DELAY": "0.05", "CONCURRENT_REQUESTS": "1"}  # a run of a few seconds: several lines


def test_snapshot_counts_the_buckets_against_discovery() -> None:
    stats = {"arabtoday/discovery/total": 200, "response_received_count": 90,
             "arabtoday/articles/emitted": 40, "arabtoday/articles/skipped/unchanged": 5,
             "arabtoday/articles/duplicate/exact": 2, "arabtoday/articles/dropped/out_of_window": 3,
             "arabtoday/articles/failed/http_500": 1, "arabtoday/articles/failed/timeout": 1,
             "arabtoday/articles/unfinished/shutdown": 7,  # not done: still queued when the run closed
             "arabtoday/errors/source/timeout": 4}
    snap = snapshot(stats)
    assert snap == Snapshot(discovered=200, fetched=90, emitted=40, failed=2, done=52)
    assert snap.total == 200


def test_rate_and_eta() -> None:
    meter = RateMeter(samples=3)
    assert meter.per_second() is None
    for when, done in ((0.0, 0), (10.0, 10), (20.0, 40), (30.0, 70)):  # the first sample falls out of the window
        meter.add(when, done)
    assert meter.per_second() == pytest.approx(3.0)  # (70 - 10) / (30 - 10)
    snap = Snapshot(discovered=370, fetched=100, emitted=70, failed=0, done=70)
    assert eta_seconds(snap, meter.per_second()) == pytest.approx(100.0)
    assert eta_seconds(snap, 0.0) is None
    assert eta_seconds(Snapshot(0, 5, 0, 0, 0), 3.0) is None  # no total known yet
    done = Snapshot(discovered=10, fetched=12, emitted=12, failed=0, done=12)  # more done than discovered
    assert done.total == 12 and eta_seconds(done, 1.0) == 0


def test_line_says_done_total_rate_and_eta() -> None:
    snap = Snapshot(discovered=5000, fetched=1390, emitted=1150, failed=3, done=1204)
    line = format_line(snap, 310 / 60, 735.0)
    assert line == ("progress: 1,204/5,000 articles done (24.1%); discovered 5,000, fetched 1,390 pages, "
                    "emitted 1,150, failed 3; 310.0 articles/min; ETA 12:15")
    early = format_line(Snapshot(0, 4, 0, 0, 0), None, None)
    assert "total not known yet" in early and "rate not known yet" in early and "ETA unknown" in early


def test_bar_only_on_a_terminal_that_gets_the_log_and_not_in_ci() -> None:
    assert not bar_wanted(io.StringIO(), {})  # not a TTY
    master, slave = pty.openpty()
    try:
        with os.fdopen(slave, "w", closefd=False) as tty:
            assert not bar_wanted(tty, {})  # a TTY, but no log handler writes to it
    finally:
        os.close(master)
        os.close(slave)


# -- real crawls ------------------------------------------------------------------------------------------------------


@pytest.mark.e2e
def test_progress_lines_at_the_cadence_set(snapshot_server: Server, tmp_path: Path) -> None:
    result = crawl(snapshot_server.base, tmp_path / "out.jsonl",
                   settings={**SLOW, "ARABTODAY_PROGRESS_SECONDS": str(CADENCE)})
    assert result.returncode == 0, result.log[-2000:]
    lines = [m for m in map(LINE.search, result.log.splitlines()) if m]
    duration = result.report["duration_seconds"]
    expected = duration / CADENCE
    assert 3 <= len(lines) <= expected + 2, (len(lines), duration)
    assert len(lines) >= expected * 0.5, (len(lines), duration)
    fetched = [int(m["fetched"].replace(",", "")) for m in lines]
    assert fetched == sorted(fetched)
    assert fetched[-1] == result.report["pages_fetched"]  # the last line is written at close
    done = [int(m["done"].replace(",", "")) for m in lines]
    assert done == sorted(done)
    acc = result.report["accounting"]
    settled = acc["sum"] - sum(acc["unfinished"].values())
    assert done[-1] == settled == acc["requested"]  # a finished run: every article page reached is done
    assert lines[-1]["total"] is not None and int(lines[-1]["total"].replace(",", "")) == acc["requested"]
    assert re.search(r"articles/min; ETA \d+:\d\d", result.log)  # once a rate is known, a time left
    assert "\r" not in result.log and not BAR.search(result.log)  # stderr is a pipe: no bar


@pytest.mark.e2e
def test_progress_off_when_the_setting_is_zero(snapshot_server: Server, tmp_path: Path) -> None:
    result = crawl(snapshot_server.base, tmp_path / "out.jsonl", "max_articles=2",
                   settings={"ARABTODAY_PROGRESS_SECONDS": "0"})
    assert result.returncode == 0
    assert not any(map(LINE.search, result.log.splitlines()))


def crawl_on_a_terminal(base: str, output: Path, env: dict[str, str]) -> str:
    """``scrapy crawl`` with stdout and stderr on a pseudo-terminal, as a person at a terminal runs it."""
    settings = {**FAST, **SLOW, "ARABTODAY_PROGRESS_SECONDS": "1", "ARABTODAY_STATE_DIR": str(output.parent / "s")}
    cmd = crawl_command(base, output, settings=settings)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", *TERMINAL_SIZE, 0, 0))  # a new pty is 0x0
    proc = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    chunks: list[bytes] = []

    def read() -> None:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the terminal's other side closed
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        proc.wait(timeout=300)
    finally:
        reader.join(timeout=10)
        os.close(master)
    assert proc.returncode == 0, b"".join(chunks)[-2000:]
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.e2e
def test_live_bar_on_a_terminal_with_log_lines_kept_whole(snapshot_server: Server, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    screen = crawl_on_a_terminal(snapshot_server.base, tmp_path / "out.jsonl", env)
    assert BAR.search(screen), screen[-2000:]
    assert "\r" in screen  # redrawn in place
    # each log line still starts on its own line: the bar is cleared before it is written
    for line in re.split(r"[\r\n]+", screen):
        if "[arabtoday.run.progress] INFO" in line:
            assert re.match(r"\s*\d{4}-\d{2}-\d{2} ", line), line


@pytest.mark.e2e
def test_no_bar_under_ci_even_on_a_terminal(snapshot_server: Server, tmp_path: Path) -> None:
    screen = crawl_on_a_terminal(snapshot_server.base, tmp_path / "out.jsonl", {**os.environ, "CI": "true"})
    assert LINE.search(screen)
    assert not BAR.search(screen)
