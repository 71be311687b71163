"""Feeds: RSS 2.0 items and Atom entries, read as a stream (a page object: a body in, addresses out)."""

from __future__ import annotations

from collections.abc import Iterator

from arabtoday.cleaning.dates import parse_iso, parse_rfc822
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


def iter_feed(body: bytes, page_url: str, max_entries: int = MAX_ENTRIES,
              max_bytes: int = MAX_XML_BYTES) -> Iterator[Entry]:
    """RSS 2.0 items or Atom entries, read as a stream."""
    events = iterparse(open_xml(body, max_bytes)[0])
    root = ""
    read = 0
    for event, el in events:
        name = local_name(el.tag)
        if event == "start":
            if not root:
                root = name
                if root not in ("rss", "feed", "RDF", "channel"):
                    raise BadXML(f"not a feed (root element <{root}>)")
            continue
        if name == "item":  # RSS
            link = child_text(el, "link")
            date = parse_rfc822(child_text(el, "pubDate")) or parse_iso(child_text(el, "date"))
            guid = child_text(el, "guid")
        elif name == "entry":  # Atom
            links = [c.get("href") for c in el
                     if local_name(c.tag) == "link" and c.get("rel", "alternate") == "alternate"]
            link = links[0] if links else None
            date = parse_iso(child_text(el, "published") or child_text(el, "updated"))
            guid = child_text(el, "id")
        else:
            continue
        release(el)
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


