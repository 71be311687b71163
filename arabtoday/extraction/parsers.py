"""One parser per layout, plus the fallback for layouts no selector matches.

Every attribute is a small method on shared helpers (after Fundus): the layout
parser tries its selectors first and the embedded metadata second, the
fallback parser reads metadata only and takes the body from trafilatura.
Fields that came from metadata rather than selectors are listed in
``RawArticle.fallback_fields`` so the run report can count them.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import ClassVar

from lxml import etree

from arabtoday.cleaning.dates import find_site_dates, find_text_dates, iso, parse_any, parse_iso, parse_site_date
from arabtoday.cleaning.record import is_boilerplate
from arabtoday.cleaning.text import fold_for_match, normalize
from arabtoday.extraction import selectors as S
from arabtoday.extraction.cascade import (
    DENSE_BLOCK,
    GENERIC,
    GENERIC_RECALL,
    LD_BODY,
    TRAFILATURA_FAST,
    TRAFILATURA_PRECISION,
    TRAFILATURA_RECALL,
    Candidate,
    PageText,
    decide,
    dense_blocks,
    generic_blocks,
    ld_body_blocks,
)
from arabtoday.extraction.html import element_text, is_junk, text_blocks
from arabtoday.extraction.page import Page, ld_text, parse_html
from arabtoday.items import RawArticle
from arabtoday.site.addresses import ArticleRef, absolute

logger = logging.getLogger(__name__)

CAPTION_MAX_WORDS = 30
# A date above the headline counts this many times its distance (see MetadataMixin._written_date).
BEFORE_TITLE_PENALTY = 3
SITE_NAMES = frozenset(fold_for_match(n) for n in ("Arab Today", "Arabs Today", "arabstoday", "arabstoday.net",
                                                    "العرب اليوم"))
_ESCAPED_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")
TITLE_SEPARATOR = re.compile(r"(\s+(?:::|[-|–—»«])\s+)")
EARLIEST_PUBLICATION = datetime(1994, 1, 1, tzinfo=timezone.utc)
INVISIBLE_TAGS = frozenset({"script", "style", "noscript", "template", "svg"})

# Section names as the site's navigation shows them: the last resort when
# neither the page nor its metadata names the section.
SECTION_NAMES = {
    "en": {"politics": "Politics", "middle-east": "Middle East", "economy": "Economy", "sports": "Sports",
           "culture": "Culture", "technology": "Technology"},
    "ar": {"politics": "سياسة", "middle-east": "الشرق الأوسط", "economy": "اقتصاد", "sports": "رياضة",
           "culture": "ثقافة", "technology": "تكنولوجيا"},
}


class MetadataMixin:
    """Fields read from JSON-LD, OpenGraph and ``<time>``: the same on every layout."""

    page: Page

    def meta_title(self) -> str | None:
        """The headline the page gives search engines, without the site's name
        and with entities a CMS escaped twice (``&amp;quot;`` in the markup) decoded."""
        title = ld_text(self.page.ld("headline")) or self.page.meta(*S.META_TITLE)
        if title and _ESCAPED_ENTITY.search(title):
            title = normalize(html.unescape(title))
        return strip_site_name(title, self.page.meta(*S.META_SITE_NAME))

    def meta_published(self) -> datetime | None:
        """The first publication time in the metadata that parses: a value
        given twice, or in the wrong attribute, must not hide a good one."""
        for value in self._published_values():
            dt = parse_any(value)
            if dt:
                return dt
        return None

    def _published_values(self) -> Iterator[str]:
        for obj in self.page.jsonld:
            value = ld_text(obj.get("datePublished"))
            if value:
                yield value
        loose = self.page.ld_loose("datePublished")
        if loose:
            yield loose
        for key in S.META_PUBLISHED_KEYS:
            yield from self.page.meta_by_key.get(key, ())
        for el in self.page.css(S.ITEMPROP_PUBLISHED):
            value = el.get("content") or el.get("datetime") or element_text(el)
            if value:
                yield value
        for query in S.TIME_PUBLISHED:
            yield from (str(v) for v in self.page.css(query))

    def meta_modified(self) -> datetime | None:
        return parse_iso(ld_text(self.page.ld("dateModified")) or self.page.meta(*S.META_MODIFIED))

    def meta_section(self) -> str | None:
        return (ld_text(self.page.ld("articleSection")) or self.page.meta(*S.META_SECTION)
                or self._breadcrumb_section())

    def _breadcrumb_section(self) -> str | None:
        crumbs = self.page.texts(S.BREADCRUMB_LINKS)
        return crumbs[-1] if len(crumbs) > 1 else None

    def meta_image(self) -> str | None:
        image = self.page.ld("image")
        url = ld_text(image) if image else self.page.meta(*S.META_IMAGE)
        return absolute(url, self.page.url) if url else None

    def meta_caption(self) -> str | None:
        image = self.page.ld("image")
        caption = ld_text(image.get("caption")) if isinstance(image, dict) else None
        return (caption or self.page.text(S.FIGCAPTION) or self._text_beside_lead_image()
                or self.page.meta(*S.META_IMAGE_ALT))

    def _text_beside_lead_image(self) -> str | None:
        """The short text that shares a container with the lead picture: a
        caption whatever its class is called."""
        lead = self.meta_image()
        if not lead:
            return None
        for img in self.page.css("img"):
            src = absolute(img.get("src"), self.page.url)
            parent = img.getparent()
            if src != lead or parent is None:
                continue
            text = element_text(parent)
            if text and len(text.split()) <= CAPTION_MAX_WORDS and text != self.meta_title():
                return text
        return None

    def meta_tags(self) -> list[str]:
        keywords = self.page.ld("keywords")
        if isinstance(keywords, str):
            return [k for k in (normalize(k) for k in keywords.split(",")) if k]
        if isinstance(keywords, list):
            return [k for k in (normalize(str(k)) for k in keywords) if k]
        tags = [normalize(t) for t in self.page.css(S.META_TAGS, self.page.head) if normalize(t)]
        return tags or list(dict.fromkeys(self.page.texts(S.TAG_LINKS)))

    def text_date(self) -> datetime | None:
        """A date stated in the page's text: the site's own format anywhere in
        the article area (never the header clock: it has no year), else a date
        written in words or numbers nearest the headline, else htmldate's
        heuristics (the last resort: they know no Arabic month)."""
        scope = self.page.css("article, main, [role=main]") or self.page.css("body")
        for node in scope:
            dates = find_site_dates(" ".join(node.itertext()))
            if dates:
                return dates[0]
        return self._written_date() or self._htmldate()

    def _written_date(self) -> datetime | None:
        body = self.page.root.find("body")
        if body is None:
            return None
        text = "\n".join(text_blocks(body, _not_visible))
        dates = [(pos, dt) for pos, dt in find_text_dates(text) if _plausible_publication(dt)]
        if not dates:
            return None
        title = normalize(self.meta_title() or self.page.text("h1") or "")
        anchor = text.find(title) if title else -1
        anchor = max(anchor, 0)
        # after the headline is where old pages put the date; a date above it is more often the site's clock
        return min(dates, key=lambda d: d[0] - anchor if d[0] >= anchor else BEFORE_TITLE_PENALTY * (anchor - d[0]))[1]

    def _htmldate(self) -> datetime | None:
        import htmldate  # imported where needed: most pages have their date before this last resort

        try:
            tree = parse_html(self.page.html, html_elements=True)  # htmldate takes lxml.html trees only
            found = htmldate.find_date(tree, original_date=True, url=self.page.url, extensive_search=True)
        except (ValueError, TypeError, RecursionError, etree.LxmlError) as exc:
            logger.debug("htmldate failed on %s: %s", self.page.url, exc)
            return None
        dt = parse_iso(found) if found else None
        return dt if dt and _plausible_publication(dt) else None


def strip_site_name(title: str | None, site_name: str | None = None) -> str | None:
    """``<title>`` without the site's name at either end ("Arab Today :: Headline",
    "Headline | Publisher"): ours, or the page's ``og:site_name``. The rest is kept as written."""
    if not title:
        return title
    names = SITE_NAMES | ({fold_for_match(site_name)} if site_name else set())
    pieces = TITLE_SEPARATOR.split(title)  # text, separator, text, ... (the pattern captures)
    while len(pieces) > 2 and fold_for_match(pieces[0]) in names:
        pieces = pieces[2:]
    while len(pieces) > 2 and fold_for_match(pieces[-1]) in names:
        pieces = pieces[:-2]
    return normalize("".join(pieces))


