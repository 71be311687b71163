"""The crawl's small parts, each on its own: settings validation, exit statuses,
the scope rule, truncation and block-page judgement, the ordering hold."""

from __future__ import annotations

import asyncio

import pytest
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from arabtoday import settings as project_settings
from arabtoday.config import BY_NAME, SETTINGS, markdown, problems
from arabtoday.dedup.ordering import OrderingHold
from arabtoday.exitstatus import ExitStatus, exit_status
from arabtoday.run.blocking import BlockPageDetector, says_blocked
from arabtoday.run.failures import looks_cut
from arabtoday.site.scope import Scope
from arabtoday.stats import Stat


def project(**overrides: str) -> Settings:
    settings = Settings()
    settings.setmodule(project_settings, priority="project")
    for name, value in overrides.items():
        settings.set(name, value, priority="cmdline")
    return settings


# -- settings ------------------------------------------------------------------------------------------------------

def test_the_project_defaults_are_valid() -> None:
    assert problems(project()) == []


@pytest.mark.parametrize(("name", "value", "says"), [
    ("ARABTODAY_NEAR_DUP_THRESHOLD", "2", "from 0.05 to 1"),
    ("ARABTODAY_INCREMENTAL", "maybe", "true or false"),
    ("ARABTODAY_MAX_QUEUED_REQUESTS", "lots", "a whole number"),
    ("ARABTODAY_FSYNC_EVERY", "0", "at least 1"),
    ("ARABTODAY_RETRY_BACKOFF_BASE", "nan", "a number"),
    ("ARABTODAY_REDIS_URL", "http://127.0.0.1:6379", "redis://"),
])
def test_a_bad_value_is_named_with_what_it_accepts(name: str, value: str, says: str) -> None:
    found = problems(project(**{name: value}))
    assert len(found) == 1
    assert found[0].startswith(f"{name}={value!r}") and says in found[0]


def test_a_misspelled_name_is_refused_with_a_suggestion() -> None:
    found = problems(project(ARABTODAY_STAET_DIR="/tmp/x"))
    assert found == ["unknown setting ARABTODAY_STAET_DIR (did you mean ARABTODAY_STATE_DIR?)"]


def test_settings_take_their_defaults_from_the_table_and_the_readme_lists_them() -> None:
    settings = project()
    for spec in SETTINGS:
        assert settings.get(spec.name) == spec.default, spec.name
    table = markdown()
    assert all(f"`{name}`" in table for name in BY_NAME)


# -- exit statuses -------------------------------------------------------------------------------------------------

def test_a_clean_run_exits_zero() -> None:
    assert exit_status({"arabtoday/articles/emitted": 30})[0] is ExitStatus.OK


def test_failed_articles_exit_three_and_say_how_many() -> None:
    status, reason = exit_status({"arabtoday/articles/failed/http_500": 2, "arabtoday/articles/failed/timeout": 1})
    assert status is ExitStatus.ARTICLES_FAILED and reason.startswith("3 article page(s) failed")


def test_the_graver_cause_wins() -> None:
    stats = {"arabtoday/articles/failed/http_500": 1, Stat.EXIT_CAUSE.format(name="write_failed"): 1,
             Stat.EXIT_CAUSE.format(name="blocked"): 1}
    assert exit_status(stats)[0] is ExitStatus.WRITE_FAILED
    stats[Stat.EXIT_CAUSE.format(name="interrupted_term")] = 1
    assert exit_status(stats)[0] is ExitStatus.INTERRUPTED_TERM


def test_an_accounting_gap_is_an_internal_error() -> None:
    assert exit_status({"arabtoday/errors/accounting": 1})[0] is ExitStatus.INTERNAL_ERROR


# -- the scope rule ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("url", "why"), [
    ("https://www.arabstoday.net/en/politics/104257/a-title", None),
    ("https://arabstoday.net/ar/economy/680100", None),  # with or without www.
    ("http://www.arabstoday.net/en/", None),  # the same host over http
    ("https://www.arabstoday.net/robots.txt", None),
    ("https://www.arabstoday.net/sitemaps/en-2017-10.xml", None),
    ("https://evil.example/en/politics/104257/a-title", "offsite"),
    ("https://www.arabstoday.net.evil.example/en/politics/104257", "offsite"),
    ("https://www.arabstoday.net:8443/en/politics/104257", "offsite"),  # another port
    ("ftp://www.arabstoday.net/en/politics/104257", "offsite"),
    ("https://www.arabstoday.net:notaport/en/", "offsite"),
    ("https://www.arabstoday.net/en/tag/syria", "not_wanted"),
    ("https://www.arabstoday.net/en/print/104257", "not_wanted"),
    ("https://www.arabstoday.net/search?q=x", "not_wanted"),
])
def test_scope_on_the_live_site(url: str, why: str | None) -> None:
    assert Scope.from_base_url("https://www.arabstoday.net").why_not(url) == why


def test_scope_of_a_copy_on_a_port_keeps_the_port_and_allows_the_upgrade_to_https() -> None:
    scope = Scope.from_base_url("http://127.0.0.1:8000")
    assert scope.why_not("http://127.0.0.1:8000/en/politics/104257/x") is None
    assert scope.why_not("https://127.0.0.1:8000/en/politics/104257/x") is None
    assert scope.why_not("http://127.0.0.1:8001/en/politics/104257/x") == "offsite"
    assert scope.why_not("http://localhost:8000/en/politics/104257/x") == "offsite"


# -- truncation and block pages ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "cut"), [
    (b"<html><body><p>All of it.</p></body></html>\n", False),
    (b"<html><body><p>All of it.</p></BODY>", False),
    (b"<html><body><table><tr><td><font>Old page</font></td></tr></table>", False),  # omits its end tags
    (b"<html><body><p>Half a senten", True),
    (b"<html><body><p>Half a sentence.</p><div cla", True),
    (b"", True),
])
def test_looks_cut(body: bytes, cut: bool) -> None:
    assert looks_cut(body) is cut


def test_one_body_for_many_article_addresses_is_a_block_page() -> None:
    detector = BlockPageDetector()
    page = b"<html><body><h1>Please wait</h1></body></html>"
    verdicts = [detector.served_for_many(page, f"https://x/en/politics/{n}") for n in range(4)]
    assert verdicts == [False, False, True, True]
    assert not detector.served_for_many(page.replace(b"wait", b"hold"), "https://x/en/politics/9")


def test_a_short_page_that_says_it_blocks_is_one_and_an_article_that_mentions_it_is_not() -> None:
    assert says_blocked(b"<html><title>Access denied</title><body>Access denied</body></html>")
    assert says_blocked("<html><body>تم حظر عنوانك</body></html>".encode())
    article = b'<html><head><meta property="og:type" content="article"></head><body>Entry was forbidden.</body>'
    assert not says_blocked(article)


# -- the ordering hold ---------------------------------------------------------------------------------------------

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
