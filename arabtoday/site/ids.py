"""Article ids kept per run in compressed bitmaps, so that a run's memory does not grow a dict entry a page.

A run remembers, for every article id it met, one of a few values (requested
or skipped; the bucket its account closed in; its status in the state). At
hundreds of thousands of articles, dicts and sets of ``"en-104257"`` strings
cost about 60 bytes an id each, and several of them grow with the run.
:class:`IdMap` keeps one Roaring bitmap (pyroaring) of article numbers per
edition and value: a few bytes an id, less where ids are dense, as they are
on a news site. Ids that do not fit the pattern (never the site's, but a test
may make one) are kept in a plain dict beside them.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from pyroaring import BitMap

from arabtoday.site.addresses import LANGS

NUMBER_LIMIT = 2**32  # what a 32-bit Roaring bitmap holds; larger numbers go to the plain dict
_MISSING: Any = object()


def _split(article_id: str) -> tuple[str, int] | None:
    lang, sep, number = article_id.partition("-")
    if sep and lang in LANGS and number.isdigit() and int(number) < NUMBER_LIMIT:
        return lang, int(number)
    return None


class IdMap:
    """``article id -> value`` for a few distinct values (bools, bucket names, statuses)."""

    def __init__(self) -> None:
        self._maps: dict[tuple[str, Hashable], BitMap] = {}
        self._other: dict[str, Any] = {}

    def get(self, article_id: str, default: Any = None) -> Any:
        key = _split(article_id)
        if key is None:
            return self._other.get(article_id, default)
        lang, number = key
        for (map_lang, value), numbers in self._maps.items():
            if map_lang == lang and number in numbers:
                return value
        return default

    def __contains__(self, article_id: str) -> bool:
        return self.get(article_id, _MISSING) is not _MISSING

    def __setitem__(self, article_id: str, value: Hashable) -> None:
        key = _split(article_id)
        if key is None:
            self._other[article_id] = value
            return
        lang, number = key
        for (map_lang, old), numbers in self._maps.items():
            if map_lang == lang and old != value:
                numbers.discard(number)
        self._maps.setdefault((lang, value), BitMap()).add(number)

    def pop(self, article_id: str, default: Any = None) -> Any:
        key = _split(article_id)
        if key is None:
            return self._other.pop(article_id, default)
        found = self.get(article_id, _MISSING)
        if found is _MISSING:
            return default
        self._maps[(key[0], found)].discard(key[1])
        return found

    def update(self, pairs: Any) -> None:
        for article_id, value in pairs:
            self[article_id] = value

    def __len__(self) -> int:
        return sum(len(numbers) for numbers in self._maps.values()) + len(self._other)


class IdSet:
    """A set of article ids, in the same bitmaps."""

    def __init__(self) -> None:
        self._map = IdMap()

    def add(self, article_id: str) -> None:
        self._map[article_id] = True

    def __contains__(self, article_id: str) -> bool:
        return article_id in self._map

    def __len__(self) -> int:
        return len(self._map)
