"""Where article addresses come from: sitemaps, RSS feeds, listing pages.

Page objects only: each takes a body and returns addresses with what the
source says about them (date, lastmod). XML is parsed with entity expansion
and network access off, and a document that declares entities is refused
outright (billion laughs, XXE): feeds and sitemaps never need them.
"""

from __future__ import annotations

import gzip
import io
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from lxml import etree

from arabtoday.dates import find_site_dates, parse_iso, parse_rfc822
from arabtoday.extraction import selectors as S
from arabtoday.extraction.page import compiled, parse_html
from arabtoday.urls import absolute

MAX_XML_BYTES = 50 * 1024 * 1024  # the sitemap protocol's own limit for one file (uncompressed)
MAX_ENTRIES = 50_000  # ...and for the entries of one file
ENTITY_SCAN_BYTES = 65536  # entity declarations sit in the prolog, at the start
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.I)


class BadXML(ValueError):
    """A feed or sitemap that cannot be read safely (the message says why)."""


@dataclass(frozen=True, slots=True)
class Entry:
    url: str
    date: datetime | None = None  # publication date (feeds) or lastmod (sitemaps)
    guid: str | None = None


class _Capped(io.RawIOBase):
    """A byte stream that ends after ``limit`` bytes (``hit`` says it was cut there). A compressed
    stream that breaks mid-way ends there too (``broken``): what was read before stands."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self.stream, self.left, self.hit = stream, limit, False
        self.broken: BaseException | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            if self.left <= 0:
                self.hit = self.hit or bool(self.stream.read(1))
                return 0
            data = self.stream.read(min(len(buffer), self.left))
        except (OSError, EOFError, zlib.error) as exc:
            self.broken = exc
            return 0
        buffer[: len(data)] = data
        self.left -= len(data)
        return len(data)


def _open_xml(body: bytes, max_bytes: int) -> tuple[io.BufferedReader, _Capped]:
    """The document as a capped stream (gzip, ``.xml.gz``, inflated on the fly, never whole), and
    the cap that says whether it was reached. Its start is looked at, not consumed, for entity
    declarations."""
    raw: IO[bytes] = io.BytesIO(body)
    if body[:2] == b"\x1f\x8b":
        raw = gzip.GzipFile(fileobj=raw)
    capped = _Capped(raw, max_bytes)
    stream = io.BufferedReader(capped, buffer_size=ENTITY_SCAN_BYTES)
    head = stream.peek(ENTITY_SCAN_BYTES)[:ENTITY_SCAN_BYTES]
    if capped.broken is not None and not head:
        raise BadXML(f"bad gzip: {capped.broken}")
    if _ENTITY_DECL.search(head):
        raise BadXML("declares XML entities (refused: entity expansion attacks)")
    return stream, capped


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child_text(el: etree._Element, name: str) -> str | None:
    for child in el:
        if _local(child.tag) == name:
            return (child.text or "").strip() or None
    return None


def _iterparse(stream: IO[bytes]) -> Iterator[tuple[str, etree._Element]]:
    """lxml's incremental parser with the safe-XML settings; a document cut short simply ends."""
    events = etree.iterparse(stream, events=("start", "end"), resolve_entities=False, no_network=True,
                             load_dtd=False, huge_tree=False, remove_comments=True, recover=True)
    try:
        yield from events
    except etree.XMLSyntaxError as exc:
        if "Document is empty" in str(exc) or "no element found" in str(exc).lower():
            raise BadXML("empty or not XML") from None
        return  # cut short mid-document: the entries read so far stand


def _release(el: etree._Element) -> None:
    """Free what has been read: a sitemap of 50,000 entries never sits in memory as a tree."""
    el.clear(keep_tail=False)
    parent = el.getparent()
    while parent is not None and el.getprevious() is not None:
        del parent[0]


class SitemapReader:
    """A sitemap index or URL set, read as a stream, entry by entry.

    At most ``max_entries`` entries and ``max_bytes`` uncompressed bytes are read
    (the sitemaps.org limits by default); ``hit`` names the bound that stopped it.
    The root element is read at once, so :attr:`is_index` is known before any entry."""

    def __init__(self, body: bytes, page_url: str, max_entries: int, max_bytes: int) -> None:
        self.page_url = page_url
        self.max_entries = max_entries
        stream, self.cap = _open_xml(body, max_bytes)
        self.events = _iterparse(stream)
        self.hit: str | None = None
        self.read = 0
        kind = ""
        for event, el in self.events:
            if event == "start":
                kind = _local(el.tag)
                break
        if kind not in ("sitemapindex", "urlset"):
            raise BadXML(f"not a sitemap (root element <{kind or '?'}>)")
        self.is_index = kind == "sitemapindex"

    def entries(self) -> Iterator[Entry]:
        item = "sitemap" if self.is_index else "url"
        for event, el in self.events:
            if event != "end" or _local(el.tag) != item:
                continue
            if self.read >= self.max_entries:
                self.hit = "sitemap_entries"
                return
            self.read += 1
            url = absolute(_child_text(el, "loc"), self.page_url)
            lastmod = parse_iso(_child_text(el, "lastmod"))
            _release(el)
            if url:
                yield Entry(url, lastmod)
        if self.cap.hit:
            self.hit = "sitemap_bytes"


