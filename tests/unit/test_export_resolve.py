"""The log read back as history (arabtoday.export.resolve): made-up logs in, rows out; every order of
the files and of the lines within them gives the same rows."""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path
from typing import Any

import pytest

from arabtoday.export.resolve import Log
from arabtoday.schema import DEFAULTS
from conftest import UNIT_BASE, cached_snapshot_records

BASE_RECORD = next(r for r in cached_snapshot_records(UNIT_BASE) if r["id"] == "en-104257")
T0, T1, T2, T3 = "2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z", "2024-04-01T00:00:00Z"


def record(article_id: str, crawled_at: str = T0, revision: int = 1, **fields: Any) -> dict[str, Any]:
    number = article_id.split("-")[1]
    return {**BASE_RECORD, "id": article_id, "url": f"{UNIT_BASE}/en/politics/{number}/story", "crawled_at": crawled_at,
            "captured_at": crawled_at, "revision": revision, "content_hash": f"{revision:032x}",
            "body": f"text of {article_id} rev {revision}",
            **fields}


def superseded(copy: str, original: str, crawled_at: str = T0) -> dict[str, Any]:
    return {"id": copy, "url": f"{UNIT_BASE}/en/politics/{copy.split('-')[1]}/story", "lang": "en",
            "status": "superseded", "crawled_at": crawled_at, "duplicate_of": original}


def removed(article_id: str, removed_at: str, reason: str = "http_410") -> dict[str, Any]:
    return {"id": article_id, "url": f"{UNIT_BASE}/en/politics/{article_id.split('-')[1]}/story", "lang": "en",
            "status": "removed", "crawled_at": removed_at, "removed_at": removed_at, "removed_reason": reason}


def write(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), "utf-8")
    return path


def rows(tmp_path: Path, files: list[list[dict[str, Any]]], history: bool = False) -> list[dict[str, Any]]:
    """The rows, checked the same for every order of the files and a shuffle of the lines in each."""
    results = []
    for n, order in enumerate(itertools.permutations(range(len(files)))):
        shuffled = []
        for i in order:
            lines = list(files[i])
            random.Random(n).shuffle(lines)
            shuffled.append(write(tmp_path / f"run{n}-{i}.jsonl", lines))
        log = Log(shuffled).read()
        assert log.problems == []
        results.append(list(log.revisions() if history else log.stories()))
    assert all(result == results[0] for result in results[1:])
    return results[0]


def test_a_copy_met_first_is_folded_into_the_original_that_corrected_it(tmp_path: Path) -> None:
    run1 = [record("en-2", published_at="2017-10-03T00:00:00Z")]  # the copy, held as the original for a run
    run2 = [record("en-1", T1, published_at="2017-10-02T00:00:00Z", copies=["en-2"]), superseded("en-2", "en-1", T1)]
    [story] = rows(tmp_path, [run1, run2])
    assert (story["id"], story["copies"], story["status"], story["duplicate_of"]) == ("en-1", ["en-2"], "live", None)


def test_copies_of_copies_belong_to_the_earliest_original(tmp_path: Path) -> None:
    lines = [record("en-3"), record("en-2", T1), superseded("en-3", "en-2", T1), record("en-1", T2),
             superseded("en-2", "en-1", T2), record("en-9", T0)]
    stories = {r["id"]: r for r in rows(tmp_path, [lines[:2], lines[2:]])}
    assert set(stories) == {"en-1", "en-9"}
    assert stories["en-1"]["copies"] == ["en-2", "en-3"] and stories["en-9"]["copies"] == []


def test_the_latest_revision_is_the_story_and_every_revision_a_history_row(tmp_path: Path) -> None:
    first = record("en-5", T0)
    second = record("en-5", T1, revision=2, previous_hash=first["content_hash"], title="edited")
    [story] = rows(tmp_path, [[second], [first]])
    assert (story["revision"], story["title"]) == (2, "edited")
    history = rows(tmp_path, [[second], [first]], history=True)
    assert [(r["revision"], r["previous_hash"]) for r in history] == [(1, None), (2, first["content_hash"])]