def _not_visible(el: etree._Element) -> bool:
    return not isinstance(el.tag, str) or el.tag in INVISIBLE_TAGS


def _plausible_publication(dt: datetime) -> bool:
    """Not before the web, not after now (a date in the future is an event date, not a publication)."""
    return EARLIEST_PUBLICATION <= dt <= datetime.now(timezone.utc) + timedelta(days=1)


class ArticleParser(MetadataMixin):
    """Base of every parser: fills a ``RawArticle`` attribute by attribute."""

    name: ClassVar[str]

    def __init__(self, page: Page, ref: ArticleRef, url: str) -> None:
        self.page, self.ref, self.url = page, ref, url
        self.fallback_fields: list[str] = []

    def pick(self, field: str, primary: Callable[[], object], *fallbacks: Callable[[], object]) -> object:
        """The primary value, else the first fallback that has one (recorded)."""
        value = primary()
        if value:
            return value
        for fallback in fallbacks:
            value = fallback()
            if value:
                self.fallback_fields.append(field)
                return value
        return value

    def parse(self) -> RawArticle:
        published = self.published()
        modified = self.modified()
        body = self.body()
        own = body.name == self.name  # the markup hints below describe this parser's body only
        return RawArticle(
            url=self.url, lang=self.ref.lang, number=self.ref.number, extractor=body.name,
            title=self.title(), section=self.section(),
            published_at=iso(published) if published else None,
            modified_at=iso(modified) if modified and (not published or modified > published) else None,
            dateline=self.dateline() if own else None, source=self.source() if own else None,
            image_url=self.image_url(), image_caption=self.image_caption(), kicker=self.kicker(), tags=self.tags(),
            blocks=body.blocks, fallback_fields=self.fallback_fields,
        )

    def body(self) -> Candidate:
        """The body as a decision between candidates (see :mod:`arabtoday.extraction.cascade`)."""
        text = PageText(self.page, is_boilerplate)
        return decide(self.body_candidates(text), text)

    def body_candidates(self, text: PageText) -> list[tuple[str, Callable[[], list[str]]]]:
        """Every way this parser can find the body, most specific first (run lazily, in order)."""
        dense = (DENSE_BLOCK, lambda: dense_blocks(text))
        generic = [
            (GENERIC, lambda: generic_blocks(self.page, TRAFILATURA_FAST)),
            (GENERIC, lambda: generic_blocks(self.page, TRAFILATURA_PRECISION)),
            (GENERIC_RECALL, lambda: generic_blocks(self.page, TRAFILATURA_RECALL)),
            (LD_BODY, lambda: ld_body_blocks(self.page.ld("articleBody"))),
        ]
        return [dense, *generic] if text.table_layout else [*generic, dense]

    def default_section(self) -> str | None:
        return SECTION_NAMES.get(self.ref.lang, {}).get(self.ref.section or "")

    def modified(self) -> datetime | None:
        return self.meta_modified()

    # each parser defines these
    def blocks(self) -> list[str]: return []
    def title(self) -> str | None: raise NotImplementedError
    def section(self) -> str | None: raise NotImplementedError
    def published(self) -> datetime | None: raise NotImplementedError
    def dateline(self) -> str | None: raise NotImplementedError
    def source(self) -> str | None: raise NotImplementedError
    def image_url(self) -> str | None: raise NotImplementedError
    def image_caption(self) -> str | None: raise NotImplementedError
    def kicker(self) -> str | None: raise NotImplementedError
    def tags(self) -> list[str]: raise NotImplementedError


