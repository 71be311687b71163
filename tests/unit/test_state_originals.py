"""Originals first, in both state backends (SQLite, and a real Redis): whichever copy the store meets
first, the one published first is the original (the lower id on a tie), chains of copies are flattened,
and a store that held a copy as the original hands it over with the address it was indexed under."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from arabtoday.cleaning.text import content_hash
from arabtoday.dedup.fingerprints import Fingerprint, Fingerprinter
from arabtoday.state.redis import RedisStore
from arabtoday.state.sqlite import SqliteStore
from arabtoday.state.store import COPY_OF, ORIGINAL_OF, Match, StateStore
from conftest import cached_snapshot_records

FINGERPRINTER = Fingerprinter()
TEXT = next(r["body"] for r in cached_snapshot_records("http://unit.test") if r["id"] == "en-104257")
T1, T2, T3, T4 = "2017-10-01T08:00:00Z", "2017-10-02T08:00:00Z", "2017-10-03T08:00:00Z", "2017-10-04T08:00:00Z"


def fp(text: str = TEXT) -> Fingerprint:
    return FINGERPRINTER.fingerprint("en", text, content_hash(text))


def near(n: int) -> Fingerprint:
    """The story with its n-th paragraph reworded: a near copy, not an exact one."""
    paragraphs = TEXT.split("\n\n")
    paragraphs[n % len(paragraphs)] = f"Reworded paragraph {n}: a spokesman declined to comment when reached."
    return fp("\n\n".join(paragraphs))


def url(article_id: str) -> str:
    return f"http://unit.test/en/politics/{article_id.split('-')[1]}/story"


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    if request.param == "sqlite":
        made: StateStore = SqliteStore(tmp_path / "state", FINGERPRINTER)
    else:  # the session's own redis-server (conftest), asked for only here
        made = RedisStore(request.getfixturevalue("redis_url"), FINGERPRINTER, f"t-{uuid.uuid4().hex[:8]}", timeout=2)
    yield made
    made.close()


def test_the_original_arriving_second_takes_over(store: StateStore) -> None:
    assert store.claim_index("en-104399", fp(), T3, url("en-104399")) is None  # held as the original for now
    assert store.claim_index("en-104306", fp(), T2, url("en-104306")) == Match(
        "exact", ORIGINAL_OF, "en-104399", url("en-104399"))
    assert store.copies_of("en-104306") == ["en-104399"]
    assert store.claim_index("en-104500", fp(), T4, url("en-104500")) == Match("exact", COPY_OF, "en-104306")


def test_a_chain_of_earlier_originals_is_flattened(store: StateStore) -> None:
    assert store.claim_index("en-3", near(1), T3) is None
    assert store.claim_index("en-2", near(2), T2).relation == ORIGINAL_OF
    assert store.claim_index("en-1", near(3), T1) == Match("near", ORIGINAL_OF, "en-2", None)
    assert store.copies_of("en-1") == ["en-2", "en-3"]
    assert store.copies_of("en-2") == []
    assert store.claim_index("en-4", near(4), T4) == Match("near", COPY_OF, "en-1")  # never a copy of a copy


def test_the_lower_id_breaks_a_tie_and_an_unknown_time_counts_as_the_latest(store: StateStore) -> None:
    assert store.claim_index("en-20", fp(), T2) is None
    assert store.claim_index("en-10", fp(), T2).relation == ORIGINAL_OF
    assert store.claim_index("en-5", fp(), None) == Match("exact", COPY_OF, "en-10")


def test_an_original_claimed_again_is_no_copy_of_its_copies(store: StateStore) -> None:
    assert store.claim_index("en-1", fp(), T1) is None
    assert store.claim_index("en-2", fp(), T2).relation == COPY_OF
    assert store.claim_index("en-1", fp(), T1) is None  # the same article again (a later run): still the original
