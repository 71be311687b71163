"""Feeds, sitemaps and listings, including hostile and broken XML."""

from __future__ import annotations

import gzip

import pytest

from arabtoday.discovery.feeds import parse_feed
from arabtoday.discovery.listings import ListingPage
from arabtoday.discovery.sitemaps import parse_sitemap
from arabtoday.discovery.xml import BadXML
from conftest import SNAPSHOT

BASE = "http://site.test"


def snapshot(rel: str) -> bytes:
    return (SNAPSHOT / rel).read_bytes().replace(b"__BASE__", BASE.encode())


def test_sitemap_index_and_urlset() -> None:
    index = parse_sitemap(snapshot("sitemap.xml"), BASE + "/sitemap.xml")
    assert index.is_index and len(index.entries) == 10
    month = parse_sitemap(snapshot("sitemaps/en-2017-10.xml"), BASE + "/sitemaps/en-2017-10.xml")
    assert not month.is_index and len(month.entries) == 14
    assert month.entries[0].date is not None


def test_gzipped_sitemap() -> None:
    month = parse_sitemap(gzip.compress(snapshot("sitemaps/en-2017-10.xml")), BASE + "/s.xml.gz")
    assert len(month.entries) == 14


def test_feed_items_with_dates_and_guids() -> None:
    entries = parse_feed(snapshot("en/rss.xml"), BASE + "/en/rss")
    assert entries and all(e.date is not None for e in entries)
    assert entries[0].guid == "en-103907"
    assert "utm_source=rss" in entries[0].url


@pytest.mark.parametrize("body", [
    # billion laughs
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
    b"<rss><channel><item><title>&lol2;</title></item></channel></rss>",
    # external entity (XXE)
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b"<urlset><url><loc>&xxe;</loc></url></urlset>",
])
def test_hostile_xml_is_refused(body: bytes) -> None:
    with pytest.raises(BadXML, match="entities"):
        parse_feed(body, BASE)
    with pytest.raises(BadXML, match="entities"):
        parse_sitemap(body, BASE)


@pytest.mark.parametrize("body", [b"", b"<html><body>Not found</body></html>", b"\x1f\x8bnot gzip", b"\xff\xfe\x00"])
def test_broken_feeds_and_sitemaps_give_a_clear_error(body: bytes) -> None:
    with pytest.raises(BadXML):
        parse_sitemap(body, BASE)
    with pytest.raises(BadXML):
        parse_feed(body, BASE)


def test_listing_links_dates_and_next_page() -> None:
    page = ListingPage(snapshot("en/sports/index.html").decode(), BASE + "/en/sports")
    assert page.next_page() == BASE + "/en/sports?page=2"
    assert len(page.dates()) == 5
    assert any("/en/sports/104330/" in link for link in page.links())
    last = ListingPage(snapshot("en/sports/index.page-2.html").decode(), BASE + "/en/sports?page=2")
    assert last.next_page() is None