def parse_sitemap(body: bytes, page_url: str, max_entries: int = MAX_ENTRIES,
                  max_bytes: int = MAX_XML_BYTES) -> Sitemap:
    """A whole sitemap at once (small ones; tests and tools): see :class:`SitemapReader`."""
    reader = SitemapReader(body, page_url, max_entries, max_bytes)
    return Sitemap(reader.is_index, list(reader.entries()))


@dataclass(frozen=True, slots=True)
class Sitemap:
    is_index: bool
    entries: list[Entry]


def iter_feed(body: bytes, page_url: str, max_entries: int = MAX_ENTRIES,
              max_bytes: int = MAX_XML_BYTES) -> Iterator[Entry]:
    """RSS 2.0 items or Atom entries, read as a stream."""
    events = _iterparse(_open_xml(body, max_bytes)[0])
    root = ""
    read = 0
    for event, el in events:
        name = _local(el.tag)
        if event == "start":
            if not root:
                root = name
                if root not in ("rss", "feed", "RDF", "channel"):
                    raise BadXML(f"not a feed (root element <{root}>)")
            continue
        if name == "item":  # RSS
            link = _child_text(el, "link")
            date = parse_rfc822(_child_text(el, "pubDate")) or parse_iso(_child_text(el, "date"))
            guid = _child_text(el, "guid")
        elif name == "entry":  # Atom
            links = [c.get("href") for c in el if _local(c.tag) == "link" and c.get("rel", "alternate") == "alternate"]
            link = links[0] if links else None
            date = parse_iso(_child_text(el, "published") or _child_text(el, "updated"))
            guid = _child_text(el, "id")
        else:
            continue
        _release(el)
        read += 1
        if read > max_entries:
            return
        url = absolute(link, page_url)
        if url:
            yield Entry(url, date, guid)
    if not root:
        raise BadXML("empty or not XML")


def parse_feed(body: bytes, page_url: str) -> list[Entry]:
    """A whole feed at once (small ones; tests and tools): see :func:`iter_feed`."""
    return list(iter_feed(body, page_url))


# an article address, cheaply, before the full classification: /{lang}/{section}/{id}
_ARTICLE_HINT = re.compile(r"/(en|ar)/(?:amp/)?(?:[^/?#]+/)?(\d+)(?:[/?#]|$)")


class ListingPage:
    """A page seen for its links: home, section listing, or an article's own links."""

    def __init__(self, html: str, url: str, root: etree._Element | None = None) -> None:
        self.url = url
        self.root = root if root is not None else parse_html(html)

    def hrefs(self, limit: int | None = None) -> list[str]:
        """Link targets as written (cheap: nothing resolved or normalised yet), the first ``limit``."""
        found = compiled(S.LINKS)(self.root)
        return [str(h) for h in (found[:limit] if limit is not None else found)]

    def links(self) -> list[str]:
        return [u for u in (absolute(h, self.url) for h in self.hrefs()) if u]

    def canonical(self) -> str | None:
        found = compiled(S.CANONICAL)(self.root)
        return absolute(str(found[0]), self.url) if found else None

    def next_page(self) -> str | None:
        for query in S.LISTING_NEXT:
            found = compiled(query)(self.root)
            if found:
                return absolute(str(found[0]), self.url)
        return None

    def dates(self) -> list[datetime]:
        """Article dates shown on the page (site format or ``<time datetime>``)."""
        found = [d for d in (parse_iso(str(t)) for t in compiled("time::attr(datetime)")(self.root)) if d]
        main = compiled("#content, main, [role=main]")(self.root) or compiled("body")(self.root)
        return found + find_site_dates(" ".join(t for node in main for t in node.itertext()))


def article_id_hint(href: str) -> str | None:
    """``en-104257`` for anything that looks like an article address, without parsing it."""
    m = _ARTICLE_HINT.search(href)
    return f"{m[1]}-{m[2]}" if m else None
