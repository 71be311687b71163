"""The two shapes an article takes on its way through the crawler.

``RawArticle`` is what a page object reads off a page: text already decoded
and whitespace-folded, but body blocks still carrying datelines, source lines,
"Read also" links and whatever chrome a fallback parser let through. Its
fields are the page's, not the record's, so it is written out by hand.

``Article`` is the cleaned record of the SPEC. Its exported fields are
generated from ``arabtoday/schema.py`` (names, order, annotations, defaults),
so that adding a field to the schema adds it here and to every export; the
internal attributes below follow them and are never exported (the feed
exporters write ``EXPORT_FIELDS`` only). Fields are keyword-only: a field with
a default (one that older producers do not set yet) may sit anywhere in the
record's order.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from arabtoday.schema import EXPORT_FIELDS, FIELDS, NO_DEFAULT

__all__ = ["EXPORT_FIELDS", "INTERNAL_FIELDS", "REQUIRED_FIELDS", "Article", "RawArticle"]


@dataclass(slots=True)
class RawArticle:
    url: str  # canonical address
    lang: str
    number: str  # numeric id within the edition
    extractor: str  # parser that produced the body ("article-v1", "fallback")
    title: str | None = None
    section: str | None = None
    published_at: str | None = None
    modified_at: str | None = None
    dateline: str | None = None  # when the markup says which block it is
    source: str | None = None  # likewise, without its label
    image_url: str | None = None
    image_caption: str | None = None
    kicker: str | None = None
    tags: list[str] = field(default_factory=list)
    blocks: list[str] = field(default_factory=list)
    fallback_fields: list[str] = field(default_factory=list)  # fields filled from metadata, not selectors
    extractor_version: str = ""  # version of the extraction code; "" until the parsers set it
    lastmod: str | None = None  # what the sitemap/feed said, for the incremental state
    requested_id: str | None = None  # the id the request was made for (differs after an id-changing redirect)

    @property
    def id(self) -> str:
        return f"{self.lang}-{self.number}"

    def __repr__(self) -> str:  # log lines name the article, not its whole text
        return f"RawArticle({self.id} {self.url})"


def _record_field(spec: Any) -> tuple[str, Any, Any]:
    """``make_dataclass`` entry of one schema field: name, annotation, default if any."""
    if spec.default is NO_DEFAULT:
        return spec.name, spec.annotation, field()
    return spec.name, spec.annotation, field(default=spec.default)


# Not exported: kept on the record for the state and the report.
_INTERNAL: tuple[tuple[str, Any, Any], ...] = (
    # what the sitemap or feed said when the page was found, for the incremental state
    ("lastmod", str | None, field(default=None, compare=False)),
    # "new" or "updated" (a changed text), for the report
    ("change", str, field(default="new", compare=False)),
    # the id the request was made for (differs after an id-changing redirect)
    ("requested_id", str | None, field(default=None, compare=False)),
)
INTERNAL_FIELDS: tuple[str, ...] = tuple(name for name, _, _ in _INTERNAL)


def _article_repr(self: Any) -> str:
    return f"Article({self.id} {self.url})"


Article = dataclasses.make_dataclass(
    "Article",
    [_record_field(f) for f in FIELDS] + list(_INTERNAL),
    namespace={"__repr__": _article_repr, "__module__": __name__,
               "__doc__": "The SPEC record (fields from arabtoday.schema) plus internal attributes."},
    slots=True,
    kw_only=True,
)
Article.__module__ = __name__  # slots=True rebuilds the class: name its home module for pickling and repr

REQUIRED_FIELDS = ("title", "body", "published_at")
