"""``scrapy crawl arabtoday``: Scrapy's own command, made to tell a scheduler how it went.

Scrapy's ``crawl`` exits 0 whatever happened to the data. This one (the
project's, through ``COMMANDS_MODULE``) validates the spider's arguments and
the ``ARABTODAY_*`` settings before anything starts (one line and status 2 for
a bad one, no traceback), remembers which signal interrupted a run, and exits
with the status the run report decided (:mod:`arabtoday.exitstatus`): 0 only
when nothing was lost and everything was written.
"""

from __future__ import annotations

import functools
import logging
import signal
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

from scrapy import signals
from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError
from twisted.python.failure import Failure

from arabtoday.config import BadSetting, validate
from arabtoday.exitstatus import ExitStatus, StartError, mark
from arabtoday.files import PROBE_NAME, unwritable, writable
from arabtoday.params import BadArgument, CrawlParams
from arabtoday.signals import RUN_STOPPING
from arabtoday.stats import Stat

logger = logging.getLogger(__name__)


def report_start_failure(settings: Any, spider_args: Mapping[str, Any], message: str, status: ExitStatus) -> None:
    """The run report of a run that could not start (:func:`arabtoday.run.reporter.report_start_failure`);
    the report's modules are imported then, not by every ``scrapy`` command (``scrapy list`` loads this one)."""
    from arabtoday.run.reporter import report_start_failure as report

    report(settings, spider_args, message, status)


