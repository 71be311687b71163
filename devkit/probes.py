"""Extensions the tests add to a real crawl (``-s EXTENSIONS=...``) to make a moment happen on cue.

:class:`SignalOnOpen` sends the crawl's own process a signal the instant the spider opens
(``DEVKIT_SIGNAL_ON_OPEN``: ``SIGINT`` or ``SIGTERM``): the first moment a user's Ctrl-C or
``docker stop`` can meet a running crawl, which a test cannot hit from outside by timing.
"""

from __future__ import annotations

import os
import signal

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

SETTING = "DEVKIT_SIGNAL_ON_OPEN"


class SignalOnOpen:
    def __init__(self, signum: signal.Signals) -> None:
        self.signum = signum

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SignalOnOpen:
        name = crawler.settings.get(SETTING)
        if not name:
            raise NotConfigured(f"{SETTING} is not set")
        probe = cls(signal.Signals[name])
        crawler.signals.connect(probe.spider_opened, signal=signals.spider_opened)
        return probe

    def spider_opened(self) -> None:
        os.kill(os.getpid(), self.signum)
