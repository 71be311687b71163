"""Per-run article id maps in bitmaps (``arabtoday.site.ids``): the same answers as a dict (what they save
is measured by ``benchmarks/bench_crawl.py --memory-sizes``, not here)."""

from __future__ import annotations

import random

from arabtoday.site.ids import IdMap, IdSet

VALUES = (True, False, "emitted", "failed", "skipped")


def test_an_id_map_answers_as_a_dict_does() -> None:
    rng = random.Random(7)
    ids = [f"{rng.choice(('en', 'ar'))}-{rng.randrange(1, 5000)}" for _ in range(3000)]
    ids += ["en-99999999999", "xx-1", "en-", "not an id"]  # outside the bitmaps: the plain dict
    ours, plain = IdMap(), {}
    for _ in range(20_000):
        article_id = rng.choice(ids)
        action = rng.random()
        if action < 0.6:
            value = rng.choice(VALUES)
            ours[article_id] = value
            plain[article_id] = value
        elif action < 0.8:
            assert ours.pop(article_id, "none") == plain.pop(article_id, "none")
        else:
            assert ours.get(article_id, "none") == plain.get(article_id, "none")
            assert (article_id in ours) == (article_id in plain)
    assert len(ours) == len(plain)
    assert all(ours.get(i) == plain.get(i) for i in set(ids))


def test_an_id_set_holds_what_was_added() -> None:
    seen = IdSet()
    for number in range(0, 1000, 3):
        seen.add(f"ar-{number}")
    assert "ar-3" in seen and "ar-4" not in seen and "en-3" not in seen and len(seen) == 334

