"""The ledger: every article page a run requests ends in exactly one bucket, with a reason.

An extension (``EXTENSIONS``). It opens an account when an article request is
first scheduled (Scrapy's ``request_scheduled``, for requests whose meta names
an ``article_id``) and closes it on the first outcome:

- ``emitted``: the record was exported (Scrapy's ``item_scraped``); a line of
  history that reached the outputs closes its page's account in the bucket it
  names instead (a copy ``superseded``: ``duplicate/<kind>``; a ``removed``
  article: ``dropped/gone``), and is counted under ``arabtoday/history/…``;
- ``skipped/<reason>``, ``duplicate/<kind>``, ``dropped/<reason>``: a pipeline
  dropped the item with a :class:`Dropped` naming its bucket, or the spider
  reported an outcome without an item (``ARTICLE_OUTCOME``: not an article, gone);
- ``failed/<reason>``: the download failed after retries, the page was cut
  short or a block page, a callback or a pipeline raised;
- ``unfinished/<finish_reason>``: still queued or in flight when the run
  closed early (``max_articles``, ``shutdown``, ``blocked``).

At close, an account still open in a run that finished normally is a bug:
each is logged with its address, and the report's check (``requested`` equal
to the sum of the buckets, :func:`arabtoday.run.report.accounting`) fails and
makes the exit status non-zero. Each closed account is announced
(``ARTICLE_DECIDED``) for the parts that wait on it: the ordering hold, the
frontier's budget, the block watch, the state.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.http import Request, Response
from twisted.python.failure import Failure

from arabtoday.meta import ARTICLE_ID
from arabtoday.schema import LIVE
from arabtoday.signals import ARTICLE_DECIDED, ARTICLE_OUTCOME, RECORDS_LOST
from arabtoday.site.ids import IdMap
from arabtoday.stats import Bucket, Stat, article_outcome

logger = logging.getLogger(__name__)

OPEN_ACCOUNTS_LOGGED = 50  # at close, the first open accounts are logged one by one


class Dropped(DropItem):
    """A pipeline's drop with the bucket it closes the article's account in."""

    def __init__(self, bucket: str, reason: str, message: str, log_level: str = "INFO") -> None:
        super().__init__(message, log_level=log_level)
        self.bucket, self.reason = bucket, reason


def article_key(item: Any) -> str | None:
    """The id an item's account is under: the id its request was made for (an id-changing
    redirect keeps the account of the requested id), else its own."""
    return getattr(item, "requested_id", None) or getattr(item, "id", None)


class Ledger:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.open: dict[str, str] = {}  # article id -> url, requested and not yet decided
        self.decided = IdMap()  # article id -> the bucket its account closed in (bitmaps: flat in pages)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Ledger:
        ext = cls(crawler)
        connect = crawler.signals.connect
        connect(ext.request_scheduled, signal=signals.request_scheduled)
        connect(ext.outcome, signal=ARTICLE_OUTCOME)
        connect(ext.item_scraped, signal=signals.item_scraped)
        connect(ext.item_dropped, signal=signals.item_dropped)
        connect(ext.item_error, signal=signals.item_error)
        connect(ext.spider_error, signal=signals.spider_error)
        connect(ext.request_dropped, signal=signals.request_dropped)
        connect(ext.spider_closed, signal=signals.spider_closed)
        connect(ext.records_lost, signal=RECORDS_LOST)
        return ext

    # -- opening and closing accounts ----------------------------------------------------------------------------

    def request_scheduled(self, request: Request) -> None:
        article_id = request.meta.get(ARTICLE_ID)
        if article_id:
            self.requested(article_id, request.url)

    def requested(self, article_id: str, url: str) -> None:
        if article_id in self.open or article_id in self.decided:
            return  # the same article again: a retry, a redirect, another address, AMP -> canonical
        self.open[article_id] = url
        self.stats.inc_value(Stat.REQUESTED)

    def hand_off(self, article_id: str) -> None:
        """The request went into a queue shared with other workers (distributed mode): its account
        moves with it, to the worker that takes it out (:meth:`take_on`)."""
        if self.open.pop(article_id, None) is not None:
            self.stats.inc_value(Stat.REQUESTED, -1)

    def take_on(self, article_id: str, url: str) -> None:
        """This worker took an article request out of the shared queue: the account is its own now,
        even if it had closed one for the id (found the address after another worker queued it),
        since this is the fetch whose outcome counts."""
        self.decided.pop(article_id, None)
        self.requested(article_id, url)

    def is_open(self, article_id: str | None) -> bool:
        return article_id is not None and article_id in self.open

    def close(self, article_id: str | None, bucket: str, reason: str = "", url: str | None = None) -> None:
        """Close an account; a second outcome for the same id is ignored (the first one counts)."""
        if article_id is None or article_id not in self.open:
            return
        address = self.open.pop(article_id)
        self.decided[article_id] = bucket
        self.stats.inc_value(article_outcome(bucket, reason))
        if bucket == Bucket.FAILED:
            logger.error("article failed: %s %s (%s)", article_id, url or address, reason)
        elif bucket != Bucket.EMITTED:
            logger.info("article %s: %s %s (%s)", bucket, article_id, url or address, reason)
        self.crawler.signals.send_catch_log(signal=ARTICLE_DECIDED, article_id=article_id, bucket=bucket,
                                            reason=reason)

    # -- what closes them ----------------------------------------------------------------------------------------

    def outcome(self, article_id: str, url: str, bucket: str, reason: str) -> None:
        self.close(article_id, bucket, reason, url)

    def item_scraped(self, item: Any) -> None:
        """A line reached the outputs: an article's record (emitted), or a line of history, which closes
        its page's account in the bucket it names (a copy: duplicate; a removal: dropped)."""
        for event in getattr(item, "events", ()):
            self._count_history(event)
        outcome = getattr(item, "outcome", None)
        if getattr(item, "status", LIVE) != LIVE:
            self._count_history(item)
            if outcome is not None:
                self.close(article_key(item), *outcome)
            return
        self._count_emitted(getattr(item, "lang", None), getattr(item, "change", ""), 1)
        self.close(article_key(item), Bucket.EMITTED)

    def _count_history(self, line: Any) -> None:
        status = getattr(line, "status", "")
        reason = getattr(line, "removed_reason", None)
        self.stats.inc_value(Stat.HISTORY.format(status=status) + (f"/{reason}" if reason else ""))

    def _count_emitted(self, lang: str | None, change: str, n: int) -> None:
        if lang:
            self.stats.inc_value(Stat.EMITTED_LANG.format(lang=lang), n)
            self.stats.inc_value(Stat.EMITTED_UPDATED if change == "updated" else Stat.EMITTED_NEW, n)

    def records_lost(self, records: dict[str, tuple[str, str]], reason: str) -> None:
        """Records the outputs were given but never wrote (an output failed): not emitted after all."""
        for article_id, (lang, change) in records.items():
            if self.decided.get(article_id) != Bucket.EMITTED:
                continue
            self.decided[article_id] = Bucket.FAILED
            self._count_emitted(lang, change, -1)
            self.stats.inc_value(Stat.EMITTED, -1)
            self.stats.inc_value(article_outcome(Bucket.FAILED, reason))

    def item_dropped(self, item: Any, exception: BaseException) -> None:
        if isinstance(exception, Dropped):
            self.close(article_key(item), exception.bucket, exception.reason)
        else:
            self.close(article_key(item), Bucket.DROPPED, "other")

    def item_error(self, item: Any, response: Response | None, failure: Failure) -> None:
        self.close(article_key(item), Bucket.FAILED, f"pipeline/{type(failure.value).__name__}")

    def spider_error(self, failure: Failure, response: Response | None) -> None:
        if response is not None:
            self.close(response.meta.get(ARTICLE_ID), Bucket.FAILED, "parse")

    def request_dropped(self, request: Request) -> None:
        """The scheduler's filter dropped a request: a redirect back to an address of its own chain
        (a loop), or to a page already fetched in this run."""
        chain = [*request.meta.get("redirect_urls", ()), request.url]
        if request.url in chain[:-1]:
            self.close(request.meta.get(ARTICLE_ID), Bucket.FAILED, "redirect/loop", request.url)
        else:
            self.close(request.meta.get(ARTICLE_ID), Bucket.DUPLICATE, "same_address", request.url)

    def spider_closed(self, reason: str) -> None:
        if not self.open:
            return
        if reason == "finished":
            for n, (article_id, url) in enumerate(self.open.items()):
                if n < OPEN_ACCOUNTS_LOGGED:
                    logger.error("article reached no outcome (a bug): %s %s", article_id, url)
            logger.error("%d article(s) reached no outcome: the accounting will not add up", len(self.open))
            return
        for article_id in list(self.open):
            self.close(article_id, Bucket.UNFINISHED, reason)
