"""The schema definition is the one source (``arabtoday.schema``, ``arabtoday.items``): the
dataclasses, the committed JSON Schema, the Arrow schema and the Markdown table all follow it."""

from __future__ import annotations

import dataclasses
import io
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pyarrow as pa
import pyarrow.parquet as pq

from arabtoday import schema
from arabtoday.export.dataset import run_export
from arabtoday.export.validation import validate
from arabtoday.items import (
    EXPORT_FIELDS,
    INTERNAL_FIELDS,
    Article,
    RawArticle,
    article_class,
    copied_fields,
    raw_article_class,
)
from arabtoday.version import SCHEMA_VERSION
from conftest import ROOT, cached_snapshot_records

COMMITTED = ROOT / "schema" / "article.schema.json"
BASE = "http://schema.test"
RECORDS = cached_snapshot_records(BASE)


def test_committed_json_schema_is_current() -> None:
    """Regenerate with: python -m arabtoday.schema --json-schema > schema/article.schema.json"""
    assert COMMITTED.read_text("utf-8") == schema.json_schema_text(), "schema/article.schema.json is stale"


def test_schema_command_prints_the_json_schema_and_the_markdown_table() -> None:
    run = [sys.executable, "-m", "arabtoday.schema"]
    printed = subprocess.run([*run, "--json-schema"], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert json.loads(printed) == json.loads(COMMITTED.read_text("utf-8"))
    table = subprocess.run([*run, "--markdown"], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert [line.split("|")[1].strip(" `") for line in table.splitlines()[2:]] == list(EXPORT_FIELDS)


def test_article_exports_exactly_the_schema_fields_in_order() -> None:
    fields = dataclasses.fields(Article)
    assert tuple(f.name for f in fields if f.name not in INTERNAL_FIELDS) == EXPORT_FIELDS
    assert set(INTERNAL_FIELDS) == {"lastmod", "change", "requested_id", "events", "fingerprint"}
    for f in fields:
        if f.name in schema.FIELDS_BY_NAME:
            assert f.type == schema.FIELDS_BY_NAME[f.name].annotation, f.name


def test_json_schema_follows_the_definition() -> None:
    js = schema.json_schema()
    assert list(js["properties"]) == list(EXPORT_FIELDS)
    required = {branch["if"]["properties"]["status"]["const"]: branch["then"]["required"] for branch in js["allOf"]}
    assert required["live"] == list(EXPORT_FIELDS)  # an article's record carries every field
    assert required["superseded"] == ["id", "url", "lang", "status", "crawled_at", "duplicate_of"]
    assert required["removed"] == ["id", "url", "lang", "status", "crawled_at", "removed_at", "removed_reason"]
    assert js["required"] == ["id", "url", "lang", "status", "crawled_at"]  # whatever the line
    assert js["x-schema-version"] == SCHEMA_VERSION
    for f in schema.FIELDS:
        kinds = js["properties"][f.name]["type"]
        assert ("null" in kinds) == f.nullable, f.name
    jsonschema.Draft7Validator.check_schema(js)


def documented_arrow_types() -> dict[str, str]:
    """``{field: Arrow type}`` as the field table of docs/dataset.md writes them (read from the page)."""
    page = (ROOT / "docs" / "dataset.md").read_text("utf-8")
    table = page.split("<!-- record-fields:begin -->", 1)[1].split("<!-- record-fields:end -->", 1)[0]
    rows = [line.split(" | ") for line in table.splitlines() if line.startswith("| `")]
    return {row[0].removeprefix("| ").strip("`"): row[2].strip("`") for row in rows}


def test_a_parquet_file_read_back_has_the_types_the_field_table_promises(tmp_path: Path) -> None:
    """A record exported to Parquet and its schema read back by pyarrow's Parquet reader (not the writer's
    schema object), against the Arrow column of docs/dataset.md."""
    source = tmp_path / "one.jsonl"
    source.write_text(json.dumps(RECORDS[0], ensure_ascii=False) + "\n", "utf-8")
    assert run_export([source], tmp_path / "out", ["parquet"], stream=io.StringIO()) == 0
    read = pq.read_schema(tmp_path / "out" / "articles.parquet")
    assert read.names == list(EXPORT_FIELDS) == list(documented_arrow_types())
    for name, written in documented_arrow_types().items():
        read_type = read.field(name).type
        if pa.types.is_list(read_type):  # Parquet names a list's items "element" where Arrow says "item"
            assert written == f"list<item: {read_type.value_type}>", name
        else:
            assert str(read_type) == written, name
        assert not pa.types.is_null(read.field(name).type), name
        assert read.field(name).nullable == schema.FIELDS_BY_NAME[name].nullable, name
    arrow = schema.arrow_schema()
    assert arrow.metadata[b"arabtoday.schema_version"] == SCHEMA_VERSION.encode()


def test_copied_fields_are_on_the_raw_article_and_handed_over() -> None:
    copied = [f.name for f in schema.FIELDS if f.copied]
    raw_names = {f.name for f in dataclasses.fields(RawArticle)}
    assert set(copied) <= raw_names
    assert set(copied) >= {"url", "lang", "published_at", "extractor", "extractor_version"}
    raw = RawArticle(url="https://x/en/politics/1/a", lang="en", number="1", extractor="article-v1",
                     extractor_version="2.0", published_at="2017-10-15T06:49:00Z")
    assert raw.id == "en-1"
    assert copied_fields(raw) == {name: getattr(raw, name) for name in copied}
    assert copied_fields(raw)["extractor_version"] == "2.0"
    assert RawArticle(url="u", lang="en", number="1", extractor="e").extractor_version == ""  # until parsers set it


def test_a_new_field_is_a_change_to_the_schema_only() -> None:
    """Declare one more Field: the item classes, the JSON Schema, Arrow and the table all follow."""
    new = schema.Field("title_words", schema.INT, "words in the title", default=0, copied=True)
    fields = (*schema.FIELDS, new)
    raw_class, record_class = raw_article_class(fields), article_class(fields)
    raw = raw_class(url="https://x/en/politics/1/a", lang="en", number="1", extractor="article-v1", title_words=4)
    names = tuple(f.name for f in fields if f.copied)
    record = record_class(**copied_fields(raw, names), id=raw.id, section=None, title="t", dateline=None,
                          author=None, source=None, image_caption=None, body="b", tags=[], word_count=1,
                          content_hash="0" * 32, crawled_at="2017-10-15T06:49:00Z")
    assert record.title_words == 4
    assert [f.name for f in dataclasses.fields(record_class)][len(fields) - 1] == "title_words"
    assert schema.json_schema(fields)["properties"]["title_words"]["type"] == "integer"
    live = next(b for b in schema.json_schema(fields)["allOf"] if b["if"]["properties"]["status"]["const"] == "live")
    assert "title_words" in live["then"]["required"]
    assert schema.arrow_schema(fields).field("title_words").type == pa.int32()
    assert "| `title_words` | int | `int32` | words in the title |" in schema.markdown_table(fields)
    assert "- name: title_words" in schema.hf_features_yaml(fields=fields)


def test_extractor_version_is_a_field_with_a_default() -> None:
    assert "extractor_version" in EXPORT_FIELDS
    assert schema.DEFAULTS["extractor_version"] == ""
    assert all("extractor_version" in r for r in RECORDS)


def test_lines_of_history_carry_what_their_status_requires() -> None:
    """The JSON Schema, read by an independent validator (jsonschema), and the crawl's own (validate)."""
    checker = jsonschema.Draft7Validator(schema.json_schema())
    base = {"id": "en-104399", "url": "https://www.arabstoday.net/en/sports/104399/x", "lang": "en",
            "crawled_at": "2017-10-15T06:49:00Z"}
    superseded = {**base, "status": "superseded", "duplicate_of": "en-104306"}
    removed = {**base, "status": "removed", "removed_at": "2017-10-16T00:00:00Z", "removed_reason": "http_410"}
    for line in (superseded, removed):
        assert checker.is_valid(line) and validate(line) == [], line
    for bad in ({**superseded, "duplicate_of": None}, {**removed, "removed_reason": "gone"},
                {k: v for k, v in removed.items() if k != "removed_at"}, {**base, "status": "live"},
                {**superseded, "status": "deleted"}):
        assert not checker.is_valid(bad) and validate(bad), bad
