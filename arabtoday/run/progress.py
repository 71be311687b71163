"""Progress during a crawl, for a person watching it.

Every ``ARABTODAY_PROGRESS_SECONDS`` (default 30; 0 turns it off) one INFO
line says how many article pages are done against the total known from the
sitemaps and feeds, what was discovered, fetched, emitted and failed, the
rate and the ETA::

    progress: 1,204/5,000 articles done (24.1%); discovered 5,000, fetched 1,390 pages, emitted 1,150,
    failed 3; 310.0 articles/min; ETA 12:15

When stderr is an interactive terminal and the log goes there (no
``LOG_FILE``, not under CI) a live bar (tqdm) is drawn below the log as well;
log lines are written above it so the two never tear each other.

"Done" is the sum of the accounting buckets (:mod:`arabtoday.run.ledger`): emitted,
skipped, duplicate, dropped and failed. The total is
``arabtoday/discovery/total``; it grows while discovery goes on, so the ETA
is against what is known so far.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TextIO

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import create_looping_call
from tqdm import tqdm

from arabtoday.stats import SETTLED_BUCKETS, Bucket, Stat, bucket_total

logger = logging.getLogger(__name__)

SETTING = "ARABTODAY_PROGRESS_SECONDS"
FETCHED = "response_received_count"
BAR_REFRESH_SECONDS = 1.0  # a bar that moves less often looks stuck
RATE_SAMPLES = 10  # the rate is measured over the last this many samples: recent, but not jumpy
SECONDS_PER_MINUTE = 60.0


@dataclass(frozen=True)
class Snapshot:
    """Where the crawl stands, read from its stats."""

    discovered: int
    fetched: int
    emitted: int
    failed: int
    done: int

    @property
    def total(self) -> int:
        """The ETA's total: discovery's count, never less than what is already done."""
        return max(self.discovered, self.done)


def snapshot(stats: Mapping[str, Any]) -> Snapshot:
    """The numbers of one progress line (pure: tested with hand-made stats)."""
    settled = {bucket: bucket_total(stats, bucket) for bucket in SETTLED_BUCKETS}
    return Snapshot(discovered=int(stats.get(Stat.DISCOVERY_TOTAL, 0)), fetched=int(stats.get(FETCHED, 0)),
                    emitted=settled[Bucket.EMITTED], failed=settled[Bucket.FAILED], done=sum(settled.values()))


class RateMeter:
    """Articles done per second over the last few samples (a crawl's pace changes: discovery first)."""

    def __init__(self, samples: int = RATE_SAMPLES) -> None:
        self.samples: deque[tuple[float, int]] = deque(maxlen=samples)

    def add(self, when: float, done: int) -> None:
        self.samples.append((when, done))

    def per_second(self) -> float | None:
        if len(self.samples) < 2:
            return None
        (t0, d0), (t1, d1) = self.samples[0], self.samples[-1]
        return (d1 - d0) / (t1 - t0) if t1 > t0 else None


def eta_seconds(snap: Snapshot, rate: float | None) -> float | None:
    """Seconds left at ``rate``; None when it cannot be told (no total yet, or no progress)."""
    if not snap.discovered or not rate or rate <= 0:
        return None
    return max(snap.total - snap.done, 0) / rate


def format_line(snap: Snapshot, rate: float | None, eta: float | None) -> str:
    """One progress line: done/total, the counts, rate and ETA."""
    if snap.discovered:
        head = f"{snap.done:,}/{snap.total:,} articles done ({100 * snap.done / snap.total:.1f}%)"
    else:
        head = f"{snap.done:,} articles done (total not known yet)"
    pace = f"{rate * SECONDS_PER_MINUTE:,.1f} articles/min" if rate is not None else "rate not known yet"
    left = f"ETA {tqdm.format_interval(eta)}" if eta is not None else "ETA unknown"
    return (f"progress: {head}; discovered {snap.discovered:,}, fetched {snap.fetched:,} pages, "
            f"emitted {snap.emitted:,}, failed {snap.failed:,}; {pace}; {left}")


def console_handler(stream: TextIO) -> logging.StreamHandler[Any] | None:
    """The root logger's handler writing to ``stream`` (where Scrapy sends the log without LOG_FILE)."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and getattr(handler, "stream", None) is stream:
            return handler
    return None


def bar_wanted(stream: TextIO, environ: Mapping[str, str]) -> bool:
    """A bar only for a person at a terminal: stderr a TTY, the log going there, not CI."""
    if environ.get("CI"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and console_handler(stream) is not None


class _AboveTheBar:
    """A stream for the log handler: each write clears the bar, writes, and redraws it (tqdm.write)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> None:
        tqdm.write(text, file=self.stream, end="")

    def flush(self) -> None:
        self.stream.flush()


class Progress:
    """The extension: a log line at a steady cadence, and a live bar on a terminal."""

    def __init__(self, crawler: Crawler, interval: float, stream: TextIO, show_bar: bool,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.crawler = crawler
        self.interval = interval
        self.stream = stream
        self.show_bar = show_bar
        self.clock = clock
        self.rate = RateMeter()
        self.tasks: list[Any] = []
        self.bar: tqdm | None = None
        self.handler: logging.StreamHandler[Any] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        interval = crawler.settings.getfloat(SETTING)
        if interval <= 0:
            raise NotConfigured(f"{SETTING} is {interval}: no progress line")
        ext = cls(crawler, interval, sys.stderr, bar_wanted(sys.stderr, os.environ))
        logger.debug("progress every %s s; live bar: %s", interval, "yes" if ext.show_bar else
                     "no (stderr is not a terminal that gets the log, or CI is set)")
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def current(self) -> Snapshot:
        snap = snapshot(self.crawler.stats.get_stats())
        self.rate.add(self.clock(), snap.done)
        return snap

    def spider_opened(self) -> None:
        self.current()  # the rate's first sample
        self._every(self.interval, self.log_line)
        if self.show_bar:
            self._open_bar()
            self._every(BAR_REFRESH_SECONDS, self.refresh_bar)

    def _every(self, seconds: float, func: Callable[[], None]) -> None:
        task = create_looping_call(func)
        task.start(seconds, now=False)
        self.tasks.append(task)

    def log_line(self) -> None:
        snap = self.current()
        rate = self.rate.per_second()
        logger.info(format_line(snap, rate, eta_seconds(snap, rate)))

    def _open_bar(self) -> None:
        self.bar = tqdm(total=None, unit=" articles", file=self.stream, dynamic_ncols=True, leave=False,
                        desc="articles")
        self.handler = console_handler(self.stream)
        if self.handler is not None:
            self.handler.setStream(_AboveTheBar(self.stream))  # type: ignore[arg-type]

    def refresh_bar(self) -> None:
        if self.bar is None:
            return
        snap = snapshot(self.crawler.stats.get_stats())
        self.bar.total = snap.total or None
        self.bar.set_postfix_str(f"fetched {snap.fetched:,} pages, emitted {snap.emitted:,}, failed {snap.failed:,}",
                                 refresh=False)
        self.bar.update(snap.done - self.bar.n)  # through update(), so that tqdm measures the rate
        self.bar.refresh()

    def spider_closed(self) -> None:
        for task in self.tasks:
            if task.running:
                task.stop()
        self.tasks.clear()
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if self.handler is not None:
            self.handler.setStream(self.stream)
            self.handler = None
        self.log_line()  # the last word, also for runs shorter than one interval