class Command(ScrapyCrawl):
    def short_desc(self) -> str:
        return "Run a spider of the project (exit status: see the README's table)"

    def process_options(self, args: list[str], opts: Any) -> None:
        """``-o``/``-O`` as Scrapy reads them; without either (and no ``FEEDS``), the default
        output file, one per run. Only ``crawl`` writes it: ``scrapy parse`` and ``scrapy check``
        leave nothing behind."""
        self._catch_early_signals()  # from here a Ctrl-C or SIGTERM is the run's status, never a traceback
        super().process_options(args, opts)
        use_default_feed(self.settings)
        if len(args) != 1:
            return  # run() says what is wrong with the command line
        # before Scrapy builds its crawler process (which logs its banner and opens LOG_FILE): a bad
        # argument or setting, or an output or log that cannot be written, is one line and its status
        spider_args = _spider_args(opts)
        try:
            preflight(self.settings, args[0], spider_args)
        except (BadSetting, BadArgument, StartError) as exc:
            status = getattr(exc, "status", ExitStatus.BAD_CONFIG)
            report_start_failure(self.settings, spider_args, str(exc), status)
            sys.stderr.write(complaint(f"could not start: {exc}") + "\n")
            sys.exit(int(status))

    def run(self, args: list[str], opts: Any) -> None:
        if len(args) != 1:
            raise UsageError("give exactly one spider name (arabtoday)")
        assert self.crawler_process is not None
        if self._interrupted is not None:  # a signal before anything started: nothing was requested
            message = "interrupted before the crawl started: nothing was requested or written"
            report_start_failure(self.crawler_process.settings, _spider_args(opts), message, self._interrupted)
            self._fail(message, self._interrupted)
            return
        crawler = self._create_crawler(args[0])
        started = self.crawler_process.crawl(crawler, **opts.spargs)
        failure: list[Failure] = []
        _on_failure(started, failure.append)  # a start-up error is reported below, in one line
        if failure:
            self._start_failed(failure[0])
            return
        from twisted.internet import reactor

        # right after Scrapy installs its own handlers at reactor start-up: remember the signal, then let
        # Scrapy shut down gracefully (feeds closed, report written). Scrapy adds its trigger in start(),
        # after this line, so ours is added once start-up begins, to run just after Scrapy's in the same
        # phase. Not a loop turn later (as before): the spider opened meanwhile, and a Ctrl-C then reached
        # Scrapy's handler alone, which ended the run unmarked (exit 0 with every article unfinished, or
        # exit 1 before the report)
        reactor.addSystemEventTrigger("before", "startup", reactor.addSystemEventTrigger, "after", "startup",
                                      self._watch_signals, crawler)
        self.crawler_process.start()
        if failure:
            self._start_failed(failure[0])
            return
        status, ended_early = final_status(crawler.stats.get_stats() if crawler.stats else {}, self._interrupted)
        if ended_early:
            self._fail(ended_early, status)
        self.exitcode = int(status)

    def _start_failed(self, failure: Failure) -> None:
        message, status = start_failure(failure)
        assert self.crawler_process is not None
        report_start_failure(self.crawler_process.settings, {}, message, status)
        self._fail(message, status)

    def _fail(self, message: str, status: ExitStatus) -> None:
        sys.stderr.write(complaint(message) + "\n")
        self.exitcode = int(status)

    _interrupted: ExitStatus | None = None
    STATUS_OF_SIGNAL: ClassVar[dict[int, ExitStatus]] = {
        signal.SIGINT: ExitStatus.INTERRUPTED_INT, signal.SIGTERM: ExitStatus.INTERRUPTED_TERM}

    def _catch_early_signals(self) -> None:
        """Until Scrapy installs its own handlers (at reactor start-up), a signal only records itself;
        :meth:`_watch_signals` then stops the crawl gracefully, so the report is still written."""
        for signum, status in self.STATUS_OF_SIGNAL.items():

            def early(num: int, frame: Any, status: ExitStatus = status) -> None:
                self._interrupted = self._interrupted or status

            signal.signal(signum, early)

    def _watch_signals(self, crawler: Any) -> None:
        if self._interrupted is not None:  # interrupted while starting: stop gracefully once the engine runs
            from scrapy.utils.defer import deferred_from_coro

            once_running(crawler, functools.partial(stop_on_signal, crawler, self._interrupted,
                                                    lambda: deferred_from_coro(crawler.stop_async())))
        for signum, status in self.STATUS_OF_SIGNAL.items():
            previous = signal.getsignal(signum)

            def handler(num: int, frame: Any, previous: Any = previous, status: ExitStatus = status) -> None:
                first = self._interrupted is None
                self._interrupted = self._interrupted or status
                scrapy_stop = functools.partial(previous, num, frame) if callable(previous) else None
                if first:  # Scrapy's graceful stop, once there is a running engine for it to stop
                    once_running(crawler, functools.partial(stop_on_signal, crawler, status, scrapy_stop))
                elif scrapy_stop is not None:
                    scrapy_stop()  # a second signal: Scrapy's immediate stop

            signal.signal(signum, handler)


def _spider_args(opts: Any) -> dict[str, Any]:
    """The spider arguments the user gave (``-a``), without those scrapyd adds (``_job``)."""
    return {k: v for k, v in opts.spargs.items() if not k.startswith("_")}


def once_running(crawler: Any, stop: Callable[[], Any]) -> None:
    """``stop`` now if the engine runs, else as soon as it does. Until then there is nothing to stop:
    the crawler is still being built (its stats do not exist yet, and the components that let go of
    what waits on the site would not hear the stop), or the spider is opening (Scrapy's graceful stop
    finds no running engine, and the process ended under the crawl with no report)."""
    from arabtoday.run.stopping import running_engine

    engine = running_engine(crawler)
    if engine is not None and engine.running:
        stop()
        return
    from twisted.internet import reactor

    crawler.signals.connect(lambda: reactor.callLater(0, stop), signal=signals.engine_started, weak=False)


def stop_on_signal(crawler: Any, status: ExitStatus, then: Callable[[], Any] | None = None) -> None:
    """A signal stops the run: its status is marked, and what waits on the site lets go at once; then
    ``then`` (Scrapy's graceful stop)."""
    if crawler.stats is not None:
        mark(crawler.stats, status)
    logger.info("%s: stopping; what is in flight is left for the next run (counted unfinished)",
                "SIGINT" if status is ExitStatus.INTERRUPTED_INT else "SIGTERM")
    crawler.signals.send_catch_log(signal=RUN_STOPPING, reason="shutdown")
    if then is not None:
        then()


