"""Crash recovery (``arabtoday.state.recovery``): records durable in an output but not yet in the
state are committed, a torn last line is cut."""

from __future__ import annotations

import json
from pathlib import Path

from arabtoday.dedup.fingerprints import Fingerprinter
from arabtoday.state.recovery import recover
from arabtoday.state.sqlite import SqliteStore


def test_recovery_commits_durable_records_and_cuts_a_torn_line(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state", Fingerprinter())
    out = tmp_path / "out.jsonl"
    good = {"id": "en-1", "lang": "en", "body": "One two three four five six.", "content_hash": "h1",
            "duplicate_of": None}
    out.write_bytes(b"")
    store.register_output(str(out), 0)
    out.write_bytes(json.dumps(good).encode() + b"\n" + b'{"id": "en-2", "body": "cut of')
    assert recover(store) == 1
    assert out.read_bytes() == json.dumps(good).encode() + b"\n"
    seen = store.get("en-1")
    assert seen is not None and seen.content_hash == "h1"
    assert store.get("en-2") is None
    assert recover(store) == 0  # idempotent: the offset moved past the recovered records
    store.close()
