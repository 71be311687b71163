"""Original before copy: a short, bounded hold, never a condition for correctness.

Which of two copies is kept is decided by the content dedup on arrival:
the first one in the dataset wins, and the later one is recorded as its
``duplicate_of``. That rule holds under any arrival order, so nothing is ever
lost or emitted twice, whatever the network does. This hold only makes the
kept one the *original* in the usual case: ids grow with publication, so an
item waits, at most ``ARABTODAY_DEDUP_HOLD_SECONDS``, while an article of its
edition with a lower id is still being fetched or processed.

Every exit of the wait is handled: the lower ids are decided (each account the
ledger closes wakes the waiters: emitted, dropped, failed, redirected, filtered),
the time runs out (counted, ``arabtoday/dedup/order_timeout``), too many items
already wait (counted, ``arabtoday/dedup/order_full``: a scraper full of waiting
items would never let the lower ids in), or the run stops or closes. The wait never raises.
"""

from __future__ import annotations

import asyncio
import logging

from scrapy import Request, signals
from scrapy.crawler import Crawler

from arabtoday.meta import ARTICLE_ID
from arabtoday.signals import ARTICLE_DECIDED, RUN_STOPPING
from arabtoday.stats import Stat

logger = logging.getLogger(__name__)


def _edition_number(article_id: str | None) -> tuple[str, int] | None:
    lang, _, number = (article_id or "").partition("-")
    return (lang, int(number)) if lang and number.isdigit() else None


class OrderingHold:
    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats
        self.timeout = crawler.settings.getfloat("ARABTODAY_DEDUP_HOLD_SECONDS")
        self.max_waiting = crawler.settings.getint("ARABTODAY_DEDUP_HOLD_MAX_ITEMS")
        self.in_flight: dict[str, set[int]] = {}  # edition -> article numbers sent to the downloader, undecided
        self.waiting = 0
        self.closed = False
        self._wake: asyncio.Event | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> OrderingHold:
        ext = cls(crawler)
        crawler.signals.connect(ext.reached_downloader, signal=signals.request_reached_downloader)
        crawler.signals.connect(ext.decided, signal=ARTICLE_DECIDED)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.spider_closed, signal=RUN_STOPPING)
        return ext

    def reached_downloader(self, request: Request) -> None:
        found = _edition_number(request.meta.get(ARTICLE_ID))
        if found is not None and not request.meta.get("decided"):
            self.in_flight.setdefault(found[0], set()).add(found[1])

    def decided(self, article_id: str, bucket: str, reason: str) -> None:
        found = _edition_number(article_id)
        if found is not None:
            self.in_flight.get(found[0], set()).discard(found[1])
        self._notify()

    def spider_closed(self, *args: object, **kwargs: object) -> None:
        self.closed = True
        self._notify()

    def _notify(self) -> None:
        if self._wake is not None:
            self._wake.set()
            self._wake = None

    def lower_in_flight(self, article_id: str) -> bool:
        found = _edition_number(article_id)
        if found is None:
            return False
        lang, number = found
        return any(other < number for other in self.in_flight.get(lang, ()))

    async def wait_for_lower_ids(self, article_id: str) -> bool:
        """True when no lower id of the edition is in flight any more; False when it did not
        wait it out (time, room, closing). Never raises: the caller goes on either way."""
        if self.closed or self.timeout <= 0 or not self.lower_in_flight(article_id):
            return True
        if self.waiting >= self.max_waiting:
            self.stats.inc_value(Stat.ORDER_FULL)
            return False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        self.waiting += 1
        try:
            while self.lower_in_flight(article_id) and not self.closed:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                if self._wake is None:
                    self._wake = asyncio.Event()
                try:
                    await asyncio.wait_for(self._wake.wait(), remaining)
                except TimeoutError:  # the built-in one: what asyncio.wait_for raises (ruff A004 guards it)
                    break
            if self.lower_in_flight(article_id) and not self.closed:
                self.stats.inc_value(Stat.ORDER_TIMEOUT)
                logger.debug("%s: lower ids still in flight after %.1f s; deciding now", article_id, self.timeout)
                return False
            return True
        finally:
            self.waiting -= 1
