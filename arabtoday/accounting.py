"""Every article page a run reaches ends in exactly one bucket, with a reason.

The :class:`Ledger` opens an account when the spider first requests an
article id (``ARTICLE_REQUESTED``) and closes it on the first outcome:

- ``emitted``: the record was exported (Scrapy's ``item_scraped``);
- ``skipped/<reason>``, ``duplicate/<kind>``, ``dropped/<reason>``: a pipeline
  dropped the item with a :class:`Dropped` naming its bucket, or the spider
  reported an outcome without an item (not an article, gone);
- ``failed/<reason>``: the download failed after retries, the page was cut
  short or a block page, a callback or a pipeline raised;
- ``unfinished/<finish_reason>``: still queued or in flight when the run
  closed early (``max_articles``, ``shutdown``, ``blocked``).

At close, an account still open in a run that finished normally is a bug:
each is logged with its address, and the report's check (``requested`` equal
to the sum of the buckets) fails and makes the exit status non-zero. Stats are
listed in ``docs/CONTRACTS.md``. :class:`BlockWatch` reads the same outcomes
to stop a run the site is blocking, instead of burning through the archive.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.http import Request, Response
from twisted.python.failure import Failure

from arabtoday.outcome import ExitStatus, mark
from arabtoday.signals import ARTICLE_DECIDED, ARTICLE_OUTCOME, ARTICLE_REQUESTED

logger = logging.getLogger(__name__)

REQUESTED = "arabtoday/articles/requested"
BUCKET = "arabtoday/articles/{bucket}/{reason}"
EMITTED = "arabtoday/articles/emitted"
BUCKETS = ("emitted", "skipped", "duplicate", "dropped", "failed", "unfinished")
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
        self.decided: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Ledger:
        ext = cls(crawler)
        connect = crawler.signals.connect
        connect(ext.requested, signal=ARTICLE_REQUESTED)
        connect(ext.outcome, signal=ARTICLE_OUTCOME)
        connect(ext.item_scraped, signal=signals.item_scraped)
        connect(ext.item_dropped, signal=signals.item_dropped)
        connect(ext.item_error, signal=signals.item_error)
        connect(ext.spider_error, signal=signals.spider_error)
        connect(ext.request_dropped, signal=signals.request_dropped)
        connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    # -- opening and closing accounts ----------------------------------------------------------------------------

    def requested(self, article_id: str, url: str) -> None:
        if article_id in self.open or article_id in self.decided:
            return  # the same article under another address, or handed on (AMP -> canonical)
        self.open[article_id] = url
        self.stats.inc_value(REQUESTED)

    def hand_off(self, article_id: str) -> None:
        """The request went into a queue shared with other workers (distributed mode): its account
        moves with it, to the worker that takes it out (:meth:`take_on`)."""
        if self.open.pop(article_id, None) is not None:
            self.stats.inc_value(REQUESTED, -1)

    def take_on(self, article_id: str, url: str) -> None:
        """This worker took an article request out of the shared queue: the account is its own now,
        even if it had closed one for the id (found the address after another worker queued it),
        since this is the fetch whose outcome counts."""
        self.decided.discard(article_id)
        self.requested(article_id, url)

    def is_open(self, article_id: str | None) -> bool:
        return article_id is not None and article_id in self.open

    def close(self, article_id: str | None, bucket: str, reason: str = "", url: str | None = None) -> None:
        """Close an account; a second outcome for the same id is ignored (the first one counts)."""
        if article_id is None or article_id not in self.open:
            return
        address = self.open.pop(article_id)
        self.decided.add(article_id)
        self.stats.inc_value(EMITTED if bucket == "emitted" else BUCKET.format(bucket=bucket, reason=reason))
        if bucket == "failed":
            logger.error("article failed: %s %s (%s)", article_id, url or address, reason)
        elif bucket != "emitted":
            logger.info("article %s: %s %s (%s)", bucket, article_id, url or address, reason)
        self.crawler.signals.send_catch_log(signal=ARTICLE_DECIDED, article_id=article_id, bucket=bucket,
                                            reason=reason)

    # -- what closes them ----------------------------------------------------------------------------------------

    def outcome(self, article_id: str, url: str, bucket: str, reason: str) -> None:
        self.close(article_id, bucket, reason, url)

    def item_scraped(self, item: Any) -> None:
        lang = getattr(item, "lang", None)
        if lang:
            self.stats.inc_value(f"arabtoday/emitted/{lang}")
            self.stats.inc_value("arabtoday/emitted/updated" if getattr(item, "change", "") == "updated"
                                 else "arabtoday/emitted/new")
        self.close(article_key(item), "emitted")

    def item_dropped(self, item: Any, exception: BaseException) -> None:
        if isinstance(exception, Dropped):
            self.close(article_key(item), exception.bucket, exception.reason)
        else:
            self.close(article_key(item), "dropped", "other")

    def item_error(self, item: Any, response: Response | None, failure: Failure) -> None:
        self.close(article_key(item), "failed", f"pipeline/{type(failure.value).__name__}")

    def spider_error(self, failure: Failure, response: Response) -> None:
        self.close(response.meta.get("article_id"), "failed", "parse")

    def request_dropped(self, request: Request) -> None:
        """The scheduler's filter dropped a request: a redirect back to an address of its own chain
        (a loop), or to a page already fetched in this run."""
        chain = [*request.meta.get("redirect_urls", ()), request.url]
        if request.url in chain[:-1]:
            self.close(request.meta.get("article_id"), "failed", "redirect/loop", request.url)
        else:
            self.close(request.meta.get("article_id"), "duplicate", "same_address", request.url)

    def spider_closed(self, reason: str) -> None:
        self._check_reached()
        if not self.open:
            return
        if reason == "finished":
            for n, (article_id, url) in enumerate(self.open.items()):
                if n < OPEN_ACCOUNTS_LOGGED:
                    logger.error("article reached no outcome (a bug): %s %s", article_id, url)
            logger.error("%d article(s) reached no outcome: the accounting will not add up", len(self.open))
            return
        for article_id in list(self.open):
            self.close(article_id, "unfinished", reason)


    def _check_reached(self) -> None:
        """No answer at all, and the entry points failed to connect: the site was unreachable."""
        stats = self.stats.get_stats()
        if stats.get("response_received_count"):
            return
        unreachable = sum(int(v) for k, v in stats.items()
                          if k.startswith("arabtoday/errors/source/") and k.rsplit("/", 1)[-1] in UNREACHABLE_KINDS)
        if unreachable:
            mark(self.stats, ExitStatus.UNREACHABLE)
            logger.error("the site did not answer at any entry point (%d connection failures): is the address "
                         "right and the network up?", unreachable)


UNREACHABLE_KINDS = frozenset({"dns", "connection_refused", "timeout", "response_failed", "download_failed"})


class BlockWatch:
    """Stops the run when most recent article fetches were answered with a block.

    Looks at the last ``ARABTODAY_BLOCKED_WINDOW`` article outcomes that involved the
    server's answer; when at least ``ARABTODAY_BLOCKED_RATIO`` of them are
    ``failed/blocked`` the run closes (reason ``blocked``, exit status 5): a blocked
    crawler that goes on only burns through the archive and the site's patience."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.window: deque[bool] = deque(maxlen=crawler.settings.getint("ARABTODAY_BLOCKED_WINDOW"))
        self.ratio = crawler.settings.getfloat("ARABTODAY_BLOCKED_RATIO")
        self.stopping = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BlockWatch:
        ext = cls(crawler)
        crawler.signals.connect(ext.decided, signal=ARTICLE_DECIDED)
        return ext

    def decided(self, article_id: str, bucket: str, reason: str) -> None:
        if bucket == "unfinished":
            return
        self.window.append(bucket == "failed" and reason == "blocked")
        full = len(self.window) == self.window.maxlen
        if full and not self.stopping and sum(self.window) >= self.ratio * len(self.window):
            self.stopping = True
            mark(self.crawler.stats, ExitStatus.BLOCKED)
            logger.error("the site is blocking the crawler: %d of the last %d article fetches were blocked "
                         "(403, 429 or block pages); stopping early", sum(self.window), len(self.window))
            engine = self.crawler.engine
            if engine is not None:
                from scrapy.utils.defer import deferred_from_coro

                deferred_from_coro(engine.close_spider_async(reason="blocked"))
