"""A parsed page with the small lookups every parser shares.

Each helper is layout-independent: CSS lookups that return normalised text,
JSON-LD objects, OpenGraph and ``<time>`` metadata.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterator
from functools import cached_property, lru_cache
from typing import Any

from lxml import etree
from lxml import html as lxml_html
from parsel.csstranslator import HTMLTranslator

from arabtoday.cleaning.text import normalize
from arabtoday.extraction import selectors as S
from arabtoday.extraction.depth import TRUNCATION_DEPTH, flatten, too_deep
from arabtoday.extraction.html import element_text
from arabtoday.site.addresses import absolute, strip_tracking

logger = logging.getLogger(__name__)

NEWS_TYPES = frozenset({"NewsArticle", "Article", "ReportageNewsArticle", "AnalysisNewsArticle", "BlogPosting",
                        "WebPage", "AnalysisArticle"})


@lru_cache(maxsize=512)
def compiled(css: str) -> etree.XPath:
    """CSS (with parsel's ``::text``/``::attr()``) compiled once to an lxml XPath:
    evaluating it on the raw tree skips parsel's per-call wrappers, which cost
    more than the lookups themselves."""
    return etree.XPath(_TRANSLATOR.css_to_xpath(css))


_TRANSLATOR = HTMLTranslator()


_PARSERS = threading.local()  # an lxml parser is not to be shared between threads: one per thread, made once


def _parser(html_elements: bool) -> etree.HTMLParser:
    key = "lxml_html" if html_elements else "plain"
    parser = getattr(_PARSERS, key, None)
    if parser is None:
        make = lxml_html.HTMLParser if html_elements else etree.HTMLParser
        parser = make(recover=True, encoding="utf-8", huge_tree=True)
        setattr(_PARSERS, key, parser)
    return parser


def parse_html(html: str, html_elements: bool = False) -> etree._Element:
    """The lxml tree of a page: parsel's parsing (same options, same input clean-up) on plain lxml
    elements. parsel's ``Selector`` made a parser per page, and ``lxml.html``'s element classes cost
    a Python class lookup for every element a walk touches (a tenth of the time on real pages); they
    are made only for trafilatura (``html_elements``), which accepts no other tree."""
    body = (html or "").strip().replace("\x00", "").encode("utf-8") or b"<html/>"
    parser = _parser(html_elements)
    root = etree.fromstring(body, parser=parser)
    return root if root is not None else etree.fromstring(b"<html/>", parser=parser)


class Page:
    def __init__(self, html: str, url: str) -> None:
        self.url = url
        self.root: etree._Element = parse_html(html)
        # True when the page was nested too deep for the parser and was re-read
        # with its deepest wrappers unwrapped (see arabtoday.extraction.depth).
        self.flattened = False
        self.html = html  # what ``root`` was parsed from (the fallback's generic extractor parses it again)
        if html.count("<") >= TRUNCATION_DEPTH and too_deep(self.root):  # fewer tags cannot nest that deep
            logger.warning("%s: nested deeper than the HTML parser holds; deepest wrappers unwrapped", url)
            self.html = flatten(html)
            self.root = parse_html(self.html)
            self.flattened = True

    def css(self, query: str, scope: etree._Element | None = None) -> list[Any]:
        """Elements (or strings, for ``::text``/``::attr``) matching ``query`` in ``scope`` (default: the page)."""
        return compiled(query)(self.root if scope is None else scope)

    @cached_property
    def head(self) -> etree._Element:
        """Where metadata lives: looking there only is several times faster than the whole page."""
        head = self.root.find("head")
        return head if head is not None else self.root

    def meta(self, *queries: str) -> str | None:
        """First non-empty result of metadata queries (``<meta>``, ``<link>``), looked up in ``<head>``."""
        return self.first(*queries, scope=self.head) or (self.first(*queries) if self.head is not self.root else None)

    def first(self, *queries: str, scope: etree._Element | None = None) -> str | None:
        """First non-empty result of the queries (``::attr``/``::text`` queries)."""
        for query in queries:
            for value in self.css(query, scope):
                value = normalize(str(value))
                if value:
                    return value
        return None

    def text(self, css: str, scope: etree._Element | None = None) -> str | None:
        """Visible text of the first element matching ``css``."""
        for node in self.css(css, scope):
            value = element_text(node)
            if value:
                return value
        return None

    def texts(self, css: str) -> list[str]:
        return [t for t in (element_text(n) for n in self.css(css)) if t]

    @cached_property
    def canonical(self) -> str | None:
        href = self.meta(S.CANONICAL)
        return strip_tracking(absolute(href, self.url) or href) if href else None

    @cached_property
    def is_amp(self) -> bool:
        return "amp" in self.root.attrib or "\u26a1" in self.root.attrib  # <html amp> or <html ⚡>

    @cached_property
    def is_print(self) -> bool:
        body = self.root.find("body")
        return body is not None and "print(" in (body.get("onload") or "")

    @cached_property
    def jsonld(self) -> list[dict[str, Any]]:
        """News-article-like JSON-LD objects (``@graph`` flattened). Broken JSON
        is kept aside (:meth:`ld_loose` reads it), with a log line."""
        found = []
        for raw in self.css(S.JSONLD):
            try:
                data = json.loads(raw, strict=False)  # raw newlines inside strings are common
            except ValueError as exc:
                logger.debug("invalid JSON-LD on %s: %s", self.url, exc)
                self._broken_jsonld.append(raw)
                continue
            found.extend(o for o in _objects(data) if _types(o) & NEWS_TYPES)
        return found

    @cached_property
    def _broken_jsonld(self) -> list[str]:
        return []

    def ld_loose(self, key: str) -> str | None:
        """A string value of ``key`` in JSON-LD that does not parse (a stray
        comma, an unescaped quote elsewhere): the publisher's data is still
        there, read with a pattern instead of a parser."""
        _ = self.jsonld  # fills _broken_jsonld
        pattern = re.compile(rf'"{re.escape(key)}"\s*:\s*"((?:[^"\\]|\\.)*)"')
        for raw in self._broken_jsonld:
            m = pattern.search(raw)
            if m:
                return normalize(m[1])
        return None

    @cached_property
    def meta_by_key(self) -> dict[str, list[str]]:
        """``<meta>`` contents by key (name, property or itemprop, lowercased), in page order."""
        found: dict[str, list[str]] = {}
        for el in self.root.iter("meta"):
            content = el.get("content")
            if not content:
                continue
            for attr in S.META_KEY_ATTRS:
                key = el.get(attr)
                if key:
                    found.setdefault(key.strip().lower(), []).append(content)
        return found

    def ld(self, key: str) -> Any:
        for obj in self.jsonld:
            value = obj.get(key)
            if value:
                return value
        return None


def _objects(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for item in data:
            yield from _objects(item)
    elif isinstance(data, dict):
        yield data
        if "@graph" in data:
            yield from _objects(data["@graph"])


def _types(obj: dict[str, Any]) -> set[str]:
    t = obj.get("@type")
    return set(t) if isinstance(t, list) else {t} if isinstance(t, str) else set()


def ld_text(value: Any) -> str | None:
    """A JSON-LD value that may be a string, a list, or an object with a name/url."""
    if isinstance(value, list):
        return ld_text(value[0]) if value else None
    if isinstance(value, dict):
        return ld_text(value.get("name") or value.get("url") or value.get("caption"))
    return normalize(str(value)) if value is not None else None
