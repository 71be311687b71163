"""A parsed page with the small lookups every parser shares.

Each helper is layout-independent: CSS lookups that return normalised text,
JSON-LD objects, OpenGraph and ``<time>`` metadata.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from functools import cached_property
from typing import Any

from lxml import etree
from parsel import Selector

from arabtoday.extraction import selectors as S
from arabtoday.extraction.html import element_text
from arabtoday.text import normalize
from arabtoday.urls import absolute, strip_tracking

logger = logging.getLogger(__name__)

NEWS_TYPES = frozenset({"NewsArticle", "Article", "ReportageNewsArticle", "AnalysisNewsArticle", "BlogPosting",
                        "WebPage", "AnalysisArticle"})


class Page:
    def __init__(self, html: str, url: str) -> None:
        self.url = url
        self.sel = Selector(text=html or "<html></html>", type="html", base_url=url)

    @property
    def root(self) -> etree._Element:
        return self.sel.root

    def first(self, *queries: str) -> str | None:
        """First non-empty result of the queries (``::attr``/``::text`` queries)."""
        for query in queries:
            for value in self.sel.css(query).getall():
                value = normalize(value)
                if value:
                    return value
        return None

    def text(self, css: str, scope: Selector | None = None) -> str | None:
        """Visible text of the first element matching ``css``."""
        for node in (scope or self.sel).css(css):
            value = element_text(node.root)
            if value:
                return value
        return None

    def texts(self, css: str) -> list[str]:
        return [t for t in (element_text(n.root) for n in self.sel.css(css)) if t]

    def url_of(self, *queries: str) -> str | None:
        href = self.first(*queries)
        return absolute(href, self.url) if href else None

    @cached_property
    def canonical(self) -> str | None:
        href = self.url_of(S.CANONICAL)
        return strip_tracking(href) if href else None

    @cached_property
    def is_amp(self) -> bool:
        return bool(self.sel.css(S.AMP_MARKER))

    @cached_property
    def is_print(self) -> bool:
        onload = self.sel.css("body::attr(onload)").get() or ""
        return "print(" in onload

    @cached_property
    def jsonld(self) -> list[dict[str, Any]]:
        """News-article-like JSON-LD objects (``@graph`` flattened). Broken JSON is skipped, with a log line."""
        found = []
        for raw in self.sel.css(S.JSONLD).getall():
            try:
                data = json.loads(raw)
            except ValueError as exc:
                logger.debug("invalid JSON-LD on %s: %s", self.url, exc)
                continue
            found.extend(o for o in _objects(data) if _types(o) & NEWS_TYPES)
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
