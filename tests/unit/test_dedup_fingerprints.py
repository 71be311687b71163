"""Republished copies (``arabtoday.dedup.fingerprints``), found through the index the SQLite state
keeps: exact and near copies match, different stories on one topic and other editions never do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arabtoday.cleaning.text import content_hash
from arabtoday.dedup.fingerprints import Fingerprinter, similarity
from arabtoday.state.sqlite import SqliteStore
from arabtoday.state.store import COPY_OF, Match
from conftest import EXPECTED

RECORDS = {json.loads(line)["id"]: json.loads(line) for line in EXPECTED.read_text("utf-8").splitlines()}


def fp(fingerprinter: Fingerprinter, record: dict, body: str | None = None):
    text = body if body is not None else record["body"]
    return fingerprinter.fingerprint(record["lang"], text, content_hash(text))


def one_sentence_changed(body: str) -> str:
    paragraphs = body.split("\n\n")
    paragraphs[len(paragraphs) // 2] = "A spokesman declined to comment on the report when reached by phone."
    return "\n\n".join(paragraphs)


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    s = SqliteStore(tmp_path / "state", Fingerprinter())
    yield s
    s.close()


def test_exact_copy_is_found(store: SqliteStore) -> None:
    original, copy = RECORDS["en-104306"], RECORDS["en-104399"]
    assert store.claim_index("en-104306", fp(store.fingerprinter, original), original["published_at"]) is None
    assert store.claim_index("en-104399", fp(store.fingerprinter, copy), copy["published_at"]) == Match(
        "exact", COPY_OF, "en-104306")


def test_near_copy_with_a_sentence_changed_is_found(store: SqliteStore) -> None:
    original = RECORDS["en-104257"]
    edited = one_sentence_changed(original["body"])
    assert content_hash(edited) != content_hash(original["body"])
    assert store.claim_index("en-104257", fp(store.fingerprinter, original), original["published_at"]) is None
    later = "2030-01-01T00:00:00Z"
    assert store.claim_index("en-999999", fp(store.fingerprinter, original, edited), later) == Match(
        "near", COPY_OF, "en-104257")


def test_different_stories_on_the_same_topic_are_not_merged(store: SqliteStore) -> None:
    """The snapshot's generated stories share most of their phrases: none may match another."""
    for article_id, record in sorted(RECORDS.items()):
        if record["duplicate_of"]:
            continue
        assert store.claim_index(article_id, fp(store.fingerprinter, record)) is None, article_id


def test_editions_never_match_each_other(store: SqliteStore) -> None:
    record = RECORDS["en-104257"]
    assert store.claim_index("en-104257", fp(store.fingerprinter, record)) is None
    as_arabic = {**record, "lang": "ar"}
    assert store.claim_index("ar-104257", fp(store.fingerprinter, as_arabic)) is None


def test_threshold_separates_copies_from_neighbours() -> None:
    f = Fingerprinter()
    original = RECORDS["en-104257"]["body"]
    near = similarity(f.signature(original).tobytes(), f.signature(one_sentence_changed(original)).tobytes())
    far = max(similarity(f.signature(a["body"]).tobytes(), f.signature(b["body"]).tobytes())
              for a in RECORDS.values() for b in RECORDS.values()
              if a["id"] < b["id"] and a["lang"] == b["lang"] and not (a["duplicate_of"] or b["duplicate_of"]))
    assert near >= f.threshold > far
