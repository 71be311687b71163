"""The record schema: every exported field, once.

Each field of the SPEC record is declared here with its name, value kind,
nullability and description. Everything else that needs to know the record
derives from this one list, so that the JSON Lines, the JSON Schema shipped in
``schema/``, the Arrow/Parquet schema, the Hugging Face features, the README
table and the ``Article`` dataclass cannot drift apart:

* ``EXPORT_FIELDS`` and ``Article`` (``arabtoday/items.py``);
* :func:`json_schema` (``python -m arabtoday.schema --json-schema``, committed
  as ``schema/article.schema.json``; a test fails when it is stale);
* :func:`arrow_schema` (Parquet and ``datasets`` exports: every column typed,
  so a field that is null in every record of a file is still a string column);
* :func:`hf_features_yaml` (the dataset card's ``dataset_info.features``);
* :func:`markdown_table` (``python -m arabtoday.schema --markdown``, pasted
  into the README).

Adding a field: add a :class:`Field` to ``FIELDS``, bump ``SCHEMA_VERSION`` in
``arabtoday/version.py``, make the parser fill it and update the golden
fixtures (a field the page gives as is: ``copied=True``, and ``RawArticle``
carries it too). Nothing here imports pyarrow at import time: the crawl's hot path
only needs names and the JSON Schema.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from arabtoday.site.addresses import LANGS
from arabtoday.version import SCHEMA_VERSION

if TYPE_CHECKING:
    import pyarrow as pa

SCHEMA_ID = "urn:arabtoday:schema:article"  # the schema's name, not an address (schema/article.schema.json)
JSON_SCHEMA_DIALECT = "http://json-schema.org/draft-07/schema#"
# what arabtoday.cleaning.dates.iso writes
ISO_UTC_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"
ARTICLE_ID_PATTERN = r"^(en|ar)-[0-9]+$"

# What a line of the dataset says (its ``status``): an article as the site serves it, a copy found to
# republish another (its original in ``duplicate_of``), or an article the site took down.
LIVE, SUPERSEDED, REMOVED = "live", "superseded", "removed"
STATUSES = (LIVE, SUPERSEDED, REMOVED)
ALL_LINES = frozenset(STATUSES)
REMOVED_REASONS = ("http_404", "http_410", "gone_from_sitemaps")
# Where the page a record was read from came from: the site itself, or an archive's capture of it.
LIVE_ORIGIN, WAYBACK, COMMONCRAWL = "live", "wayback", "commoncrawl"
ORIGINS = (LIVE_ORIGIN, WAYBACK, COMMONCRAWL)
WARC_RECORD_ID_PATTERN = r"^<urn:uuid:[0-9a-f-]{36}>$"


class _NoDefault:
    """Marks a field every producer must set (``dataclasses.MISSING`` cannot be a field's own default)."""

    def __repr__(self) -> str:
        return "NO_DEFAULT"


NO_DEFAULT: Any = _NoDefault()


@dataclass(frozen=True, slots=True)
class Kind:
    """A value type, declared once in each of the type systems the record lives in.

    ``arrow`` names a constructor in :data:`_ARROW_TYPES` rather than holding a
    pyarrow type, so that importing the schema (every crawl does) costs no pyarrow.
    """

    label: str  # the README's type column
    python: Any  # the dataclass annotation
    json: Mapping[str, Any]  # JSON Schema, without null
    arrow: str  # key of _ARROW_TYPES
    hf: Mapping[str, str]  # the `datasets` YAML feature, without the name


STRING = Kind("str", str, {"type": "string"}, "string", {"dtype": "string"})
INT32_MAX = 2**31 - 1
INT = Kind("int", int, {"type": "integer", "minimum": 0, "maximum": INT32_MAX}, "int32", {"dtype": "int32"})
TIMESTAMP = Kind("str (ISO 8601 UTC)", str, {"type": "string", "format": "date-time", "pattern": ISO_UTC_PATTERN},
                 "timestamp", {"dtype": "timestamp[ms, tz=UTC]"})
STRING_LIST = Kind("list[str]", list[str], {"type": "array", "items": {"type": "string"}}, "string_list",
                   {"list": "string"})


@dataclass(frozen=True, slots=True)
class Field:
    """One exported field of the record."""

    name: str
    kind: Kind
    description: str
    nullable: bool = False
    constraints: Mapping[str, Any] = field(default_factory=dict)  # extra JSON Schema (pattern, enum, minLength)
    # A default makes the field optional for producers that predate it (the
    # dataclass accepts its absence; the dataset export fills it in old files).
    default: Any = NO_DEFAULT
    label: str | None = None  # README type, when the kind's label says too little (an enum)
    # The page object reads it and cleaning copies it unchanged: ``RawArticle``
    # gets the attribute too (``arabtoday.items.copied_fields`` hands them over).
    copied: bool = False
    # The kinds of line (``status``) that must carry it: an article's own record only, by default.
    required_in: frozenset[str] = frozenset({LIVE})

    @property
    def type_label(self) -> str:
        base = self.label or self.kind.label
        return f"{base}/null" if self.nullable else base

    @property
    def annotation(self) -> Any:
        return self.kind.python | None if self.nullable else self.kind.python

    def json_schema(self) -> dict[str, Any]:
        schema = {**self.kind.json, **self.constraints, "description": self.description}
        if self.nullable:
            schema["type"] = [schema["type"], "null"]
        return schema


FIELDS: tuple[Field, ...] = (
    Field("id", STRING, "`{lang}-{numeric id}`, e.g. `en-104257`: stable across runs and addresses",
          constraints={"pattern": ARTICLE_ID_PATTERN}, required_in=ALL_LINES),
    Field("url", STRING, "canonical address (the page's `rel=canonical`; tracking parameters removed; "
          "never the AMP or print copy)", constraints={"pattern": r"^https?://\S+$"}, copied=True,
          required_in=ALL_LINES),
    Field("lang", STRING, "edition", constraints={"enum": list(LANGS)}, label="`en`/`ar`", copied=True,
          required_in=ALL_LINES),
    Field("status", STRING, "what the line says: `live` (the article as the site serves it), `superseded` (a "
          "copy of the article in `duplicate_of`, published later), `removed` (the site took it down)",
          constraints={"enum": list(STATUSES)}, label="`live`/`superseded`/`removed`", default=LIVE,
          required_in=ALL_LINES),
    Field("revision", INT, "1 for the first text of an article, then +1 each time the site changed it (an "
          "upgrade of our extractor is not a revision)", constraints={"minimum": 1}, default=1),
    Field("previous_hash", STRING, "`content_hash` of the revision before (null for the first)", nullable=True,
          constraints={"pattern": r"^[0-9a-f]{32}$"}, default=None),
    Field("section", STRING, "section name as the page shows it (`Middle East`, `الشرق الأوسط`)", nullable=True),
    Field("title", STRING, "headline", constraints={"minLength": 1}),
    Field("published_at", TIMESTAMP, "publication time, `2017-10-15T06:49:00Z`; never the \"Last Updated\" clock",
          copied=True),
    Field("modified_at", TIMESTAMP, "when the page's metadata says it was edited", nullable=True, copied=True),
    Field("dateline", STRING, "`Kobane (Syria) - AFP`", nullable=True),
    Field("author", STRING, "the reporter a dateline names; null for agencies and \"Arab Today\"", nullable=True),
    Field("source", STRING, "agency from the source line, without its label (`AFP`, `وكالات`)", nullable=True),
    Field("image_url", STRING, "address of the lead picture", nullable=True, copied=True),
    Field("image_caption", STRING, "caption of the lead picture", nullable=True),
    Field("body", STRING, "paragraphs joined by a blank line; subheads kept, without AFP's `- … -`",
          constraints={"minLength": 1}),
    Field("tags", STRING_LIST, "the page's tags, in page order"),
    Field("word_count", INT, "words in `body`"),
    Field("content_hash", STRING, "hash of the normalised body (case, punctuation and Arabic letter variants "
          "folded): 32 hex digits", constraints={"pattern": r"^[0-9a-f]{32}$"}),
    Field("extractor", STRING, "which extractor produced the body: a layout's selectors (`article-v1`), or a "
          "fallback (`fallback`, `fallback-recall`, `fallback-ld-body`, `fallback-dense-block`)",
          constraints={"minLength": 1}, copied=True),
    Field("extractor_version", STRING, "version of the extraction code that produced the record (empty in "
          "records written before it was recorded)", default="", copied=True),
    Field("crawled_at", TIMESTAMP, "when the page was fetched (for a `superseded` or `removed` line: when that "
          "was found)", required_in=ALL_LINES),
    Field("origin", STRING, "where the page was read: `live` (the site), `wayback` (a capture of the Wayback "
          "Machine), `commoncrawl` (a record of a Common Crawl archive)", constraints={"enum": list(ORIGINS)},
          label="`live`/`wayback`/`commoncrawl`", default=LIVE_ORIGIN, copied=True),
    Field("captured_at", TIMESTAMP, "when the page was captured: the fetch time for `live`, the archive's "
          "timestamp otherwise (null in records written before it was recorded)", nullable=True, default=None,
          copied=True),
    Field("warc_file", STRING, "the WARC file holding the page as fetched, its name inside "
          "`ARABTODAY_WARC_DIR` (null without one)", nullable=True, default=None, copied=True),
    Field("warc_record_id", STRING, "the `WARC-Record-ID` of that file's `response` record for the page (null "
          "without a WARC directory)", nullable=True, default=None, constraints={"pattern": WARC_RECORD_ID_PATTERN},
          copied=True),
    Field("copies", STRING_LIST, "ids of the articles found to republish this one (as known when the line was "
          "written; `arabtoday export` gathers them all)", default=[]),
    Field("duplicate_of", STRING, "the original (published first; the lower id breaks ties): on a `superseded` "
          "line, and on a copy's own record with `ARABTODAY_EMIT_DUPLICATES`", nullable=True,
          constraints={"pattern": ARTICLE_ID_PATTERN}, default=None, required_in=frozenset({LIVE, SUPERSEDED})),
    Field("removed_at", TIMESTAMP, "when the site was found to have taken the article down (`removed` lines)",
          nullable=True, default=None, required_in=frozenset({LIVE, REMOVED})),
    Field("removed_reason", STRING, "why: `http_404`, `http_410` (the address answers so), `gone_from_sitemaps` "
          "(no source that listed it lists it any more, and its address no longer serves it)", nullable=True,
          constraints={"enum": [*REMOVED_REASONS, None]}, default=None, required_in=frozenset({LIVE, REMOVED})),
)

FIELDS_BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}
# The article's place in the dataset's history: set by the pipelines against the state (what earlier
# lines said), never read off a page.
HISTORY_FIELDS: tuple[str, ...] = ("status", "revision", "previous_hash", "copies", "removed_at", "removed_reason")
# Where and when the page was fetched, and where its bytes are kept: set from the fetch, never read off a page.
PROVENANCE_FIELDS: tuple[str, ...] = ("origin", "captured_at", "warc_file", "warc_record_id")
EXPORT_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS)
TIMESTAMP_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.kind is TIMESTAMP)
DEFAULTS: dict[str, Any] = {f.name: f.default for f in FIELDS if f.default is not NO_DEFAULT}


