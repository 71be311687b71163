"""Sitemaps (``arabtoday.discovery.sitemaps``): an index and a URL set, plain or gzip."""

from __future__ import annotations

import gzip

from arabtoday.discovery.sitemaps import parse_sitemap
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
