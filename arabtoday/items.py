"""The two shapes an article takes on its way through the crawler, both generated
from the record schema (``arabtoday/schema.py``) so that a field is declared once.

``RawArticle`` is what a page object reads off a page: text already decoded
and whitespace-folded, but body blocks still carrying datelines, source lines,
"Read also" links and whatever chrome a fallback parser let through. It has
the page-only attributes listed here, plus every schema field marked
``copied`` (the page gives it as is; cleaning copies it over with
:func:`copied_fields`).

``Article`` is the cleaned record of the SPEC: the schema's fields in order
(names, annotations, defaults), then internal attributes that are never
exported (the feed exporters write ``EXPORT_FIELDS`` only).

Both are keyword-only slotted dataclasses: a field with a default (one older
producers do not set yet) may sit anywhere in the record's order.
"""

from __future__ import annotations

import dataclasses
from dataclasses import field
from typing import Any

from arabtoday.schema import EXPORT_FIELDS, FIELDS, NO_DEFAULT, REMOVED, SUPERSEDED, Field

__all__ = ["EXPORT_FIELDS", "INTERNAL_FIELDS", "REQUIRED_FIELDS", "Article", "Gone", "RawArticle", "Removed",
           "Superseded", "as_record", "copied_fields"]

REQUIRED_FIELDS = ("title", "body", "published_at")
# Copied fields every page object must give (the rest may be missing from a page: None).
PAGE_IDENTITY = ("url", "lang", "extractor")

_Spec = tuple[str, Any, Any]  # make_dataclass entry: name, annotation, dataclasses.field

# Not exported: kept on the record for the state and the report.
_INTERNAL: tuple[_Spec, ...] = (
    # what the sitemap or feed said when the page was found, for the incremental state
    ("lastmod", str | None, field(default=None, compare=False)),
    # "new" or "updated" (a changed text), for the report
    ("change", str, field(default="new", compare=False)),
    # the id the request was made for (differs after an id-changing redirect)
    ("requested_id", str | None, field(default=None, compare=False)),
    # lines written right after the record: the copies this article turns out to be the original of
    ("events", list[Any], field(default_factory=list, compare=False)),
    # its MinHash fingerprint, when computed ahead in another process (``arabtoday extract --jobs``)
    ("fingerprint", Any, field(default=None, repr=False, compare=False)),
)
INTERNAL_FIELDS: tuple[str, ...] = tuple(name for name, _, _ in _INTERNAL)

# What only the page object knows, before cleaning: not record fields.
_PAGE_ONLY: tuple[_Spec, ...] = (
    ("number", str, field()),  # numeric id within the edition
    ("title", str | None, field(default=None)),
    ("section", str | None, field(default=None)),
    ("dateline", str | None, field(default=None)),  # when the markup says which block it is
    ("source", str | None, field(default=None)),  # likewise, without its label
    ("image_caption", str | None, field(default=None)),
    ("kicker", str | None, field(default=None)),
    ("tags", list[str], field(default_factory=list)),
    ("blocks", list[str], field(default_factory=list)),
    ("fallback_fields", list[str], field(default_factory=list)),  # filled from metadata, not selectors
    ("lastmod", str | None, field(default=None)),  # what the sitemap said, for the incremental state
    ("requested_id", str | None, field(default=None)),  # the id the request was made for
    # ``clean(self)``, when it was computed ahead in another process (``arabtoday extract --jobs``)
    ("cleaned", Any, field(default=None, repr=False, compare=False)),
)


def _default(value: Any) -> Any:
    """A dataclass field's default: a list default is made anew for each item."""
    return field(default_factory=list) if isinstance(value, list) else field(default=value)


def _record_spec(spec: Field) -> _Spec:
    """An exported field: the schema's annotation; required unless the schema gives a default."""
    if spec.default is NO_DEFAULT:
        return spec.name, spec.annotation, field()
    return spec.name, spec.annotation, _default(spec.default)


def _raw_spec(spec: Field) -> _Spec:
    """A copied field on the raw article: optional (a page may lack it) unless it identifies the page."""
    if spec.name in PAGE_IDENTITY:
        return spec.name, spec.kind.python, field()
    if spec.default is NO_DEFAULT or spec.default is None:
        return spec.name, spec.kind.python | None, field(default=None)
    return spec.name, spec.annotation, _default(spec.default)


