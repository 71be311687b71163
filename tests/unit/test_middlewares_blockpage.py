"""Block pages (``arabtoday.middlewares.BlockPageMiddleware``), a downloader middleware: the very
same body served for several article addresses is a block page and fails as ``blocked``.

Built by Scrapy's ``build_from_crawler`` on a crawler from ``get_crawler`` with the project's
settings; ``process_response`` is called directly.
"""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.misc import build_from_crawler

from arabtoday.middlewares import BlockPageMiddleware
from arabtoday.run.blocking import SAME_BODY_ADDRESSES, BlockedPage
from conftest import UNIT_BASE, project_crawler

PAGE = b"<html><body><h1>Please wait while we check your browser</h1></body></html>"


def answer(n: int, body: bytes = PAGE, status: int = 200, article: bool = True) -> tuple[Request, HtmlResponse]:
    url = f"{UNIT_BASE}/en/politics/{n}/x"
    return (Request(url, meta={"article_id": f"en-{n}"} if article else {}),
            HtmlResponse(url, status=status, body=body))


def middleware() -> BlockPageMiddleware:
    return build_from_crawler(BlockPageMiddleware, project_crawler())


def test_one_body_for_several_article_addresses_is_a_block_page() -> None:
    mw = middleware()
    for n in range(1, SAME_BODY_ADDRESSES):
        request, response = answer(n)
        assert mw.process_response(request, response) is response
    request, response = answer(SAME_BODY_ADDRESSES)
    with pytest.raises(BlockedPage, match=response.url):
        mw.process_response(request, response)
    request, response = answer(1)  # the first address again: the body is known as a block page now
    with pytest.raises(BlockedPage):
        mw.process_response(request, response)


def test_the_same_address_fetched_again_is_not_several_addresses() -> None:
    mw = middleware()
    for _ in range(SAME_BODY_ADDRESSES + 2):
        request, response = answer(1)
        assert mw.process_response(request, response) is response


@pytest.mark.parametrize(("status", "article"), [(404, True), (200, False)])
def test_only_article_answers_with_status_200_are_judged(status: int, article: bool) -> None:
    mw = middleware()
    for n in range(SAME_BODY_ADDRESSES + 2):
        request, response = answer(n, status=status, article=article)
        assert mw.process_response(request, response) is response


def test_different_bodies_are_different_pages() -> None:
    mw = middleware()
    for n in range(SAME_BODY_ADDRESSES + 2):
        request, response = answer(n, body=PAGE.replace(b"wait", f"wait {n}".encode()))
        assert mw.process_response(request, response) is response
