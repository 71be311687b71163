"""Extensions the tests add to a real crawl (``-s EXTENSIONS=...``) to make a moment happen on cue.

:class:`SignalOnOpen` sends the crawl's own process a signal the instant Scrapy logs "Spider
opened" (``DEVKIT_SIGNAL_ON_OPEN``: ``SIGINT`` or ``SIGTERM``): the first moment a user sees a
running crawl and may press Ctrl-C (or a scheduler stop it), while the spider is still opening,
which a test cannot hit from outside by timing.
"""

from __future__ import annotations

import logging
import os
import signal

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

SETTING = "DEVKIT_SIGNAL_ON_OPEN"
OPENED = "Spider opened"  # what Scrapy's engine logs as it starts opening the spider
ENGINE_LOGGER = "scrapy.core.engine"


class SignalOnOpen(logging.Handler):
    def __init__(self, signum: signal.Signals) -> None:
        super().__init__()
        self.signum = signum
        self.sent = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SignalOnOpen:
        name = crawler.settings.get(SETTING)
        if not name:
            raise NotConfigured(f"{SETTING} is not set")
        probe = cls(signal.Signals[name])
        logging.getLogger(ENGINE_LOGGER).addHandler(probe)
        return probe

    def emit(self, record: logging.LogRecord) -> None:
        if not self.sent and record.getMessage() == OPENED:
            self.sent = True
            os.kill(os.getpid(), self.signum)
