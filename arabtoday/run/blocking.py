"""Is an answer with status 200 a block page rather than an article?

Sites that block crawlers often answer 200 with a captcha, an "access denied"
page or a generic error page, the same for every address. Left alone, such a
page becomes a ``missing_body`` drop or, worse, a record of boilerplate. A
page served for an article address is a block page when it states so in its
few words (a short page with a block phrase and no article markup), or when
the very same body was served for several different article addresses
(:class:`arabtoday.middlewares.BlockPageMiddleware` asks, for every article answer).
:class:`BlockWatch` stops a run that the site is blocking.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import OrderedDict, deque

from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest

from arabtoday.exitstatus import ExitStatus, mark
from arabtoday.run.stopping import stop_run
from arabtoday.signals import ARTICLE_DECIDED
from arabtoday.stats import Bucket

logger = logging.getLogger(__name__)
BLOCKED = "blocked"  # the failure reason of a blocked article page, and the run's close reason

SAME_BODY_ADDRESSES = 3  # one body for this many article addresses: not articles
REMEMBERED_BODIES = 4096  # bodies whose addresses are counted (oldest forgotten first)
SHORT_PAGE_BYTES = 20_000  # block and error pages are small; articles with their chrome are not
_BLOCK_PHRASES = re.compile(
    rb"captcha|access denied|access to this page has been denied|you have been blocked|are you a robot|"
    rb"verify you are (?:a )?human|unusual traffic|too many requests|rate limit|attention required|"
    rb"request blocked|forbidden|\xd8\xaa\xd9\x85 \xd8\xad\xd8\xb8\xd8\xb1",  # "تم حظر" (has been blocked)
    re.I)
_ARTICLE_MARKUP = re.compile(rb"<article\b|og:type[\"'][^>]*article|\"@type\"\s*:\s*\"NewsArticle\"", re.I)


class BlockedPage(IgnoreRequest):
    """An article answer that is a block page (the article fails as ``blocked``)."""


class BlockPageDetector:
    def __init__(self) -> None:
        self._addresses: OrderedDict[bytes, set[str]] = OrderedDict()

    def served_for_many(self, body: bytes, url: str) -> bool:
        """The very same bytes were served for several article addresses (always checked)."""
        digest = hashlib.blake2b(body, digest_size=16).digest()
        seen = self._addresses.get(digest)
        if seen is None:
            seen = self._addresses[digest] = set()
            if len(self._addresses) > REMEMBERED_BODIES:
                self._addresses.popitem(last=False)
        if len(seen) < SAME_BODY_ADDRESSES:
            seen.add(url)
        return len(seen) >= SAME_BODY_ADDRESSES


def says_blocked(body: bytes) -> bool:
    """A short page without article markup that says it blocks (checked only on pages that
    yielded no article: an article may well contain the word "forbidden")."""
    return len(body) < SHORT_PAGE_BYTES and not _ARTICLE_MARKUP.search(body) and bool(_BLOCK_PHRASES.search(body))


class BlockWatch:
    """An extension: stops the run when most recent article fetches were answered with a block.

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
        if bucket == Bucket.UNFINISHED:
            return
        self.window.append(bucket == Bucket.FAILED and reason == BLOCKED)
        full = len(self.window) == self.window.maxlen
        if full and not self.stopping and sum(self.window) >= self.ratio * len(self.window):
            self.stopping = True
            mark(self.crawler.stats, ExitStatus.BLOCKED)
            logger.error("the site is blocking the crawler: %d of the last %d article fetches were blocked "
                         "(403, 429 or block pages); stopping early", sum(self.window), len(self.window))
            stop_run(self.crawler, BLOCKED)
