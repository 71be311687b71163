"""The report's extension (``arabtoday.run.reporter``): ERROR lines of other code counted once, by
logger; ours, and those about an article, left to whoever counts them."""

from __future__ import annotations

import logging
import sys
from typing import Any

from scrapy import Request

from arabtoday.exitstatus import ExitStatus
from arabtoday.offline.runner import DictStats
from arabtoday.run.report import (
    build_report,
)
from arabtoday.run.reporter import ErrorLineCounter


def Stats(values: dict[str, Any]) -> DictStats:
    """The project's own stats collector (the one ``extract`` runs with), filled with ``values``."""
    stats = DictStats()
    for key, value in values.items():
        stats.set_value(key, value)
    return stats


def test_error_lines_of_other_code_are_counted_by_logger_ours_are_not() -> None:
    stats = Stats({})
    counter = ErrorLineCounter(stats)
    for name, level in (("scrapy.downloadermiddlewares.robotstxt", logging.ERROR),
                        ("scrapy.core.scraper", logging.CRITICAL),
                        ("scrapy.core.scraper", logging.WARNING),  # not an error
                        ("arabtoday.spiders.arabtoday", logging.ERROR),  # ours: counted where it is logged
                        ("arabtoday", logging.ERROR),  # the spider's own logger
                        ("scrapy.downloadermiddlewares.retry", logging.ERROR)):  # followed by a counted one
        if level >= counter.level:  # as a logger does before it hands a record to its handlers
            counter.handle(logging.LogRecord(name, level, __file__, 1, "boom", None, None))
    assert stats.get_stats() == {
        "arabtoday/errors/log/scrapy.downloadermiddlewares.robotstxt": 1,
        "arabtoday/errors/log/scrapy.core.scraper": 1,
        "arabtoday/exit/internal_error": 1,  # an exception nobody handled
    }


def test_a_callback_error_on_an_article_is_left_to_the_ledger() -> None:
    """Scrapy logs an exception in a callback or pipeline; the ledger counts it as failed when it is about
    an article page; otherwise (a listing, a feed) only the log line tells, and it is counted."""
    stats = Stats({})
    counter = ErrorLineCounter(stats)
    message = "Spider error processing %(request)s (referer: %(referer)s)"
    for meta in ({"article_id": "en-104257"}, {"source": "listing"}):
        request = Request("http://127.0.0.1:9/x", meta=meta)
        counter.handle(logging.LogRecord("scrapy.core.scraper", logging.ERROR, __file__, 1, message,
                                         ({"request": request, "referer": None},), None))
    assert stats.get_stats() == {"arabtoday/errors/log/scrapy.core.scraper": 1, "arabtoday/exit/internal_error": 1}


def test_an_unhandled_io_error_is_a_failed_write() -> None:
    stats = Stats({})
    try:
        raise NotADirectoryError(20, "Not a directory")
    except OSError:
        record = logging.LogRecord("scrapy.utils.signal", logging.ERROR, __file__, 1, "Error caught on signal handler",
                                   None, sys.exc_info())
    ErrorLineCounter(stats).handle(record)
    assert stats.get_value("arabtoday/exit/write_failed") == 1
    assert build_report(stats.get_stats(), 1.0)["exit_status"]["code"] == ExitStatus.WRITE_FAILED
