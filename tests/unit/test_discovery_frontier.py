"""The frontier (``arabtoday.discovery.frontier.Frontier``, an extension) and its spider middleware
(``arabtoday.middlewares.FrontierMiddleware``): a callback's requests go on while the scheduler has
room; outputs pause when it is full (counted once per pause), wake most urgent first (article, then
page, then sitemap), keep within ``max_articles``, and are all let go when the run stops.

A crawler from Scrapy's ``get_crawler`` with the project's settings builds both; its engine is an
:class:`conftest.EngineStandIn` with Scrapy's real scheduler, which queues what the middleware lets
through (``request_scheduled``) and hands requests to the "downloader" (``request_reached_downloader``),
as the engine does. Outputs are driven with ``asyncio.run``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.http import HtmlResponse

from arabtoday.discovery import frontier as frontier_module
from arabtoday.discovery.frontier import ADMITTED, Frontier, kind_of
from arabtoday.meta import ARTICLE_ID, SOURCE
from arabtoday.middlewares import FrontierMiddleware
from arabtoday.signals import ARTICLE_OUTCOME, RUN_STOPPING
from arabtoday.stats import Bucket, Stat
from conftest import UNIT_BASE, EngineStandIn, aiter_of, project_crawler, project_settings, snapshot_article

RESPONSE = HtmlResponse(f"{UNIT_BASE}/en/", body=b"<html></html>")
QUEUE_FULL = Stat.BOUND.format(name="queue_full")
_numbers = iter(range(1, 1_000_000))


def article() -> Request:
    n = next(_numbers)
    return Request(f"{UNIT_BASE}/en/politics/{n}/x", meta={ARTICLE_ID: f"en-{n}", SOURCE: "sitemap"})


def page() -> Request:
    return Request(f"{UNIT_BASE}/en/politics?page={next(_numbers)}", meta={SOURCE: "listing"})


def sitemap() -> Request:
    return Request(f"{UNIT_BASE}/sitemaps/en-{next(_numbers)}.xml", meta={SOURCE: "sitemap"})


class Run:
    """A crawler, its frontier, the middleware and the stand-in engine; ``output(...)`` starts a callback's
    output through the middleware, each request it passes on being scheduled as the engine would."""

    def __init__(self, spider_args: dict[str, Any] | None = None, **settings: Any) -> None:
        self.crawler: Crawler = project_crawler(spider_args, **settings)
        self.engine = EngineStandIn(self.crawler)
        self.frontier = self.crawler.get_extension(Frontier)
        self.mw = FrontierMiddleware.from_crawler(self.crawler)
        self.scheduled: list[Request] = []

    def output(self, *entries: Any) -> asyncio.Task[list[Any]]:
        async def consume() -> list[Any]:
            passed = []
            async for entry in self.mw.process_spider_output(RESPONSE, aiter_of(*entries)):
                if isinstance(entry, Request):
                    self.engine.schedule(entry)
                    self.scheduled.append(entry)
                passed.append(entry)
            return passed

        return asyncio.ensure_future(consume())

    def fill(self, n: int) -> None:
        """``n`` requests already queued (scheduled earlier, outside the frontier)."""
        for _ in range(n):
            self.engine.schedule(page())

    async def download(self, n: int = 1) -> None:
        """The downloader takes ``n`` requests, one at a time, and each output let go runs on."""
        for _ in range(n):
            self.engine.download()
            await settle()

    @property
    def queue_full(self) -> int:
        return self.crawler.stats.get_value(QUEUE_FULL, 0)


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


def test_requests_go_on_at_once_while_the_scheduler_has_room() -> None:
    run = Run(ARABTODAY_MAX_QUEUED_REQUESTS=5)
    item = {"an": "item"}
    entries = [article(), page(), item, sitemap(), article()]

    async def scenario() -> list[Any]:
        return await asyncio.wait_for(run.output(*entries), 1)

    assert asyncio.run(scenario()) == entries
    assert len(run.engine.scheduler) == 4
    assert run.queue_full == 0
    assert (run.frontier.in_transit, run.frontier.articles_in_transit) == (0, 0)  # all scheduled, none in transit
    assert not any(ADMITTED in r.meta for r in run.scheduled)


def test_a_full_scheduler_pauses_every_output_counted_once_per_pause() -> None:
    run = Run(ARABTODAY_MAX_QUEUED_REQUESTS=2)
    run.fill(2)

    async def scenario() -> tuple[int, int, list[int], int]:
        outputs = [run.output(page(), page()) for _ in range(3)]
        await settle()
        paused = sum(not o.done() for o in outputs)
        counted = run.queue_full
        queued = []
        while not all(o.done() for o in outputs):
            await run.download()
            queued.append(len(run.engine.scheduler))
        first_pause = run.queue_full
        run.fill(2 - len(run.engine.scheduler))  # full again: a new pause
        late = run.output(page())
        await settle()
        assert not late.done()
        await run.download()
        await asyncio.wait_for(late, 1)
        return paused, counted, queued, first_pause

    paused, counted, queued, first_pause = asyncio.run(scenario())
    assert paused == 3 and counted == 1
    assert first_pause == 1, "one pause while outputs kept waiting: counted once"
    assert max(queued) <= 2, "the scheduler never held more than the bound"
    assert len(run.scheduled) == 7
    assert run.queue_full == 2


def test_waiting_outputs_wake_article_first_then_page_then_sitemap() -> None:
    run = Run(ARABTODAY_MAX_QUEUED_REQUESTS=1)
    run.fill(1)
    waiting = [sitemap(), page(), article()]  # in the order they came to wait

    async def scenario() -> list[str]:
        outputs = [run.output(r) for r in waiting]
        await settle()
        assert not any(o.done() for o in outputs)
        for _ in waiting:
            await run.download()
        await asyncio.wait_for(asyncio.gather(*outputs), 1)
        return [kind_of(r) for r in run.scheduled]

    assert asyncio.run(scenario()) == ["article", "page", "sitemap"]


def test_with_max_articles_articles_wait_for_the_budget_and_a_dropped_one_gives_its_place_back() -> None:
    run = Run({"max_articles": "2"}, ARABTODAY_MAX_QUEUED_REQUESTS=100)
    a1, a2, a3, a4 = article(), article(), article(), article()

    async def scenario() -> None:
        articles = run.output(a1, a2, a3, a4)
        await settle()
        assert run.scheduled == [a1, a2], "two articles in flight: the budget is spent"
        pages = run.output(page(), sitemap())
        await settle()
        assert pages.done(), "the budget is the articles': pages and sitemaps go on at once"
        # a1 emitted (the ledger closes its account, counted emitted): it counts against the limit
        run.crawler.signals.send_catch_log(signal=signals.item_scraped, item=snapshot_article(id=a1.meta[ARTICLE_ID]),
                                           response=None, spider=run.crawler.spider)
        assert run.crawler.stats.get_value(Stat.EMITTED) == 1
        await settle()
        assert a3 not in run.scheduled
        # a2 dropped (gone): its place is given back to a3
        run.crawler.signals.send_catch_log(signal=ARTICLE_OUTCOME, article_id=a2.meta[ARTICLE_ID], url=a2.url,
                                           bucket=Bucket.DROPPED, reason="gone")
        await settle()
        assert a3 in run.scheduled and a4 not in run.scheduled
        run.crawler.signals.send_catch_log(signal=RUN_STOPPING, reason="max_articles")
        await asyncio.wait_for(articles, 1)

    asyncio.run(scenario())
    assert run.scheduled[-1] is a4


@pytest.mark.parametrize("stop", [RUN_STOPPING, signals.spider_closed])
def test_when_the_run_stops_every_waiting_output_is_let_go(stop: object) -> None:
    run = Run(ARABTODAY_MAX_QUEUED_REQUESTS=1)
    run.fill(1)

    async def scenario() -> None:
        outputs = [run.output(page(), article()), run.output(sitemap()), run.output(article())]
        await settle()
        assert not any(o.done() for o in outputs) and run.frontier.pending
        run.crawler.signals.send_catch_log(signal=stop, reason="shutdown")
        await asyncio.wait_for(asyncio.gather(*outputs), 1)
        later = run.output(page(), page())  # nothing waits for room any more
        await asyncio.wait_for(later, 1)

    asyncio.run(scenario())
    assert len(run.scheduled) == 6 and not run.frontier.pending


def test_a_waiting_output_is_let_go_when_the_engine_cannot_make_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(frontier_module, "CHECK_SECONDS", 0.01)
    run = Run(ARABTODAY_MAX_QUEUED_REQUESTS=1)
    run.fill(1)

    async def scenario() -> bool:
        output = run.output(page())
        await asyncio.sleep(0.05)
        still_waiting = not output.done()  # the engine runs: room will come
        run.engine.running = False
        await asyncio.wait_for(output, 1)
        return still_waiting

    assert asyncio.run(scenario()) is True


def test_a_cancelled_output_leaves_nothing_waiting() -> None:
    run = Run(ARABTODAY_MAX_QUEUED_REQUESTS=1)
    run.fill(1)

    async def scenario() -> None:
        output = run.output(sitemap())
        await settle()
        assert run.frontier.pending
        output.cancel()
        await settle()

    asyncio.run(scenario())
    assert not run.frontier.pending


def test_with_a_jobdir_the_queue_is_on_disk_and_takes_everything(tmp_path: Path) -> None:
    run = Run(ARABTODAY_MAX_QUEUED_REQUESTS=1, JOBDIR=str(tmp_path / "job"))
    assert run.frontier.max_queued == float("inf")

    async def scenario() -> None:
        await asyncio.wait_for(run.output(*(page() for _ in range(5))), 1)

    asyncio.run(scenario())
    assert len(run.engine.scheduler) == 5 and run.queue_full == 0


def test_without_the_frontier_extension_the_middleware_passes_everything_on() -> None:
    extensions = {**project_settings()["EXTENSIONS"], "arabtoday.discovery.frontier.Frontier": None}
    run = Run(ARABTODAY_MAX_QUEUED_REQUESTS=1, EXTENSIONS=extensions)
    assert run.frontier is None
    run.fill(1)

    async def scenario() -> list[Any]:
        return await asyncio.wait_for(run.output(page(), article()), 1)

    assert len(asyncio.run(scenario())) == 2
