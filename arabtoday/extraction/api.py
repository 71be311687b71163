"""The extraction API the spider, the ``extract`` command, the tests and the benchmarks share.

Also reachable as ``arabtoday.extraction.extract`` etc. (the package loads this module on first use).
"""


from __future__ import annotations

from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from arabtoday.cleaning.record import clean
from arabtoday.extraction.cascade import is_fallback
from arabtoday.extraction.html import Decoded, decode_html
from arabtoday.extraction.page import Page
from arabtoday.extraction.parsers import LAYOUT_PARSERS, ArticleParser, FallbackParser, LayoutParser, PageMetadata
from arabtoday.items import RawArticle, as_record
from arabtoday.site.addresses import article_ref, strip_tracking

# Bumped whenever the output for the same page may change (docs/extraction.md): a record
# whose text changed under a new version is a re-extraction, not an edit of the site.
EXTRACTOR_VERSION = "2"

__all__ = ["EXTRACTOR_VERSION", "Decoded", "NotAnArticle", "Page", "decode_html", "extract", "extract_bytes",
           "is_fallback", "parse_page"]


class NotAnArticle(Exception):
    """The page is not an article (its reason is the message); skip it, it is not an error."""


def _address(page: Page, url: str) -> str:
    """The canonical article address: the page's canonical link when it names
    an article, else the address it was fetched from."""
    if page.canonical and article_ref(page.canonical) and "/amp/" not in urlsplit(page.canonical).path:
        return page.canonical
    return strip_tracking(url)


def choose_parser(page: Page, parsers: tuple[type[LayoutParser], ...] = LAYOUT_PARSERS) -> type[ArticleParser]:
    """The layout that proves the page is its own; when several do (a redesign kept the old class
    names), the one whose time the page was published in, as Fundus picks parser versions: layouts
    in order of ``valid_until`` (the current one, ``None``, last), the first still valid on the
    page's publication day. No layout proves it: the fallback."""
    proven = [parser for parser in parsers if parser.matches(page)]
    if len(proven) <= 1:
        return proven[0] if proven else FallbackParser
    published = PageMetadata(page).meta_published()
    by_age = sorted(proven, key=lambda p: (p.layout.valid_until is None, p.layout.valid_until or date.max))
    if published is None:
        return by_age[-1]
    for parser in by_age:
        until = parser.layout.valid_until
        if until is None or published.date() <= until:
            return parser
    return by_age[-1]


def parse_page(html: str, url: str, page: Page | None = None) -> RawArticle:
    """Read an article page; raise ``NotAnArticle`` for anything else. ``page``: the
    already parsed page, when the caller needs its tree too (the spider reads its links)."""
    page = page or Page(html, url)
    if page.is_amp:
        raise NotAnArticle("AMP copy")
    if page.is_print:
        raise NotAnArticle("print copy")
    address = _address(page, url)
    ref = article_ref(address)
    if ref is None or ref.section is None:
        raise NotAnArticle("not an article address")
    raw = choose_parser(page)(page, ref, address).parse()
    raw.extractor_version = EXTRACTOR_VERSION
    return raw


def extract(html: str, url: str, crawled_at: datetime | None = None) -> dict[str, Any]:
    """The cleaned SPEC record of an article page."""
    return as_record(clean(parse_page(html, url), crawled_at))


def extract_bytes(body: bytes, url: str, content_type: str | None = None) -> dict[str, Any]:
    """Like :func:`extract`, from undecoded bytes (charset from BOM, header, meta, or sniffed)."""
    return extract(decode_html(body, content_type).text, url)
