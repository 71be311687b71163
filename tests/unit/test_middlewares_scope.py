"""The scope check on every request (``arabtoday.middlewares.ScopeMiddleware``), a downloader
middleware: a request outside the site, or redirected out of it, is refused with its reason, counted
(``arabtoday/blocked/<why>``) and logged with both addresses.

Built by ``from_crawler`` on a crawler from Scrapy's ``get_crawler`` with the project's settings; the
scope is read from the spider's ``base_url`` when Scrapy sends ``spider_opened``.
"""

from __future__ import annotations

import logging

import pytest
from scrapy import Request, signals

from arabtoday.middlewares import ScopeMiddleware
from arabtoday.site.scope import OutOfScope
from arabtoday.stats import Stat
from conftest import project_crawler

BASE = "http://127.0.0.1:8000"
ARTICLE = "/en/politics/104257/a-title"


def opened(base: str = BASE) -> ScopeMiddleware:
    """The middleware once the spider has opened (its handler called as Scrapy's signal calls it)."""
    crawler = project_crawler({"base_url": base})
    mw = ScopeMiddleware.from_crawler(crawler)
    mw.spider_opened()
    return mw


def logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The middleware's own lines (other loggers may be on, after an in-process crawl in this worker)."""
    return [r.getMessage() for r in caplog.records if r.name == "arabtoday.middlewares"]


def blocked(mw: ScopeMiddleware, why: str) -> int | None:
    return mw.crawler.stats.get_value(Stat.BLOCKED.format(why=why))


@pytest.mark.parametrize("url", [BASE + ARTICLE, BASE + "/robots.txt", BASE + "/en/", BASE + "/sitemap.xml",
                                 "https://127.0.0.1:8000" + ARTICLE])
def test_requests_inside_the_site_go_on(url: str) -> None:
    mw = opened()
    assert mw.process_request(Request(url)) is None
    assert not [k for k in mw.crawler.stats.get_stats() if k.startswith("arabtoday/blocked/")]


@pytest.mark.parametrize(("url", "why"), [
    ("http://127.0.0.1:8001" + ARTICLE, "offsite"),  # another port
    ("http://localhost:8000" + ARTICLE, "offsite"),  # another host name for the same server
    ("http://evil.example" + ARTICLE, "offsite"),
    (BASE + "/en/tag/iraq", "not_wanted"),
    (BASE + "/en/print/104257", "not_wanted"),
])
def test_a_request_outside_is_refused_counted_and_logged(url: str, why: str, caplog: pytest.LogCaptureFixture) -> None:
    mw = opened()
    with caplog.at_level(logging.WARNING, logger="arabtoday.middlewares"), pytest.raises(OutOfScope) as caught:
        mw.process_request(Request(url))
    assert caught.value.why == why
    assert blocked(mw, why) == 1
    assert logged(caplog) == [f"blocked a request outside the site: {url} ({why})"]


def test_a_redirect_out_of_the_site_names_where_it_came_from(caplog: pytest.LogCaptureFixture) -> None:
    mw = opened()
    origin, target = BASE + ARTICLE, "http://127.0.0.2:8000" + ARTICLE
    redirected = Request(target, meta={"redirect_urls": [BASE + "/en/politics/1/x", origin]})
    with caplog.at_level(logging.WARNING, logger="arabtoday.middlewares"), pytest.raises(OutOfScope) as caught:
        mw.process_request(redirected)
    assert f"(redirected from {origin})" in str(caught.value)
    assert logged(caplog) == [f"blocked a redirect from {origin} to {target}: offsite"]
    for _ in range(2):
        with pytest.raises(OutOfScope):
            mw.process_request(Request("http://evil.example/"))
    assert blocked(mw, "offsite") == 3


def test_before_the_spider_opens_nothing_is_judged_and_spider_opened_sets_the_scope() -> None:
    crawler = project_crawler({"base_url": BASE})
    mw = ScopeMiddleware.from_crawler(crawler)
    assert mw.process_request(Request("http://evil.example/")) is None
    crawler.signals.send_catch_log(signal=signals.spider_opened, spider=crawler.spider)
    with pytest.raises(OutOfScope):
        mw.process_request(Request("http://evil.example/"))


def test_the_scope_is_the_spider_s_base_url() -> None:
    mw = opened("https://www.arabstoday.net")
    assert mw.process_request(Request("http://arabstoday.net" + ARTICLE)) is None  # www. or not, http or https
    with pytest.raises(OutOfScope):
        mw.process_request(Request(BASE + ARTICLE))
