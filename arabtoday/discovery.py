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
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from arabtoday.dates import find_site_dates, parse_iso, parse_rfc822
from arabtoday.extraction import selectors as S
from arabtoday.extraction.page import compiled, parse_html
from arabtoday.urls import absolute

MAX_XML_BYTES = 50 * 1024 * 1024  # the sitemap protocol's own limit for one file
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.I)


class BadXML(ValueError):
    """A feed or sitemap that cannot be read safely (the message says why)."""


@dataclass(frozen=True, slots=True)
class Entry:
    url: str
    date: datetime | None = None  # publication date (feeds) or lastmod (sitemaps)
    guid: str | None = None


def _xml_root(body: bytes) -> etree._Element:
    if body[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(body)) as gz:
                body = gz.read(MAX_XML_BYTES + 1)
        except (OSError, EOFError) as exc:
            raise BadXML(f"bad gzip: {exc}") from None
    if len(body) > MAX_XML_BYTES:
        raise BadXML(f"larger than {MAX_XML_BYTES} bytes")
    if _ENTITY_DECL.search(body[:65536]):
        raise BadXML("declares XML entities (refused: entity expansion attacks)")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=True,
                             remove_comments=True, load_dtd=False)
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise BadXML(f"not XML: {exc}") from None
    if root is None:
        raise BadXML("empty or not XML")
    return root


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child_text(el: etree._Element, name: str) -> str | None:
    for child in el:
        if _local(child.tag) == name:
            return (child.text or "").strip() or None
    return None


@dataclass(frozen=True, slots=True)
class Sitemap:
    is_index: bool
    entries: list[Entry]


def parse_sitemap(body: bytes, page_url: str) -> Sitemap:
    """A sitemap index (``<sitemapindex>``) or URL set (``<urlset>``)."""
    root = _xml_root(body)
    kind = _local(root.tag)
    if kind not in ("sitemapindex", "urlset"):
        raise BadXML(f"not a sitemap (root element <{kind}>)")
    item = "sitemap" if kind == "sitemapindex" else "url"
    entries = []
    for el in root:
        if _local(el.tag) != item:
            continue
        url = absolute(_child_text(el, "loc"), page_url)
        if url:
            entries.append(Entry(url, parse_iso(_child_text(el, "lastmod"))))
    return Sitemap(kind == "sitemapindex", entries)


def parse_feed(body: bytes, page_url: str) -> list[Entry]:
    """RSS 2.0 items or Atom entries."""
    root = _xml_root(body)
    entries = []
    for el in root.iter():
        name = _local(el.tag)
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
        url = absolute(link, page_url)
        if url:
            entries.append(Entry(url, date, guid))
    if not entries and _local(root.tag) not in ("rss", "feed", "RDF"):
        raise BadXML(f"not a feed (root element <{_local(root.tag)}>)")
    return entries


# an article address, cheaply, before the full classification: /{lang}/{section}/{id}
_ARTICLE_HINT = re.compile(r"/(en|ar)/(?:amp/)?(?:[^/?#]+/)?(\d+)(?:[/?#]|$)")


class ListingPage:
    """A page seen for its links: home, section listing, or an article's own links."""

    def __init__(self, html: str, url: str, root: etree._Element | None = None) -> None:
        self.url = url
        self.root = root if root is not None else parse_html(html)

    def hrefs(self) -> list[str]:
        """Every link target as written (cheap: nothing resolved or normalised yet)."""
        return [str(h) for h in compiled(S.LINKS)(self.root)]

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
