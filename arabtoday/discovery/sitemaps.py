"""Sitemaps: an index or a URL set, read as a stream, entry by entry, within bounds.

A page object (a body in, addresses out) and :class:`StreamCap`, the
extension that reads a sitemap's response only up to its byte bound.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import StopDownload
from scrapy.http import Request, Response

from arabtoday.cleaning.dates import parse_iso
from arabtoday.discovery.xml import (
    MAX_ENTRIES,
    MAX_XML_BYTES,
    BadXML,
    Entry,
    child_text,
    iterparse,
    local_name,
    open_xml,
    release,
)
from arabtoday.site.addresses import absolute


class SitemapReader:
    """A sitemap index or URL set, read as a stream, entry by entry.

    At most ``max_entries`` entries and ``max_bytes`` uncompressed bytes are read
    (the sitemaps.org limits by default); ``hit`` names the bound that stopped it.
    The root element is read at once, so :attr:`is_index` is known before any entry;
    :attr:`whole` says, once the entries are read, that every one was (no bound, no error, no cut)."""

    def __init__(self, body: bytes, page_url: str, max_entries: int, max_bytes: int) -> None:
        self.page_url = page_url
        self.max_entries = max_entries
        stream, self.cap = open_xml(body, max_bytes)
        self.events = iterparse(stream)
        self.hit: str | None = None
        self.read = 0
        self.ended = False  # the entries were read to the document's end
        kind = ""
        for event, el in self.events:
            if event == "start":
                kind = local_name(el.tag)
                break
        if kind not in ("sitemapindex", "urlset"):
            raise BadXML(f"not a sitemap (root element <{kind or '?'}>)")
        self.is_index = kind == "sitemapindex"

    def entries(self) -> Iterator[Entry]:
        item = "sitemap" if self.is_index else "url"
        for event, el in self.events:
            if event != "end" or local_name(el.tag) != item:
                continue
            if self.read >= self.max_entries:
                self.hit = "sitemap_entries"
                return
            self.read += 1
            url = absolute(child_text(el, "loc"), self.page_url)
            lastmod = parse_iso(child_text(el, "lastmod"))
            release(el)
            if url:
                yield Entry(url, lastmod)
        if self.cap.hit:
            self.hit = "sitemap_bytes"
        self.ended = True

    @property
    def whole(self) -> bool:
        return self.ended and self.hit is None


def parse_sitemap(body: bytes, page_url: str, max_entries: int = MAX_ENTRIES,
                  max_bytes: int = MAX_XML_BYTES) -> Sitemap:
    """A whole sitemap at once (small ones; tests and tools): see :class:`SitemapReader`."""
    reader = SitemapReader(body, page_url, max_entries, max_bytes)
    return Sitemap(reader.is_index, list(reader.entries()))


@dataclass(frozen=True, slots=True)
class Sitemap:
    is_index: bool
    entries: list[Entry]


class StreamCap:
    """Reads a response only up to ``request.meta['stream_cap']`` bytes, then stops the download
    and hands on what arrived (flag ``download_stopped``): a sitemap larger than the protocol's
    limit is read up to the limit, not refused whole, and never held beyond it."""

    def __init__(self) -> None:
        self.received: dict[int, int] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StreamCap:
        ext = cls()
        crawler.signals.connect(ext.bytes_received, signal=signals.bytes_received)
        crawler.signals.connect(ext.done, signal=signals.response_received)
        crawler.signals.connect(ext.done_request, signal=signals.request_left_downloader)
        return ext

    def bytes_received(self, data: bytes, request: Request) -> None:
        cap = request.meta.get("stream_cap")
        if not cap:
            return
        total = self.received.get(id(request), 0) + len(data)
        self.received[id(request)] = total
        if total > cap:
            self.received.pop(id(request), None)
            raise StopDownload(fail=False)

    def done(self, response: Response, request: Request) -> None:
        self.received.pop(id(request), None)

    def done_request(self, request: Request) -> None:
        self.received.pop(id(request), None)