def test_a_removed_story_keeps_its_last_text_until_it_is_served_again(tmp_path: Path) -> None:
    text = record("en-5", T0)
    [story] = rows(tmp_path, [[text], [removed("en-5", T1)]])
    assert (story["status"], story["removed_at"], story["removed_reason"]) == ("removed", T1, "http_410")
    assert story["body"] == text["body"]
    back = record("en-5", T2, revision=2, previous_hash=text["content_hash"])
    [story] = rows(tmp_path, [[text], [removed("en-5", T1)], [back]])
    assert (story["status"], story["revision"], story["removed_at"]) == ("live", 2, None)
    history = rows(tmp_path, [[text], [removed("en-5", T1)], [back]], history=True)
    assert [r["status"] for r in history] == ["live", "live"]  # the removal was undone by a later text


def test_a_removal_found_in_the_same_second_as_the_text_wins(tmp_path: Path) -> None:
    [story] = rows(tmp_path, [[record("en-5", T1), removed("en-5", T1, "http_404")]])
    assert story["status"] == "removed"


def test_lines_of_history_without_a_text_make_no_row(tmp_path: Path) -> None:
    assert rows(tmp_path, [[removed("en-5", T1), superseded("en-6", "en-7")]]) == []


def test_copies_whose_original_is_in_no_input_stay_rows_naming_it(tmp_path: Path) -> None:
    stories = rows(tmp_path, [[record("en-8"), superseded("en-8", "en-1"), record("en-9"), superseded("en-9", "en-1")]])
    assert [(r["id"], r["duplicate_of"]) for r in stories] == [("en-8", "en-1"), ("en-9", "en-1")]


def test_a_copy_flagged_by_emit_duplicates_is_folded_too(tmp_path: Path) -> None:
    stories = rows(tmp_path, [[record("en-1"), record("en-2", duplicate_of="en-1")]])
    assert [(r["id"], r["copies"]) for r in stories] == [("en-1", ["en-2"])]


def test_logs_that_disagree_are_decided_by_publication_time_then_id(tmp_path: Path) -> None:
    """Two runs without a state each took the other copy for the original: the rule decides."""
    run_a = [record("en-1", published_at="2017-10-05T00:00:00Z"), superseded("en-2", "en-1")]
    run_b = [record("en-2", T1, published_at="2017-10-04T00:00:00Z"), superseded("en-1", "en-2", T1)]
    [story] = rows(tmp_path, [run_a, run_b])
    assert (story["id"], story["copies"]) == ("en-2", ["en-1"])


def test_records_of_before_the_history_fields_get_their_defaults(tmp_path: Path) -> None:
    old = {k: v for k, v in record("en-5").items() if k not in ("status", "revision", "previous_hash", "copies",
                                                                "removed_at", "removed_reason")}
    log = Log([write(tmp_path / "old.jsonl", [old])]).read()
    [story] = list(log.stories())
    assert log.counts.upgraded == 1
    assert {k: story[k] for k in ("status", "revision", "previous_hash", "copies")} == {
        k: DEFAULTS[k] for k in ("status", "revision", "previous_hash", "copies")}


@pytest.mark.parametrize("strict", [True, False])
def test_bad_lines_are_problems_and_a_json_array_is_one(tmp_path: Path, strict: bool) -> None:
    good = record("en-5")
    path = tmp_path / "mixed.jsonl"
    path.write_text(json.dumps(good) + "\n" + "{not json\n" + json.dumps({"title": "no id"}) + "\n" +
                    json.dumps({**good, "id": "en-6", "word_count": "many"}) + "\n" + '{"id": "en-7", "ti', "utf-8")
    array = write(tmp_path / "array.json", [])
    array.write_text(json.dumps([good]), "utf-8")
    log = Log([path, array], strict=strict).read()
    kept = [r["id"] for r in log.stories()]
    assert kept == (["en-5"] if strict else ["en-5", "en-6"])  # merge keeps what has an id
    assert any("line 2: not JSON" in p for p in log.problems) and any("line 3: no id" in p for p in log.problems)
    assert any("torn last line" in p for p in log.problems)
    assert any("is a JSON array" in p for p in log.problems)
