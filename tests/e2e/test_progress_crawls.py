"""Progress in real crawls of the snapshot: log lines at the cadence set, a live bar on a terminal
(a real pseudo-terminal), none when stderr is a pipe or under CI."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import termios
import threading
from pathlib import Path

import pytest

from conftest import FAST, ROOT, Server, crawl
from devkit.launch import crawl_command

LINE = re.compile(r"\[arabtoday\.run\.progress\] INFO: progress: (?P<done>[\d,]+)(?:/(?P<total>[\d,]+))? articles done"
                  r".*?fetched (?P<fetched>[\d,]+) pages")

BAR = re.compile(r"articles: .*articles")  # tqdm's meter: "articles: 12 articles [00:01, ...]" or with a percentage
CADENCE = 0.4  # seconds between lines in the crawl tests
TERMINAL_SIZE = (40, 120)  # rows, columns
SLOW = {"DOWNLOAD_DELAY": "0.05", "CONCURRENT_REQUESTS": "1"}  # a run of a few seconds: several lines


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
