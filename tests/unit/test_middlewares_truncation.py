"""Responses cut short (``arabtoday.middlewares.TruncationMiddleware``), a downloader middleware: a
``partial`` response whose document stops mid-way is retried, then fails as ``truncated``; a whole
one, or one that is not a 200, goes on.

Built by ``from_crawler`` on a crawler from Scrapy's ``get_crawler`` with the project's settings;
``process_response`` is called directly.
"""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse

from arabtoday.middlewares import TruncationMiddleware
from arabtoday.run.failures import Truncated
from arabtoday.stats import Stat
from conftest import UNIT_BASE, project_crawler

URL = f"{UNIT_BASE}/en/politics/1/x"
WHOLE = b"<html><body><p>All of it.</p></body></html>\n"
CUT = b"<html><body><p>Half a senten"


def response(body: bytes, partial: bool = True, status: int = 200) -> HtmlResponse:
    return HtmlResponse(URL, status=status, body=body, flags=["partial"] if partial else [])


def test_a_response_cut_mid_document_is_retried_then_fails_as_truncated() -> None:
    crawler = project_crawler(RETRY_TIMES=2)
    mw = TruncationMiddleware.from_crawler(crawler)
    request = Request(URL, meta={"article_id": "en-1"})
    attempts = []
    for _ in range(2):
        retry = mw.process_response(request, response(CUT))
        assert isinstance(retry, Request) and retry.url == URL and retry.dont_filter
        attempts.append(retry.meta["retry_times"])
        request = retry
    assert attempts == [1, 2]
    with pytest.raises(Truncated, match="cut short"):
        mw.process_response(request, response(CUT))
    assert crawler.stats.get_value(Stat.TRUNCATED_RESPONSES) == 3
    assert crawler.stats.get_value("retry/reason_count/truncated") == 2


@pytest.mark.parametrize(("body", "partial", "status"), [
    (WHOLE, True, 200),  # partial, but the document is whole
    (b"<html><body><table><tr><td>Old page</td></tr></table>", True, 200),  # omits its end tags, ends on a tag
    (CUT, False, 200),  # not flagged partial: the transport knew its length
    (CUT, True, 404),
])
def test_whole_or_not_flagged_responses_go_on(body: bytes, partial: bool, status: int) -> None:
    crawler = project_crawler()
    mw = TruncationMiddleware.from_crawler(crawler)
    answer = response(body, partial, status)
    assert mw.process_response(Request(URL), answer) is answer
    assert crawler.stats.get_value(Stat.TRUNCATED_RESPONSES) is None
