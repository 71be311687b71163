"""Feeds (``arabtoday.discovery.feeds``): items with their dates and guids."""

from __future__ import annotations

from arabtoday.discovery.feeds import parse_feed
from conftest import SNAPSHOT

BASE = "http://site.test"


def snapshot(rel: str) -> bytes:
    return (SNAPSHOT / rel).read_bytes().replace(b"__BASE__", BASE.encode())


def test_feed_items_with_dates_and_guids() -> None:
    entries = parse_feed(snapshot("en/rss.xml"), BASE + "/en/rss")
    assert entries and all(e.date is not None for e in entries)
    assert entries[0].guid == "en-103907"
    assert "utm_source=rss" in entries[0].url
