"""The site's history between runs: which sources list each article, and what vanished (an extension).

Sitemaps enumerate the site (each lists every article of its month); feeds and
listing pages are windows onto the latest articles, which every article leaves
in time. So an article is *vanished* when a sitemap listed it before, every
sitemap that did was read to its end in this run (never one that failed, was cut
short at a bound, or had entries left out by ``since``, ``until`` or ``lang``),
and no sitemap, feed or listing lists it now. Once discovery is over (the first
time the spider is idle), :meth:`History.rechecks_due` gives at most
``ARABTODAY_RECHECK_MAX`` of them; the spider asks for each again, one request:

- 404 or 410: the article is removed (a ``removed`` line, ``http_404``/``http_410``);
- another page (a redirect to the home page, a listing, an error page served with
  200): removed, ``gone_from_sitemaps``;
- the article itself: it is still served, only unlisted; it is not vanished again.

What was not rechecked (the limit) stays vanished for the next run. A site
without sitemaps has no vanished articles: its articles are found removed only
by answering 404 or 410 when asked for. Only a state that remembers runs on one
machine (``ARABTODAY_STATE_DIR``) keeps listings; in distributed mode likewise.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any
from urllib.parse import urlsplit

from scrapy.crawler import Crawler

from arabtoday.signals import ARTICLE_DECIDED, SOURCE_READ
from arabtoday.state.extension import StateExtension
from arabtoday.state.store import StateError
from arabtoday.stats import Bucket, Stat

logger = logging.getLogger(__name__)
ENUMERATING = "sitemap"  # lists every article of its part of the site: leaving it can mean removal
WINDOWS = ("feed", "listing")  # show the latest articles: leaving them is not removal, being in them is listing
WINDOW = ""  # the source name every window is kept under in the state


class History:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.limit = settings.getint("ARABTODAY_RECHECK_MAX")
        self.keeps = bool(settings.get("ARABTODAY_STATE_DIR")) and not settings.get("ARABTODAY_REDIS_URL")
        self.asked = False
        self.rechecking: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> History:
        ext = cls(crawler)
        crawler.signals.connect(ext.source_read, signal=SOURCE_READ)
        crawler.signals.connect(ext.article_decided, signal=ARTICLE_DECIDED)
        return ext

    @property
    def store(self) -> Any:
        return self.crawler.get_extension(StateExtension).store

    def listed(self, article_id: str, source: str, source_url: str) -> None:
        """A sitemap (``source_url``), feed or listing lists the article in this run (the incremental
        middleware tells, for every address they give, requested or not; other sources are ignored)."""
        if not self.keeps or (source != ENUMERATING and source not in WINDOWS):
            return
        with contextlib.suppress(StateError):  # told to the state's owner, which stops the run
            self.store.listed(article_id, _where(source_url) if source == ENUMERATING else WINDOW)

    def source_read(self, url: str, complete: bool) -> None:
        """A sitemap was read: to its end, with every entry given on (``complete``), or not."""
        if self.keeps:
            with contextlib.suppress(StateError):
                self.store.source_read(_where(url), complete)

    def rechecks_due(self) -> list[tuple[str, str]]:
        """Once per run, after discovery: the vanished articles to ask for again (``(id, url)``)."""
        if self.asked or not self.keeps or self.limit <= 0:
            return []
        self.asked = True
        try:
            due = self.store.vanished(self.limit)
        except StateError:
            return []
        if due:
            self.crawler.stats.inc_value(Stat.VANISHED, len(due))
            logger.info("%d article(s) no source lists any more: asking for each again (ARABTODAY_RECHECK_MAX=%d)",
                        len(due), self.limit)
        self.rechecking.update(article_id for article_id, _ in due)
        return due

    def article_decided(self, article_id: str, bucket: str, reason: str) -> None:
        if article_id not in self.rechecking:
            return
        self.rechecking.discard(article_id)
        removed = bucket == Bucket.DROPPED and reason == "gone"
        self.crawler.stats.inc_value(Stat.RECHECKED.format(outcome="removed" if removed else bucket))
        if bucket in (Bucket.EMITTED, Bucket.SKIPPED, Bucket.DUPLICATE):  # still served: only unlisted
            with contextlib.suppress(StateError):
                self.store.unlisted(article_id)


def _where(url: str) -> str:
    """A source by its path on the site (a copy of the site served elsewhere keeps its history)."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
