"""The ordering hold (``arabtoday.dedup.ordering.OrderingHold``), an extension built by Scrapy's
``get_crawler``: an item waits, within bounds, while a lower id of its edition is in flight.

Driven with ``asyncio.run`` (see ``tests/conftest.py``, "Async components")."""

from __future__ import annotations

import asyncio

from scrapy.utils.test import get_crawler

from arabtoday.dedup.ordering import OrderingHold
from arabtoday.stats import Stat


def hold(**settings: object) -> OrderingHold:
    crawler = get_crawler(settings_dict={"ARABTODAY_DEDUP_HOLD_SECONDS": 5, "ARABTODAY_DEDUP_HOLD_MAX_ITEMS": 2,
                                         **settings})
    crawler.stats.open_spider()
    return OrderingHold.from_crawler(crawler)


def in_flight(ordering: OrderingHold, *ids: str) -> None:
    from scrapy import Request

    for article_id in ids:
        ordering.reached_downloader(Request("https://x/", meta={"article_id": article_id}))


def test_an_item_waits_for_a_lower_id_and_goes_on_when_it_is_decided() -> None:
    ordering = hold()
    in_flight(ordering, "en-1", "en-5", "ar-1")

    async def scenario() -> tuple[bool, float]:
        loop = asyncio.get_running_loop()
        started = loop.time()
        loop.call_later(0.05, ordering.decided, "en-1", "failed", "http_500")
        waited = await ordering.wait_for_lower_ids("en-5")
        return waited, loop.time() - started

    waited, took = asyncio.run(scenario())
    assert waited and took < 1
    assert not ordering.lower_in_flight("en-5")
    assert ordering.lower_in_flight("ar-9")  # editions are apart: ar-1 is still in flight


def test_a_wait_that_runs_out_is_counted_and_never_raises() -> None:
    ordering = hold(ARABTODAY_DEDUP_HOLD_SECONDS=0.05)
    in_flight(ordering, "en-1")
    assert asyncio.run(ordering.wait_for_lower_ids("en-2")) is False
    assert ordering.stats.get_value(Stat.ORDER_TIMEOUT) == 1
    assert ordering.waiting == 0


def test_past_the_cap_items_go_on_at_once_and_closing_releases_everyone() -> None:
    ordering = hold(ARABTODAY_DEDUP_HOLD_MAX_ITEMS=1)
    in_flight(ordering, "en-1")

    async def scenario() -> list[bool]:
        first = asyncio.ensure_future(ordering.wait_for_lower_ids("en-2"))
        await asyncio.sleep(0.01)
        second = await ordering.wait_for_lower_ids("en-3")  # no room: at once
        asyncio.get_running_loop().call_later(0.02, ordering.spider_closed)
        return [second, await first]

    assert asyncio.run(scenario()) == [False, True]
    assert ordering.stats.get_value(Stat.ORDER_FULL) == 1


def test_the_project_s_hold_follows_the_crawl_s_signals() -> None:
    """Built by the project's settings: requests reaching the downloader put ids in flight (not those
    marked decided), the ledger's ``ARTICLE_DECIDED`` takes them out, ``RUN_STOPPING`` lets every item go."""
    from scrapy import Request, signals

    from arabtoday.signals import ARTICLE_DECIDED, RUN_STOPPING
    from conftest import project_crawler

    crawler = project_crawler(ARABTODAY_DEDUP_HOLD_SECONDS=5)
    ordering = crawler.get_extension(OrderingHold)
    for meta in ({"article_id": "en-1"}, {"article_id": "en-3", "decided": True}, {"source": "listing"}):
        crawler.signals.send_catch_log(signal=signals.request_reached_downloader,
                                       request=Request("https://x/", meta=meta), spider=crawler.spider)
    assert ordering.in_flight == {"en": {1}}

    async def scenario() -> tuple[bool, bool]:
        waiting = asyncio.ensure_future(ordering.wait_for_lower_ids("en-5"))
        await asyncio.sleep(0.02)
        held = not waiting.done()
        crawler.signals.send_catch_log(signal=ARTICLE_DECIDED, article_id="en-1", bucket="emitted", reason="")
        return held, await asyncio.wait_for(waiting, 1)

    assert asyncio.run(scenario()) == (True, True)
    crawler.signals.send_catch_log(signal=signals.request_reached_downloader,
                                   request=Request("https://x/", meta={"article_id": "en-2"}), spider=crawler.spider)

    async def stopping() -> bool:
        waiting = asyncio.ensure_future(ordering.wait_for_lower_ids("en-5"))
        await asyncio.sleep(0.02)
        crawler.signals.send_catch_log(signal=RUN_STOPPING, reason="shutdown")
        return await asyncio.wait_for(waiting, 1)

    assert asyncio.run(stopping()) is True and ordering.closed
    assert asyncio.run(ordering.wait_for_lower_ids("en-9")) is True  # closed: nothing waits any more