def required_for(status: str, fields: tuple[Field, ...] = FIELDS) -> list[str]:
    """The fields a line of that ``status`` must carry."""
    return [f.name for f in fields if status in f.required_in]


def _status_rules(status: str, fields: tuple[Field, ...]) -> dict[str, Any]:
    """What a line of that ``status`` must carry beyond every line's rules."""
    rules: dict[str, Any] = {"required": required_for(status, fields)}
    if status == SUPERSEDED:
        rules["properties"] = {"duplicate_of": {"type": "string"}}
    if status == REMOVED:
        rules["properties"] = {"removed_at": {"type": "string"}, "removed_reason": {"type": "string"}}
    return rules


def json_schema_for(status: str, fields: tuple[Field, ...] = FIELDS) -> dict[str, Any]:
    """The schema of the lines of one ``status``, flat (no ``allOf``): the same rules as
    :func:`json_schema` for those lines, for a validator that already knows the status (faster)."""
    schema = json_schema(fields)
    rules = _status_rules(status, fields)
    del schema["allOf"]
    schema["required"] = rules["required"]
    for name, narrower in rules.get("properties", {}).items():
        schema["properties"][name] = {**schema["properties"][name], **narrower}
    schema["properties"]["status"] = {**schema["properties"]["status"], "const": status}
    return schema