class LayoutParser(ArticleParser):
    """Selectors of one known layout (``selectors.Layout``), metadata behind each."""

    layout: ClassVar[S.Layout]

    @classmethod
    def matches(cls, page: Page) -> bool:
        """The page must prove it is this layout's: every selector of
        ``layout.proof`` matches (one common class name such as
        ``article-body`` is found on unrelated sites, several together are not)."""
        return all(page.css(query) for query in cls.layout.proof)

    def body_candidates(self, text: PageText) -> list[tuple[str, Callable[[], list[str]]]]:
        return [(self.name, self.blocks), *super().body_candidates(text)]

    @cached_property
    def _scope(self) -> etree._Element:
        """The article's container: lookups inside it are cheaper than over the whole page."""
        found = self.page.css(self.layout.scope)
        return found[0] if found else self.page.root

    def find(self, css: str) -> str | None:
        return self.page.text(css, self._scope)

    def title(self) -> str | None:
        return self.pick("title", lambda: self.find(self.layout.title), self.meta_title)

    def section(self) -> str | None:
        return self.pick("section", lambda: self.find(self.layout.section), self.meta_section,
                         self.default_section)

    def published(self) -> datetime | None:
        return self.pick("published_at", lambda: parse_site_date(self.find(self.layout.date)),
                         self.meta_published, self.text_date)

    def dateline(self) -> str | None:
        if self._body is None:
            return None
        return self.page.text(self.layout.dateline, self._body) or self._leading_strong()

    def _leading_strong(self) -> str | None:
        """``<p><strong>Damascus - Arab Today</strong> text…</p>``: a dateline run into the first paragraph."""
        from arabtoday.cleaning.record import split_dateline

        first = self.page.css("p", self._body)[:1]
        strong = self.page.css("p > strong:first-child, p > b:first-child", first[0]) if first else []
        if strong and not normalize(first[0].text):
            text = element_text(strong[0])
            if split_dateline(text)[0] is not None:
                return text
        return None

    def source(self) -> str | None:
        return self.page.text(self.layout.source, self._body) if self._body is not None else None

    def image_url(self) -> str | None:
        src = self.page.first(self.layout.image, scope=self._scope)
        return absolute(src, self.page.url) if src else self.meta_image()

    def image_caption(self) -> str | None:
        return self.find(self.layout.caption)

    def kicker(self) -> str | None:
        return self.find(self.layout.kicker)

    def tags(self) -> list[str]:
        found = [t for t in (element_text(n) for n in self.page.css(self.layout.tags, self._scope)) if t]
        return found or self.meta_tags()

    @cached_property
    def _body(self) -> etree._Element | None:
        """The first body container with text: an empty one (a placeholder, a
        container closed early by a stray tag) is not the article's."""
        found = self.page.css(self.layout.body, self._scope)
        for node in found:
            if normalize("".join(node.itertext())):
                return node
        return found[0] if found else None

    def blocks(self) -> list[str]:
        body = self._body
        if body is None:
            return []
        # lxml returns the same proxy for a node while a reference to it is
        # alive, and this set keeps them alive: membership is identity.
        queries = (self.layout.junk, self.layout.dateline, self.layout.source)
        marked = {n for q in queries for n in self.page.css(q, body)}
        return text_blocks(body, lambda el: el in marked or is_junk(el))


