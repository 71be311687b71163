"""Listings (``arabtoday.discovery.listings``): links, dates and the next page."""

from __future__ import annotations

from arabtoday.discovery.listings import ListingPage
from conftest import SNAPSHOT

BASE = "http://site.test"


def snapshot(rel: str) -> bytes:
    return (SNAPSHOT / rel).read_bytes().replace(b"__BASE__", BASE.encode())


def test_listing_links_dates_and_next_page() -> None:
    page = ListingPage(snapshot("en/sports/index.html").decode(), BASE + "/en/sports")
    assert page.next_page() == BASE + "/en/sports?page=2"
    assert len(page.dates()) == 5
    assert any("/en/sports/104330/" in link for link in page.links())
    last = ListingPage(snapshot("en/sports/index.page-2.html").decode(), BASE + "/en/sports?page=2")
    assert last.next_page() is None