def json_schema(fields: tuple[Field, ...] = FIELDS) -> dict[str, Any]:
    """The JSON Schema (draft 7) of one line: the fields its ``status`` requires, nothing unknown.

    A ``live`` line is an article's whole record; a ``superseded`` line names a copy and its
    original (``duplicate_of``, never null there); a ``removed`` line says when and why."""
    by_status = [{"if": {"properties": {"status": {"const": status}}}, "then": _status_rules(status, fields)}
                 for status in STATUSES]
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": SCHEMA_ID,
        "title": "Arab Today article",
        "description": f"One line of the arabtoday JSON Lines dataset (schema version {SCHEMA_VERSION}).",
        "x-schema-version": SCHEMA_VERSION,
        "type": "object",
        "properties": {f.name: f.json_schema() for f in fields},
        "required": [f.name for f in fields if f.required_in == ALL_LINES],
        "allOf": by_status,
        "additionalProperties": False,
    }


def json_schema_text() -> str:
    """The committed file's exact text (stable key order, trailing newline)."""
    return json.dumps(json_schema(), ensure_ascii=False, indent=2) + "\n"


def _arrow_types() -> dict[str, pa.DataType]:
    import pyarrow as pa

    return {
        "string": pa.string(),
        "int32": pa.int32(),
        # Milliseconds: Parquet has no seconds unit, and a type every reader reads back
        # unchanged (pyarrow, pandas, polars, duckdb, datasets) is one type for all of them.
        "timestamp": pa.timestamp("ms", tz="UTC"),
        "string_list": pa.list_(pa.string()),
    }


