"""The SQLite state (``arabtoday.state.sqlite.SqliteStore``): it keeps its dedup parameters, and a
failure never demotes an emitted article."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from arabtoday.dedup.fingerprints import Fingerprinter
from arabtoday.state.sqlite import SqliteStore, StateMismatch
from arabtoday.state.store import Emitted, Status


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    s = SqliteStore(tmp_path / "state", Fingerprinter())
    yield s
    s.close()


def test_state_directory_keeps_its_dedup_parameters(tmp_path: Path) -> None:
    SqliteStore(tmp_path / "s", Fingerprinter(0.5, 64)).close()
    with pytest.raises(StateMismatch, match="near-duplicate settings"):
        SqliteStore(tmp_path / "s", Fingerprinter(0.5, 128))


def test_failure_never_demotes_an_emitted_article(store: SqliteStore) -> None:
    store.commit_emitted([Emitted("en-1", "en", "h", "2017-10-01T00:00:00Z", None)], "out.jsonl", 10)
    store.mark("en-1", Status.FAILED)
    assert store.get("en-1").status is Status.EMITTED
    assert store.outputs() == [("out.jsonl", 10, os.getpid())]


@pytest.mark.parametrize(("origin", "after"), [("wayback", Status.REMOVED), ("commoncrawl", Status.REMOVED),
                                               ("live", Status.EMITTED)])
def test_an_archived_revision_of_a_removed_article_leaves_it_removed(store: SqliteStore, origin: str,
                                                                     after: Status) -> None:
    url = "http://site/en/politics/1/x"
    store.commit_emitted([Emitted("en-1", "en", "h1", None, None, url=url)], "out.jsonl", 10)
    store.commit_emitted([Emitted("en-1", "en", None, None, None, status="removed", url=url,
                                  removed_at="2018-01-01T00:00:00Z")], "out.jsonl", 20)
    store.commit_emitted([Emitted("en-1", "en", "h0", None, None, revision=2, url="https://archived/en/politics/1/x",
                                  origin=origin)], "out.jsonl", 30)
    seen = store.get("en-1")
    assert (seen.status, seen.content_hash, seen.revision) == (after, "h0", 2)
    assert seen.url == (url if after is Status.REMOVED else "https://archived/en/politics/1/x")
