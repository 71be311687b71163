"""Stopping a run, early or on a signal, within seconds whatever the site does.

Every cause stops the run the same way. ``max_articles`` reached, the site
blocking the crawler, an output or the state that cannot be written, a lost
Redis: :func:`stop_run`. Ctrl-C (SIGINT) and SIGTERM (``docker stop``,
systemd): the crawl command's signal handler. Either first announces
``RUN_STOPPING``, so that nothing waits on what will not come:

- the frontier's paused sources and the ordering hold's waiting items let go;
- requests waiting for a place at the site (``PolitenessMiddleware``) and
  retries waiting out their backoff give up at once;
- downloads in flight are cancelled by :class:`StoppableHTTPHandler` (the
  project's HTTP download handler, ``DOWNLOAD_HANDLERS``): a site that answers
  slowly, or not at all, no longer decides when the run ends.

What was cut this way raises :class:`Interrupted`; the spider reports no
outcome for it, and the ledger counts every article still open as
``unfinished/<reason>``: the next run takes them up (the state never recorded
them). Then Scrapy closes the spider as usual: the feeds are flushed and the
report written. While it closes, :class:`StopWatch` says every few seconds what
it is still waiting for.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.asyncio import create_looping_call
from scrapy.utils.defer import deferred_from_coro

from arabtoday.signals import RUN_STOPPING

logger = logging.getLogger(__name__)
WATCH_SECONDS = 2.0  # while the run closes: how often it says what it still waits for


class Interrupted(IgnoreRequest):
    """A request cut short because the run is stopping (counted as unfinished, never as failed)."""


def stop_run(crawler: Any, reason: str) -> bool:
    """Close the spider with ``reason``; False when no spider is open (nothing to stop)."""
    engine = running_engine(crawler)
    if engine is None or engine.spider is None:
        return False
    crawler.signals.send_catch_log(signal=RUN_STOPPING, reason=reason)
    deferred_from_coro(engine.close_spider_async(reason=reason))
    return True


def running_engine(crawler: Any) -> Any:
    """The crawler's engine, or None before the crawl has started (Scrapy raises then)."""
    try:
        return crawler.engine
    except RuntimeError:
        return None


class Stopping:
    """Whether the run is stopping (``RUN_STOPPING`` was sent), as a flag and an awaitable event:
    each part that waits on the site keeps one."""

    def __init__(self, crawler: Crawler) -> None:
        self.event: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.stopped = False
        crawler.signals.connect(self.run_stopping, signal=RUN_STOPPING)

    def run_stopping(self, *args: Any, **kwargs: Any) -> None:
        self.set()

    def set(self) -> None:
        self.stopped = True
        if self.event is not None:
            self.event.set()

    async def wait(self, seconds: float | None = None) -> bool:
        """Wait up to ``seconds`` (forever: None); True when the run is stopping."""
        if self.stopped:
            return True
        loop = asyncio.get_running_loop()
        if self.event is None or self._loop is not loop:  # an event serves the loop it was first awaited in
            self.event, self._loop = asyncio.Event(), loop
        try:
            await asyncio.wait_for(self.event.wait(), seconds)
        except TimeoutError:  # the built-in one: what asyncio.wait_for raises
            return False
        return True


@functools.cache
def _stoppable_handler() -> type:
    """The handler class, built on first use: Scrapy's HTTP/1.1 handler imports its TLS stack (about 0.1 s),
    which commands that download nothing (``scrapy list``) should not pay for."""
    from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler

    class StoppableHTTPHandler(HTTP11DownloadHandler):
        """Scrapy's HTTP/1.1 download handler, whose downloads in flight are cancelled when the run stops."""

        def __init__(self, crawler: Crawler) -> None:
            super().__init__(crawler)
            self.stopping = Stopping(crawler)

        async def download_request(self, request: Request) -> Response:
            if self.stopping.stopped:
                raise Interrupted(f"not downloaded, the run is stopping: {request.url}")
            download = asyncio.ensure_future(super().download_request(request))
            stop = asyncio.ensure_future(self.stopping.wait())
            try:
                await asyncio.wait({download, stop}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stop.cancel()
            if download.done():
                return download.result()
            download.cancel()
            raise Interrupted(f"download cut short, the run is stopping: {request.url}")

    return StoppableHTTPHandler


def __getattr__(name: str) -> Any:
    """``StoppableHTTPHandler`` (named in the settings' DOWNLOAD_HANDLERS), loaded on first use."""
    if name == "StoppableHTTPHandler":
        return _stoppable_handler()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class StopWatch:
    """An extension: once the run stops, says every few seconds what the close still waits for."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.task: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StopWatch:
        ext = cls(crawler)
        crawler.signals.connect(ext.run_stopping, signal=RUN_STOPPING)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def run_stopping(self, reason: str = "shutdown") -> None:
        if self.task is None:
            self.task = create_looping_call(self.say)
            self.task.start(WATCH_SECONDS, now=False)

    def say(self) -> None:
        engine = running_engine(self.crawler)
        downloads = len(engine.downloader.active) if engine is not None else 0
        logger.info("stopping: waiting for %d request(s) in the downloader and the items in the pipelines to "
                    "finish; the feeds are then flushed and the report written", downloads)

    def spider_closed(self) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