def arrow_schema(fields: tuple[Field, ...] = FIELDS) -> pa.Schema:
    """The fixed Arrow schema: every column typed whatever a file's null pattern."""
    import pyarrow as pa

    types = _arrow_types()
    return pa.schema(
        [pa.field(f.name, types[f.kind.arrow], nullable=f.nullable, metadata={"description": f.description})
         for f in fields],
        metadata={"arabtoday.schema_version": SCHEMA_VERSION},
    )


def hf_features_yaml(indent: str = "  ", fields: tuple[Field, ...] = FIELDS) -> str:
    """``dataset_info.features`` of a dataset card, as YAML lines (values JSON-quoted, which YAML reads)."""
    lines = []
    for f in fields:
        lines.append(f"{indent}- name: {f.name}")
        lines.extend(f"{indent}  {key}: {json.dumps(value)}" for key, value in f.kind.hf.items())
    return "\n".join(lines)


def markdown_table(fields: tuple[Field, ...] = FIELDS) -> str:
    """The README's field table."""
    types = _ARROW_LABELS
    rows = ["| field | type | Arrow / Parquet | meaning |", "| --- | --- | --- | --- |"]
    rows += [f"| `{f.name}` | {f.type_label} | `{types[f.kind.arrow]}` | {f.description} |" for f in fields]
    return "\n".join(rows) + "\n"


# How Arrow prints each type; checked against pyarrow by the tests, kept here so
# that the Markdown needs no pyarrow.
_ARROW_LABELS = {
    "string": "string",
    "int32": "int32",
    "timestamp": "timestamp[ms, tz=UTC]",
    "string_list": "list<item: string>",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m arabtoday.schema", description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--json-schema", action="store_true", help="print the JSON Schema of a record")
    group.add_argument("--markdown", action="store_true", help="print the README's field table")
    args = parser.parse_args(argv)
    sys.stdout.write(json_schema_text() if args.json_schema else markdown_table())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
