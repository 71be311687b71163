"""Progress (``arabtoday.run.progress``): the numbers of a line from hand-made stats, the rate, the
time left, and when a live bar is wanted."""

from __future__ import annotations

import io
import os
import pty

import pytest

from arabtoday.run.progress import RateMeter, Snapshot, bar_wanted, eta_seconds, format_line, snapshot


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
