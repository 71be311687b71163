"""Near-duplicate detection and the SQLite state, without a crawl."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from arabtoday.cleaning.text import content_hash
from arabtoday.dedup.fingerprints import Fingerprinter, similarity
from arabtoday.state.sqlite import SqliteStore, StateMismatch
from arabtoday.state.store import Emitted, Seen, Status, should_fetch
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
    assert store.claim_index("en-104306", fp(store.fingerprinter, original)) is None
    assert store.claim_index("en-104399", fp(store.fingerprinter, copy)) == ("exact", "en-104306")


def test_near_copy_with_a_sentence_changed_is_found(store: SqliteStore) -> None:
    original = RECORDS["en-104257"]
    edited = one_sentence_changed(original["body"])
    assert content_hash(edited) != content_hash(original["body"])
    assert store.claim_index("en-104257", fp(store.fingerprinter, original)) is None
    assert store.claim_index("en-999999", fp(store.fingerprinter, original, edited)) == ("near", "en-104257")


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


def test_state_directory_keeps_its_dedup_parameters(tmp_path: Path) -> None:
    SqliteStore(tmp_path / "s", Fingerprinter(0.5, 64)).close()
    with pytest.raises(StateMismatch, match="near-duplicate settings"):
        SqliteStore(tmp_path / "s", Fingerprinter(0.5, 128))


def test_failure_never_demotes_an_emitted_article(store: SqliteStore) -> None:
    store.commit_emitted([Emitted("en-1", "en", "h", "2017-10-01T00:00:00Z", None)], "out.jsonl", 10)
    store.mark("en-1", Status.FAILED)
    assert store.get("en-1").status is Status.EMITTED
    assert store.outputs() == [("out.jsonl", 10, os.getpid())]


@pytest.mark.parametrize(("seen", "lastmod", "fetch"), [
    (None, None, True),
    (Seen(Status.FAILED, None, None), None, True),
    (Seen(Status.EMITTED, "h", "2017-10-01T00:00:00Z"), "2017-10-01T00:00:00Z", False),
    (Seen(Status.EMITTED, "h", "2017-10-01T00:00:00Z"), "2017-10-05T00:00:00Z", True),
    (Seen(Status.EMITTED, "h", "2017-10-01T00:00:00Z"), None, False),
    # an edit stamped earlier than our last fetch is still an edit: only the site's own stamps are compared
    (Seen(Status.EMITTED, "h", "2017-10-01T00:00:00Z", "2026-01-01T00:00:00Z"), "2017-10-05T00:00:00Z", True),
    # found on a listing last time (no lastmod recorded): the sitemap's stamp is news, fetch once
    (Seen(Status.EMITTED, "h", None, "2026-01-01T00:00:00Z"), "2017-10-05T00:00:00Z", True),
    (Seen(Status.DUPLICATE, "h", "2017-10-01T00:00:00Z"), "2017-10-01T00:00:00Z", False),
])
def test_should_fetch(seen: Seen | None, lastmod: str | None, fetch: bool) -> None:
    assert should_fetch(seen, lastmod)[0] is fetch
