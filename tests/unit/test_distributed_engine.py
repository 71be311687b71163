"""The two engine internals the distributed bookkeeping reads (``arabtoday.distributed.engine``), held
to the pinned Scrapy: a real ``ExecutionEngine``, opened on a crawler from Scrapy's ``get_crawler``,
answers which requests it still holds and wakes when asked. A Scrapy upgrade that renames
``_slot``, ``inprogress``, ``closing`` or ``nextcall`` fails here, not in a distributed crawl.

Driven with ``asyncio.run`` (the engine runs reactorless on an asyncio loop here).
"""

from __future__ import annotations

import asyncio

from scrapy import Request
from scrapy.utils.test import get_crawler

from arabtoday.distributed.engine import requests_in_progress, wake


def test_a_real_engine_tells_what_it_holds_and_wakes_when_asked() -> None:
    crawler = get_crawler()
    crawler.spider = crawler._create_spider()
    engine = crawler.engine = crawler._create_engine()

    async def scenario() -> None:
        assert requests_in_progress(engine) == set()  # not opened: nothing held
        wake(engine)  # nothing to wake: no error
        await engine.open_spider_async(close_if_idle=False)
        await asyncio.sleep(0.05)  # the start's own calls are done
        request = Request("http://unit.test/en/politics/1/x")
        engine._slot.add_request(request)  # what the engine does when the download starts
        held = requests_in_progress(engine)
        assert held == {request}
        held.clear()
        assert requests_in_progress(engine) == {request}, "a copy: the caller cannot change the engine's set"
        wake(engine)
        await asyncio.wait_for(engine._slot.nextcall.wait(), 1)  # it looked at its scheduler now, not in 5 s
        engine._slot.remove_request(request)  # its items are through the pipelines
        assert requests_in_progress(engine) == set()
        closing = asyncio.ensure_future(engine.close_spider_async(reason="finished"))
        await asyncio.sleep(0)
        wake(engine)  # closing or closed: left alone
        await asyncio.wait_for(closing, 5)
        assert requests_in_progress(engine) == set()

    asyncio.run(scenario())