def _on_failure(started: Any, record: Any) -> None:
    """Collect the crawl's failure, whether Scrapy returned a Deferred or an asyncio task."""
    if hasattr(started, "addErrback"):
        started.addErrback(record)
        return

    def done(task: Any) -> None:
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            record(Failure(exc, type(exc), exc.__traceback__))

    started.add_done_callback(done)


def complaint(message: str) -> str:
    """The one line the command prints on stderr when the run could not start or ended early."""
    return f"arabtoday: {message}"


def use_default_feed(settings: Any) -> None:
    """Without ``-o``/``-O`` (and no ``FEEDS``), the default output file, one per run."""
    default_feed = settings.get("ARABTODAY_DEFAULT_FEED")
    if not settings.getdict("FEEDS") and default_feed:
        settings.set("FEEDS", {default_feed: {"format": "jsonlines"}}, priority="project")


def preflight(settings: Any, spider_name: str, spider_args: dict[str, Any]) -> None:
    """What is checked before anything starts: raises :class:`BadSetting` or :class:`BadArgument`
    (status 2), or :class:`StartError` for an output that cannot be written (status 4)."""
    validate(settings)
    if spider_name == "arabtoday":
        CrawlParams.from_args(**spider_args)
    _refuse_overwrite_with_state(settings)
    cannot = unwritable(settings)
    if cannot:
        raise StartError("; ".join(cannot), ExitStatus.WRITE_FAILED)
    state = settings.get("ARABTODAY_STATE_DIR")
    problem = writable(Path(str(state)) / PROBE_NAME) if state else None
    if problem:  # before Scrapy's banner: one line, the state's status, what is wrong with the place
        raise StartError(f"ARABTODAY_STATE_DIR {state} cannot hold the state: {problem}", ExitStatus.STATE_UNUSABLE)


def start_failure(failure: Failure) -> tuple[str, ExitStatus]:
    """The one line and the status for a crawl that could not start (a traceback is logged only for
    an unexpected error: a known cause says what it is)."""
    exc = failure.value
    status = getattr(exc, "status", None)
    if isinstance(exc, BadArgument | BadSetting):
        status = ExitStatus.BAD_CONFIG
    if status is None:
        logger.error("could not start", exc_info=(failure.type, failure.value, failure.getTracebackObject()))
        status = ExitStatus.INTERNAL_ERROR
    return f"could not start: {exc}", ExitStatus(status)


def final_status(stats: dict[str, Any], interrupted: ExitStatus | None = None) -> tuple[ExitStatus, str | None]:
    """The status a finished crawl exits with: the one its report settled, or, when the report never
    ran (interrupted while starting, or broken), the interruption or an internal error, with a line."""
    status = stats.get(Stat.EXIT_STATUS)
    if status is not None:
        return ExitStatus(status), None
    status = interrupted or ExitStatus.INTERNAL_ERROR
    return status, f"the run ended before its report ({status.name.lower()})"


def _refuse_overwrite_with_state(settings: Any) -> None:
    """``-O FILE`` with the incremental state would replace a dataset with only what is new since
    the last run: refuse it, saying what to do instead (an empty or new file is fine)."""
    if not settings.get("ARABTODAY_STATE_DIR") or not settings.getbool("ARABTODAY_INCREMENTAL"):
        return
    for uri, options in settings.getdict("FEEDS").items():
        path = Path(str(uri).removeprefix("file://"))
        if options.get("overwrite") and "%(" not in str(uri) and path.is_file() and path.stat().st_size:
            raise BadSetting(
                f"-O {uri} would replace its records with only the articles new or changed since the last run "
                f"(incremental state in {settings.get('ARABTODAY_STATE_DIR')}): use -o to append, a new file "
                "per run (the default output), or -s ARABTODAY_INCREMENTAL=False for a full crawl")