def _raw_repr(self: Any) -> str:  # log lines name the article, not its whole text
    return f"RawArticle({self.id} {self.url})"


def _raw_id(self: Any) -> str:
    return f"{self.lang}-{self.number}"


def _article_repr(self: Any) -> str:
    return f"Article({self.id} {self.url})"


def _dataclass(name: str, specs: list[_Spec], namespace: dict[str, Any]) -> type:
    cls = dataclasses.make_dataclass(name, specs, namespace={"__module__": __name__, **namespace}, slots=True,
                                     kw_only=True)
    cls.__module__ = __name__  # slots=True rebuilds the class: name its home module for pickling and repr
    return cls


def raw_article_class(fields: tuple[Field, ...] = FIELDS) -> type:
    """``RawArticle`` for a schema (a function, so that tests can add a field and see it flow through)."""
    copied = [_raw_spec(f) for f in fields if f.copied]
    return _dataclass("RawArticle", copied + list(_PAGE_ONLY), {
        "__doc__": "What a page object reads off an article page (copied schema fields + page-only ones).",
        "__repr__": _raw_repr, "id": property(_raw_id)})


def article_class(fields: tuple[Field, ...] = FIELDS) -> type:
    """``Article`` for a schema: its fields in order, then the internal attributes."""
    return _dataclass("Article", [_record_spec(f) for f in fields] + list(_INTERNAL), {
        "__doc__": "The SPEC record (fields from arabtoday.schema) plus internal attributes.",
        "__repr__": _article_repr})


RawArticle = raw_article_class()
Article = article_class()
_COPIED = tuple(f.name for f in FIELDS if f.copied)


def copied_fields(raw: Any, names: tuple[str, ...] = _COPIED) -> dict[str, Any]:
    """The record fields a raw article hands over unchanged: ``Article(**copied_fields(raw), ...)``."""
    return {name: getattr(raw, name) for name in names}


# -- lines of history ------------------------------------------------------------------------------------------------
# Not an article's record: what the dataset learns about one. Their fields are the schema's (see
# ``schema.required_for``); ``requested_id`` and ``outcome`` are internal: the account the line closes
# in the ledger, and in which bucket (None: the line closes no account of this run).


@dataclasses.dataclass(slots=True, kw_only=True)
class Superseded:
    """``status: superseded``: ``id`` republishes ``duplicate_of``, published earlier (the original)."""

    id: str
    url: str
    lang: str
    status: str = SUPERSEDED
    crawled_at: str
    duplicate_of: str
    requested_id: str | None = None
    outcome: tuple[str, str] | None = None
    lastmod: str | None = None  # what the sitemap said of the copy when it was fetched (not refetched until it moves)

    def __repr__(self) -> str:
        return f"Superseded({self.id} by {self.duplicate_of})"


@dataclasses.dataclass(slots=True, kw_only=True)
class Removed:
    """``status: removed``: the site took the article down (``removed_reason``)."""

    id: str
    url: str
    lang: str
    status: str = REMOVED
    crawled_at: str
    removed_at: str
    removed_reason: str
    requested_id: str | None = None
    outcome: tuple[str, str] | None = None
    lastmod: str | None = None  # what the sitemap said when the removal was found (not refetched until it moves)

    def __repr__(self) -> str:
        return f"Removed({self.id} {self.removed_reason})"


@dataclasses.dataclass(slots=True, kw_only=True)
class Gone:
    """What the spider saw at an article's address: it no longer serves the article (404, 410, or a recheck
    that found something else there). Never exported: the history pipeline decides what it means."""

    id: str
    url: str
    lang: str
    reason: str  # http_404, http_410, gone_from_sitemaps
    crawled_at: str
    requested_id: str | None = None
    lastmod: str | None = None

    def __repr__(self) -> str:
        return f"Gone({self.id} {self.reason})"


HISTORY_LINES = (Superseded, Removed)


def as_record(item: Any) -> dict[str, Any]:
    """A line of the dataset as a plain dict, in the schema's order: the fields the item has."""
    record = {name: getattr(item, name) for name in EXPORT_FIELDS if hasattr(item, name)}
    for name in ("tags", "copies"):
        if name in record:
            record[name] = list(record[name])
    return record
