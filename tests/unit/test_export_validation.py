"""Record validation (``arabtoday.export.validation``): every snapshot record is valid; a broken
field is named, as the reference ``jsonschema`` validator agrees."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from arabtoday import schema
from arabtoday.export.validation import problem_field, validate
from conftest import cached_snapshot_records

BASE = "http://schema.test"
RECORDS = cached_snapshot_records(BASE)
REFERENCE = jsonschema.Draft7Validator(schema.json_schema())


def test_every_snapshot_record_is_valid() -> None:
    assert len(RECORDS) > 20
    for record in RECORDS:
        assert validate(record) == [], record["id"]
        assert REFERENCE.is_valid(record)


BREAKAGES = [
    ("word_count", lambda r: r.update(word_count="12")),
    ("word_count", lambda r: r.update(word_count=-1)),
    ("word_count", lambda r: r.update(word_count=True)),
    ("word_count", lambda r: r.update(word_count=2**31)),  # past int32: Arrow could not store it
    ("lang", lambda r: r.update(lang="fr")),
    ("published_at", lambda r: r.update(published_at="15/10/2017")),
    ("published_at", lambda r: r.update(published_at=None)),
    ("modified_at", lambda r: r.update(modified_at="2017-10-15")),
    ("tags", lambda r: r.update(tags=["ok", 3])),
    ("tags", lambda r: r.update(tags="a,b")),
    ("title", lambda r: r.update(title="")),
    ("body", lambda r: r.pop("body")),
    ("id", lambda r: r.update(id="104257")),
    ("duplicate_of", lambda r: r.update(duplicate_of="original")),
    ("content_hash", lambda r: r.update(content_hash="xyz")),
    ("lastmod", lambda r: r.update(lastmod="2017-10-15T06:49:00Z")),  # internal: never in a record
]


@pytest.mark.parametrize(("field", "breakage"), BREAKAGES, ids=[f"{f}-{i}" for i, (f, _) in enumerate(BREAKAGES)])
def test_validate_names_the_broken_field_and_agrees_with_jsonschema(field: str, breakage: Any) -> None:
    record = dict(RECORDS[0])
    breakage(record)
    problems = validate(record)
    assert [problem_field(p) for p in problems] == [field], problems
    assert not REFERENCE.is_valid(record)


def test_validate_lists_every_broken_field_and_shortens_values() -> None:
    record = dict(RECORDS[0], lang="xx", word_count="many", body=12345, title="x" * 10_000)
    record["title"] = 5
    problems = validate(record)
    assert sorted(problem_field(p) for p in problems) == ["body", "lang", "title", "word_count"]
    long = dict(RECORDS[0], id="z" * 10_000)
    assert all(len(p) < 300 for p in validate(long))


def test_validate_refuses_what_is_not_an_object() -> None:
    assert validate(["not", "a", "record"]) == ["record: expected an object, got list"]  # type: ignore[arg-type]