class ArticleV1(LayoutParser):
    layout = S.ARTICLE_V1
    name = S.ARTICLE_V1.name


class FallbackParser(ArticleParser):
    """No known layout: metadata for the fields, trafilatura for the body.

    trafilatura is a well-kept generic main-text extractor; what it lets
    through (datelines, source lines, "Read also" links, captions) is removed
    by the same cleaning as on the selector path.
    """

    name = "fallback"

    def title(self) -> str | None:
        return self.meta_title() or self.page.text("h1") or strip_site_name(self.page.first("title::text"),
                                                                           self.page.meta(*S.META_SITE_NAME))

    def section(self) -> str | None:
        return self.meta_section() or self.default_section()

    def published(self) -> datetime | None:
        return self.meta_published() or self.text_date()

    def dateline(self) -> str | None:
        return None

    def source(self) -> str | None:
        return None

    def image_url(self) -> str | None:
        return self.meta_image()

    def image_caption(self) -> str | None:
        return self.meta_caption()

    def kicker(self) -> str | None:
        return None

    def tags(self) -> list[str]:
        return self.meta_tags()


class PageMetadata(MetadataMixin):
    """The metadata of a page alone (its publication time), before any parser is chosen."""

    def __init__(self, page: Page) -> None:
        self.page = page


# One parser class per Layout of selectors.LAYOUTS (a layout without its parser fails at import).
_PARSER_OF_LAYOUT: dict[str, type[LayoutParser]] = {parser.layout.name: parser for parser in (ArticleV1,)}
LAYOUT_PARSERS: tuple[type[LayoutParser], ...] = tuple(_PARSER_OF_LAYOUT[layout.name] for layout in S.LAYOUTS)
