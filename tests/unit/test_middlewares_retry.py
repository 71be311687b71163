"""Retries with backoff (``arabtoday.middlewares.BackoffRetryMiddleware``, Scrapy's
``RetryMiddleware`` with a delay): the delay doubles with each attempt up to its cap, a
``Retry-After`` is honoured within the cap, and a DNS failure or a refused connection is retried once
only, so that an unreachable site ends the run quickly.

Built by ``from_crawler`` on a crawler from Scrapy's ``get_crawler`` with the project's settings;
``process_response`` and ``process_exception`` (coroutines: they wait the delay) are run with
``asyncio.run``.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from scrapy import Request
from scrapy.exceptions import CannotResolveHostError, DownloadConnectionRefusedError
from scrapy.http import HtmlResponse
from twisted.internet.error import ConnectionRefusedError as TxConnectionRefusedError
from twisted.internet.error import DNSLookupError
from twisted.internet.error import TimeoutError as TxTimeoutError

from arabtoday.middlewares import QUICK_FAILURE_RETRIES, BackoffRetryMiddleware
from conftest import UNIT_BASE, project_crawler

URL = f"{UNIT_BASE}/en/politics/1/x"


def middleware(base: float = 0.5, cap: float = 4.0, **settings: Any) -> BackoffRetryMiddleware:
    return BackoffRetryMiddleware.from_crawler(project_crawler(
        ARABTODAY_RETRY_BACKOFF_BASE=base, ARABTODAY_RETRY_BACKOFF_MAX=cap, **settings))


def answer(status: int, **headers: str) -> HtmlResponse:
    return HtmlResponse(URL, status=status, body=b"<html></html>", headers=headers)


def timed(coro: Any) -> tuple[Any, float]:
    started = time.monotonic()
    result = asyncio.run(coro)
    return result, time.monotonic() - started


def test_the_delay_doubles_with_each_attempt_up_to_the_cap() -> None:
    mw = middleware(base=0.5, cap=4.0)
    delays = [mw.delay(Request(URL, meta={"retry_times": n})) for n in range(1, 7)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


@pytest.mark.parametrize(("retry_after", "delay"), [("3", 3.0), ("0", 0.5), ("60", 4.0), ("soon", 0.5),
                                                    (" 2 ", 2.0)])
def test_retry_after_is_honoured_within_the_cap(retry_after: str, delay: float) -> None:
    mw = middleware(base=0.5, cap=4.0)
    assert mw.delay(Request(URL, meta={"retry_times": 1}), answer(429, **{"Retry-After": retry_after})) == delay


def test_a_retried_answer_is_retried_after_the_delay_and_counted() -> None:
    mw = middleware(base=0.1, cap=1.0, RETRY_TIMES=2)
    retry, waited = timed(mw.process_response(Request(URL), answer(503)))
    assert isinstance(retry, Request) and retry.meta["retry_times"] == 1
    assert waited >= 0.1
    again, waited = timed(mw.process_response(retry, answer(503)))
    assert again.meta["retry_times"] == 2 and waited >= 0.2  # doubled
    final = answer(503)
    given_up, waited = timed(mw.process_response(again, final))
    assert given_up is final and waited < 0.3  # no more tries: on at once, not after another 0.4 s
    stats = mw.crawler.stats
    assert stats.get_value("retry/count") == 2 and stats.get_value("retry/max_reached") == 1


def test_retry_after_longer_than_the_cap_waits_the_cap() -> None:
    mw = middleware(base=0.01, cap=0.2)
    retry, waited = timed(mw.process_response(Request(URL), answer(429, **{"Retry-After": "30"})))
    assert isinstance(retry, Request)
    assert 0.2 <= waited < 5


def test_an_answer_that_is_not_retried_goes_on_at_once() -> None:
    mw = middleware(base=1.0)
    ok = answer(200)
    result, waited = timed(mw.process_response(Request(URL), ok))
    assert result is ok and waited < 0.5
    assert mw.crawler.stats.get_value("retry/count") is None


@pytest.mark.parametrize("error", [DNSLookupError(), CannotResolveHostError(), TxConnectionRefusedError(),
                                   DownloadConnectionRefusedError()], ids=lambda e: type(e).__name__)
def test_a_dns_failure_or_a_refused_connection_is_retried_once_only(error: Exception) -> None:
    mw = middleware(base=0.01, RETRY_TIMES=4)
    retry = asyncio.run(mw.process_exception(Request(URL), error))
    assert isinstance(retry, Request) and retry.meta["retry_times"] == QUICK_FAILURE_RETRIES
    assert asyncio.run(mw.process_exception(retry, error)) is None  # given up: the errback counts it
    assert mw.crawler.stats.get_value("retry/count") == 1


def test_other_failures_are_retried_up_to_retry_times() -> None:
    mw = middleware(base=0.001, cap=0.001, RETRY_TIMES=3)
    request, tries = Request(URL), 0
    while isinstance(request, Request):
        request = asyncio.run(mw.process_exception(request, TxTimeoutError()))
        tries += isinstance(request, Request)
    assert tries == 3
    assert mw.crawler.stats.get_value("retry/count") == 3
