"""Sitemaps (``arabtoday.discovery.sitemaps``): an index and a URL set, plain or gzip; and
``StreamCap``, the extension that stops a sitemap's download at its byte bound and hands on what
arrived (built by the project's settings on a crawler from Scrapy's ``get_crawler``, driven by the
``bytes_received`` signal as Scrapy's HTTP handler sends it)."""

from __future__ import annotations

import gzip

import pytest
from scrapy import Request, signals
from scrapy.exceptions import StopDownload
from scrapy.http import Response
from twisted.python.failure import Failure

from arabtoday.discovery.sitemaps import StreamCap, parse_sitemap
from arabtoday.meta import STREAM_CAP
from conftest import SNAPSHOT, project_crawler

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


# -- StreamCap ---------------------------------------------------------------------------------------------------------

def receive(crawler, request: Request, size: int) -> list[Failure]:
    """A chunk of ``size`` bytes arrives: what the receivers answered that Scrapy's HTTP handler reads
    (a ``StopDownload`` failure stops the download)."""
    results = crawler.signals.send_catch_log(signal=signals.bytes_received, data=b"x" * size, request=request,
                                             spider=crawler.spider)
    return [r for _, r in results if isinstance(r, Failure) and isinstance(r.value, StopDownload)]


def test_a_sitemap_is_read_up_to_its_cap_and_then_handed_on() -> None:
    crawler = project_crawler()
    request = Request(BASE + "/sitemaps/huge.xml", meta={STREAM_CAP: 1000})
    assert receive(crawler, request, 600) == []
    assert receive(crawler, request, 400) == []  # exactly the cap: still reading
    [stop] = receive(crawler, request, 1)
    assert stop.value.fail is False  # the response goes on with what arrived, not as an error
    assert crawler.get_extension(StreamCap).received == {}  # forgotten once stopped


def test_each_request_is_counted_on_its_own_and_forgotten_when_it_ends() -> None:
    crawler = project_crawler()
    cap = crawler.get_extension(StreamCap)
    first, second = (Request(BASE + f"/sitemaps/{n}.xml", meta={STREAM_CAP: 1000}) for n in (1, 2))
    receive(crawler, first, 900)
    assert receive(crawler, second, 900) == []
    crawler.signals.send_catch_log(signal=signals.response_received, request=first,
                                   response=Response(first.url), spider=crawler.spider)
    crawler.signals.send_catch_log(signal=signals.request_left_downloader, request=second, spider=crawler.spider)
    assert cap.received == {}
    assert receive(crawler, first, 900) == []  # a retry of it starts from nothing


@pytest.mark.parametrize("meta", [{}, {STREAM_CAP: 0}])
def test_a_response_without_a_cap_is_never_stopped(meta: dict) -> None:
    crawler = project_crawler()
    request = Request(BASE + "/en/politics/1/x", meta=meta)
    assert [receive(crawler, request, 10_000_000) for _ in range(3)] == [[], [], []]
    assert crawler.get_extension(StreamCap).received == {}
