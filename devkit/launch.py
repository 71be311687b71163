"""The one way code starts a crawl: as a ``scrapy crawl arabtoday`` command line, or in this process.

``make demo``, the tests and the benchmarks all start crawls through here, so
that a crawl is spelled once. :func:`crawl_command` builds the command line
(for a subprocess: what users run, with its signals, stdout, stderr and exit
status). :func:`crawl_in_process` runs the same crawl with Scrapy's own
``CrawlerRunner`` in the calling process, without paying a Python start-up
and Scrapy's imports per crawl: the same settings (the project's, then the
``-s`` values, then ``-O``'s feed through Scrapy's own
``feed_process_params_from_cli``), the same checks before the start and the
same exit status as the command (:mod:`arabtoday.commands.crawl`). What only a
process has (signal handling, the environment, a crash, what is printed
outside the log) is tested through the command line.

``NO_POLITENESS`` turns off only the delays that exist to spare the live site
(``DOWNLOAD_DELAY``, AutoThrottle); retries, backoff and timeouts stay on,
shortened, because a crawl of a local copy must behave like the real one.
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

NO_POLITENESS = {
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "ARABTODAY_RETRY_BACKOFF_BASE": "0.2",  # shortened, never zero: backoff is behaviour under test
}
SPIDER = "arabtoday"
ASYNCIO_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
STOP_GRACE_SECONDS = 60  # after a timeout: how long a stopped crawl may take to close its feeds and report
STOP_RETRY_SECONDS = 0.1  # a crawl asked to stop while still starting is asked again this often


def crawl_command(base_url: str, output: Path | None = None, *spider_args: str,
                  settings: Mapping[str, object] | None = None, overwrite: bool = True,
                  outputs: Sequence[str] = (), python: str = sys.executable) -> list[str]:
    """``python -m scrapy crawl arabtoday -a base_url=… [-O output] -a … -s … [outputs]``.

    ``outputs``: more ``-o URI`` / ``-O URI`` options, as written on a command line."""
    cmd = [python, "-m", "scrapy", "crawl", SPIDER, "-a", f"base_url={base_url}"]
    for arg in spider_args:
        cmd += ["-a", arg]
    for name, value in (settings or {}).items():
        cmd += ["-s", f"{name}={value}"]
    return cmd + _output_options(output, overwrite, outputs)


def crawl_settings(output: Path | None = None, settings: Mapping[str, object] | None = None,
                   overwrite: bool = True, outputs: Sequence[str] = ()) -> Any:
    """The settings :func:`crawl_command` with the same arguments runs with."""
    from scrapy.settings import Settings
    from scrapy.utils.conf import feed_process_params_from_cli

    from arabtoday.commands.crawl import use_default_feed

    values = Settings()
    values.setmodule("arabtoday.settings", priority="project")
    values.setdict(dict(settings or {}), priority="cmdline")
    options = _output_options(output, overwrite, outputs)
    appended = [uri for flag, uri in zip(options[::2], options[1::2], strict=True) if flag == "-o"]
    replaced = [uri for flag, uri in zip(options[::2], options[1::2], strict=True) if flag == "-O"]
    if options:
        values.set("FEEDS", feed_process_params_from_cli(values, appended, overwrite_output=replaced),
                   priority="cmdline")
    use_default_feed(values)
    return values


def _output_options(output: Path | None, overwrite: bool, outputs: Sequence[str]) -> list[str]:
    options = ["-O" if overwrite else "-o", str(output)] if output is not None else []
    options += list(outputs)
    if len(options) % 2 or any(flag not in ("-o", "-O") for flag in options[::2]):
        raise ValueError(f"outputs are pairs of -o/-O and a URI, not {list(outputs)}")
    return options


@dataclass
class Finished:
    """How an in-process crawl ended: what the command would have exited with and printed."""

    status: int
    stats: dict[str, Any] = field(default_factory=dict)
    complaints: list[str] = field(default_factory=list)  # the command's ``arabtoday: …`` lines on stderr
    log: str = ""
    timed_out: bool = False

    @property
    def stderr(self) -> str:
        """What the command would have printed on stderr: its complaints, a line each."""
        return "".join(line + "\n" for line in self.complaints)


def crawl_in_process(base_url: str, output: Path | None = None, *spider_args: str,
                     settings: Mapping[str, object] | None = None, overwrite: bool = True,
                     outputs: Sequence[str] = (), timeout: float | None = None) -> Finished:
    """The crawl of :func:`crawl_command`, run in this process; returns when it has ended.

    ``timeout``: after that many seconds the crawl is stopped as Ctrl-C would stop it (feeds
    closed, report written, status 130) and ``timed_out`` is set."""
    from scrapy.utils.conf import arglist_to_dict

    from arabtoday.commands.crawl import complaint, final_status, preflight, start_failure, stop_on_signal
    from arabtoday.config import BadSetting
    from arabtoday.exitstatus import ExitStatus, StartError
    from arabtoday.params import BadArgument
    from arabtoday.run.reporter import report_start_failure
    from arabtoday.run.stopping import running_engine

    values = crawl_settings(output, settings, overwrite, outputs)
    spider_kwargs = {"base_url": base_url, **arglist_to_dict(list(spider_args))}
    try:
        preflight(values, SPIDER, spider_kwargs)
    except (BadSetting, BadArgument, StartError) as exc:
        status = getattr(exc, "status", ExitStatus.BAD_CONFIG)
        report_start_failure(values, spider_kwargs, str(exc), status)
        return Finished(int(status), complaints=[complaint(f"could not start: {exc}")])
    reactor = _ReactorThread.running()
    ended: queue.Queue[Any] = queue.Queue()
    started: dict[str, Any] = {}

    stopping: list[bool] = []

    def stop() -> None:  # in the reactor's thread, after start(): as Ctrl-C stops a crawl
        from scrapy.utils.defer import deferred_from_coro

        crawler = started["crawler"]
        engine = running_engine(crawler)  # None until the crawl starts
        if engine is not None and engine.running and not stopping:
            stopping.append(True)
            stop_on_signal(crawler, ExitStatus.INTERRUPTED_INT)
        if engine is not None and engine.running:
            deferred_from_coro(crawler.stop_async())
        elif crawler.crawling:
            # still starting: Crawler.stop_async would only mark the crawler stopped and leave the engine,
            # once it runs, without anyone to stop it (the crawl would never end): ask again shortly
            reactor.callLater(STOP_RETRY_SECONDS, stop)

    def start() -> None:  # in the reactor's thread
        from scrapy.crawler import CrawlerRunner
        from twisted.python.failure import Failure

        try:
            runner = CrawlerRunner(values)
            crawler = started["crawler"] = runner.create_crawler(SPIDER)
            runner.crawl(crawler, **spider_kwargs).addBoth(ended.put)
        except Exception:  # noqa: BLE001 (not swallowed: handed over and reported as a start failure)
            ended.put(Failure())

    with _LogCapture(values) as log:
        reactor.callFromThread(start)
        timed_out = False
        try:
            result = ended.get(timeout=timeout)
        except queue.Empty:
            timed_out = True
            reactor.callFromThread(stop)
            try:
                result = ended.get(timeout=STOP_GRACE_SECONDS)
            except queue.Empty:
                raise TimeoutError(f"the crawl did not stop within {STOP_GRACE_SECONDS} s of being asked to; "
                                   "log tail:\n" + log.text()[-3000:]) from None
    crawler = started.get("crawler")
    _drop_log_counter(crawler)
    if result is not None or crawler is None:  # a Failure: the crawl could not start
        message, status = start_failure(result)
        report_start_failure(values, spider_kwargs, message, status)
        return Finished(int(status), complaints=[complaint(message)], log=log.text())
    stats = crawler.stats.get_stats() if crawler.stats else {}
    status, ended_early = final_status(stats)
    return Finished(int(status), dict(stats), [complaint(ended_early)] if ended_early else [], log.text(), timed_out)


class _ReactorThread:
    """The process's one Twisted reactor (asyncio, as ``scrapy crawl`` installs it), running in a
    daemon thread: a reactor cannot be restarted, so every in-process crawl is handed to it."""

    _lock = threading.Lock()
    _reactor: Any = None

    @classmethod
    def running(cls) -> Any:
        with cls._lock:
            if cls._reactor is None:
                from scrapy.utils.log import configure_logging
                from scrapy.utils.reactor import install_reactor, is_reactor_installed

                if not is_reactor_installed():
                    install_reactor(ASYNCIO_REACTOR)
                from twisted.internet import reactor

                # as scrapy crawl does: Twisted's and Python's warnings through logging, Scrapy's loggers
                # at DEBUG (the root handler, which only the command installs, filters by LOG_LEVEL)
                configure_logging({"LOG_INSTALL_ROOT_HANDLER": False})
                threading.Thread(target=reactor.run, kwargs={"installSignalHandlers": False},
                                 name="twisted-reactor", daemon=True).start()
                cls._reactor = reactor
            return cls._reactor


class _LogCapture(logging.Handler):
    """The crawl's log, formatted and filtered as the command's root handler would write it."""

    def __init__(self, settings: Any) -> None:
        enabled = settings.getbool("LOG_ENABLED")
        super().__init__(level=settings.get("LOG_LEVEL") if enabled else logging.CRITICAL + 1)
        self.setFormatter(logging.Formatter(settings.get("LOG_FORMAT"), settings.get("LOG_DATEFORMAT")))
        self.lines: list[str] = []
        self._root_level = logging.NOTSET

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def text(self) -> str:
        return "\n".join(self.lines) + ("\n" if self.lines else "")

    def __enter__(self) -> _LogCapture:
        root = logging.getLogger()
        self._root_level = root.level
        root.setLevel(logging.NOTSET)  # as the command's root handler does: the handlers filter
        root.addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        root = logging.getLogger()
        root.removeHandler(self)
        root.setLevel(self._root_level)


def _drop_log_counter(crawler: Any) -> None:
    """Scrapy removes a crawler's ``log_count/*`` handler when its engine stops; a crawl that never
    started leaves it on the root logger, where it would count every later crawl's lines."""
    from scrapy.utils.log import LogCounterHandler

    for handler in list(logging.getLogger().handlers):
        if isinstance(handler, LogCounterHandler) and handler.crawler is crawler:
            logging.getLogger().removeHandler(handler)
