"""Feeds and sitemaps read safely, as streams.

XML is parsed with entity expansion and network access off, and a document
that declares entities is refused outright (billion laughs, XXE): feeds and
sitemaps never need them. A document is read incrementally (lxml
``iterparse``) through a byte cap, gzip (``.xml.gz``) inflated on the fly
under the same cap, and what has been read is freed as the reading goes, so
a sitemap of 50,000 entries never sits in memory as a tree.
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


def open_xml(body: bytes, max_bytes: int) -> tuple[io.BufferedReader, _Capped]:
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


def local_name(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def child_text(el: etree._Element, name: str) -> str | None:
    for child in el:
        if local_name(child.tag) == name:
            return (child.text or "").strip() or None
    return None


def iterparse(stream: IO[bytes]) -> Iterator[tuple[str, etree._Element]]:
    """lxml's incremental parser with the safe-XML settings; a document cut short simply ends."""
    events = etree.iterparse(stream, events=("start", "end"), resolve_entities=False, no_network=True,
                             load_dtd=False, huge_tree=False, remove_comments=True, recover=True)
    try:
        yield from events
    except etree.XMLSyntaxError as exc:
        if "Document is empty" in str(exc) or "no element found" in str(exc).lower():
            raise BadXML("empty or not XML") from None
        return  # cut short mid-document: the entries read so far stand


def release(el: etree._Element) -> None:
    """Free what has been read: a sitemap of 50,000 entries never sits in memory as a tree."""
    el.clear(keep_tail=False)
    parent = el.getparent()
    while parent is not None and el.getprevious() is not None:
        del parent[0]


