"""Extensions the tests add to a real crawl (``-s EXTENSIONS=...``) to make a moment happen on cue.

:class:`SignalOnOpen` sends the crawl's own process a signal (``SIGINT`` or ``SIGTERM``) at a moment
a test cannot hit from outside by timing: the instant Scrapy logs "Spider opened"
(``DEVKIT_SIGNAL_ON_OPEN``), the first moment a user sees a running crawl and may press Ctrl-C (or a
scheduler stop it), while the spider is still opening. :class:`SignalOnBuild`, an add-on, sends one
while the crawler is being built (``DEVKIT_SIGNAL_ON_BUILD``), before the crawl has started.
"""

from __future__ import annotations

import logging
import os
import signal
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

SETTING = "DEVKIT_SIGNAL_ON_OPEN"
ON_BUILD = "DEVKIT_SIGNAL_ON_BUILD"
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


class SignalOnBuild:
    """An add-on (``ADDONS``): Scrapy applies add-ons as it builds the crawler, before anything runs."""

    def update_settings(self, settings: Any) -> None:
        name = settings.get(ON_BUILD)
        if name:
            os.kill(os.getpid(), signal.Signals[name])
