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
