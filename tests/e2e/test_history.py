"""The dataset is the site's history (end to end, on loopback, retries and backoff on).

Each test plays a change of the site on a private copy of the snapshot served by
the dev server, crawls it (once or in two runs sharing a state), and checks the
lines written, the rows ``arabtoday export`` resolves from them in both orders of
the files (stories, and ``--history``), the accounting and the exit status.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from arabtoday.export.dataset import run_export
from conftest import (
    FAST,
    CrawlResult,
    Server,
    article_path,
    assert_accounted,
    assert_exit,
    copy_site,
    crawl,
    expected_records,
    site_meta,
    start_server,
    write_site_meta,
)
from devkit.site import edit_article, remove_article, republish, set_lastmod

pytestmark = pytest.mark.e2e

ORIGINAL, COPY = "en-104306", "en-104399"  # the snapshot's republished wire story: the copy came hours later
LATE_ORIGINAL = "en-104327"  # published 7 October 20:12; a copy of it is made below under a LOWER id, a day later
EARLY_COPY = "en-104302"
HOLD = "0.5"  # seconds an article waits for a lower id in flight (shortened; never zero)


def lines(result: CrawlResult) -> list[dict[str, Any]]:
    return result.lines  # every line the run wrote, in order, records and lines of history


def live(result: CrawlResult) -> dict[str, dict[str, Any]]:
    return result.of_status("live")


def of_status(result: CrawlResult, status: str) -> dict[str, dict[str, Any]]:
    return result.of_status(status)


def exported(files: list[Path], out: Path, history: bool = False) -> list[dict[str, Any]]:
    assert run_export(files, out, ["parquet"], history=history) == 0
    return pq.read_table(out / "articles.parquet").to_pylist()


def both_orders(files: list[Path], tmp_path: Path, history: bool = False) -> list[dict[str, Any]]:
    """The export's rows, which must not depend on the order of its input files."""
    tag = "history" if history else "stories"
    forward = exported(files, tmp_path / f"{tag}-forward", history)
    backward = exported(files[::-1], tmp_path / f"{tag}-backward", history)
    assert forward == backward
    return forward


def originals(base: str) -> set[str]:
    return {k for k, v in expected_records(base).items() if not v["duplicate_of"]}


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Path, list[Server]]]:
    """A site copy, and a list its test appends the server it starts to (stopped at the end)."""
    servers: list[Server] = []
    yield copy_site(tmp_path), servers
    for server in servers:
        server.stop()


def serve(root: Path, tmp_path: Path, servers: list[Server], faults: dict[str, str] | None = None) -> Server:
    meta = site_meta(root)
    meta["faults"] = faults or {}
    write_site_meta(root, meta)
    server = start_server(root, tmp_path)
    servers.append(server)
    return server


def add_early_copy(root: Path) -> None:
    """A near copy of ``LATE_ORIGINAL`` under a lower id, published a day after it."""
    republish(root, article_path(root, "en", 104327), 104302, title="Housing programme in Jerusalem cancelled",
              date_line="GMT 21:40 2017 Sunday ,8 October", lastmod="2017-10-08T21:40:00+00:00",
              edit=("<p>In Paris, nearly 40 refugees", "<p>In Paris, about 40 refugees"))


# -- originals first --------------------------------------------------------------------------------------------------

def test_the_original_wins_when_it_arrives_after_the_hold(site: tuple[Path, list[Server]], tmp_path: Path) -> None:
    """The original answers 3 s late (past the 0.5 s hold): its copy is in the dataset first, and a later
    line corrects it; a copy under a lower id published later never becomes the original."""
    root, servers = site
    add_early_copy(root)
    server = serve(root, tmp_path, servers, {article_path(root, "en", 104306): "slow:3"})
    result = crawl(server.base, tmp_path / "out.jsonl", settings={**FAST, "ARABTODAY_DEDUP_HOLD_SECONDS": HOLD})
    assert_exit(result, 0)
    assert_accounted(result)
    order = [(r["id"], r["status"]) for r in lines(result)]
    assert order.index((COPY, "live")) < order.index((ORIGINAL, "live")), "the copy did not arrive first"
    superseded = of_status(result, "superseded")
    assert {k: v["duplicate_of"] for k, v in superseded.items()} == {COPY: ORIGINAL, EARLY_COPY: LATE_ORIGINAL}
    assert order.index((COPY, "superseded")) > order.index((COPY, "live"))
    assert COPY in live(result)[ORIGINAL]["copies"]

    stories = {r["id"]: r for r in both_orders([result.output], tmp_path)}
    assert set(stories) == originals(server.base)
    assert stories[ORIGINAL]["copies"] == [COPY]
    assert stories[LATE_ORIGINAL]["copies"] == [EARLY_COPY]
    assert live(result)[ORIGINAL]["published_at"] < live(result)[COPY]["published_at"]
    history = {(r["id"], r["revision"]): r for r in both_orders([result.output], tmp_path, history=True)}
    assert history[(COPY, 1)]["status"] == "superseded" and history[(COPY, 1)]["duplicate_of"] == ORIGINAL


def test_an_original_that_fails_in_run_1_wins_in_run_2(site: tuple[Path, list[Server]], tmp_path: Path) -> None:
    root, servers = site
    retries = 2
    # every attempt of run 1 fails (the first try and its retries), run 2's first succeeds
    server = serve(root, tmp_path, servers, {article_path(root, "en", 104306): f"500@{retries + 1}"})
    settings = {**FAST, "ARABTODAY_STATE_DIR": str(tmp_path / "state"), "RETRY_TIMES": str(retries)}
    first = crawl(server.base, tmp_path / "run1.jsonl", settings=settings)
    assert_exit(first, 3)  # an article lost in run 1: said in the status
    assert_accounted(first)
    assert COPY in live(first) and ORIGINAL not in live(first)
    assert first.accounting["failed"] == {"http_500": 1}

    second = crawl(server.base, tmp_path / "run2.jsonl", settings=settings)
    assert_exit(second, 0)
    assert_accounted(second)
    assert [(r["id"], r["status"]) for r in lines(second)] == [(ORIGINAL, "live"), (COPY, "superseded")]
    assert live(second)[ORIGINAL]["copies"] == [COPY]
    assert of_status(second, "superseded")[COPY]["duplicate_of"] == ORIGINAL

    stories = {r["id"]: r for r in both_orders([first.output, second.output], tmp_path)}
    assert set(stories) == originals(server.base)
    assert stories[ORIGINAL]["copies"] == [COPY] and stories[ORIGINAL]["status"] == "live"


# -- revisions and removals -------------------------------------------------------------------------------------------

EDITED, GONE_410, GONE_404 = "en-104330", "en-104312", "en-104315"


def test_edits_and_removals_are_lines_of_history(site: tuple[Path, list[Server]], tmp_path: Path) -> None:
    """Run 2 sees an edit, a 410 still listed in its sitemap (lastmod moved), and an article gone from
    every sitemap and listing whose address answers 404 (found by the recheck)."""
    root, servers = site
    settings = {**FAST, "ARABTODAY_STATE_DIR": str(tmp_path / "state")}
    server = serve(root, tmp_path, servers)
    first = crawl(server.base, tmp_path / "run1.jsonl", settings=settings)
    assert_exit(first, 0)
    server.stop()

    moved = "2030-01-01T00:00:00+00:00"  # after run 1 by any clock
    edited = article_path(root, "en", 104330)
    edit_article(root, edited, "<p>The electoral commission extended",
                 "<p>Corrected: The electoral commission extended")
    set_lastmod(root, edited, moved)
    set_lastmod(root, article_path(root, "en", 104312), moved)
    remove_article(root, article_path(root, "en", 104315))
    server = serve(root, tmp_path, servers, {article_path(root, "en", 104312): "410"})
    second = crawl(server.base, tmp_path / "run2.jsonl", settings=settings)
    assert_exit(second, 0)
    accounting = assert_accounted(second)
    assert accounting["requested"] == 3  # the edit, the 410, the recheck: nothing else was fetched again

    assert set(live(second)) == {EDITED}
    revision = live(second)[EDITED]
    assert (revision["revision"], revision["previous_hash"]) == (2, first.by_id[EDITED]["content_hash"])
    assert revision["content_hash"] != first.by_id[EDITED]["content_hash"]
    removed = of_status(second, "removed")
    assert {k: v["removed_reason"] for k, v in removed.items()} == {GONE_410: "http_410", GONE_404: "http_404"}
    assert all(v["removed_at"] >= first.by_id[k]["crawled_at"] for k, v in removed.items())
    assert second.stats.get("arabtoday/history/rechecked/removed") == 1

    files = [first.output, second.output]
    stories = {r["id"]: r for r in both_orders(files, tmp_path)}
    assert set(stories) == originals(server.base)
    assert stories[EDITED]["revision"] == 2 and stories[EDITED]["body"].startswith("Corrected: ")
    for gone, reason in ((GONE_410, "http_410"), (GONE_404, "http_404")):
        assert stories[gone]["status"] == "removed" and stories[gone]["removed_reason"] == reason
        assert stories[gone]["body"] == first.by_id[gone]["body"]  # its last text is kept
    assert {r["status"] for k, r in stories.items() if k not in (GONE_410, GONE_404)} == {"live"}
    history = both_orders(files, tmp_path, history=True)
    assert [(r["revision"], r["previous_hash"]) for r in history if r["id"] == EDITED] == [
        (1, None), (2, first.by_id[EDITED]["content_hash"])]

    third = crawl(server.base, tmp_path / "run3.jsonl", settings=settings)
    assert_exit(third, 0)
    assert lines(third) == [] and third.accounting["requested"] == 0  # a removal is written once


def test_a_sitemap_that_fails_writes_no_removals(site: tuple[Path, list[Server]], tmp_path: Path) -> None:
    """An article that left its sitemap is not called removed while that sitemap could not be read; once it
    is read again, the removal is found."""
    root, servers = site
    settings = {**FAST, "ARABTODAY_STATE_DIR": str(tmp_path / "state")}
    server = serve(root, tmp_path, servers)
    assert_exit(crawl(server.base, tmp_path / "run1.jsonl", settings=settings), 0)
    server.stop()

    remove_article(root, article_path(root, "en", 104315))
    server = serve(root, tmp_path, servers, {"/sitemaps/en-2017-10.xml": "500"})
    second = crawl(server.base, tmp_path / "run2.jsonl", settings=settings)
    assert_exit(second, 8)  # discovery incomplete
    assert_accounted(second)
    assert lines(second) == []
    assert not second.stats.get("arabtoday/history/vanished")
    server.stop()

    server = serve(root, tmp_path, servers)
    third = crawl(server.base, tmp_path / "run3.jsonl", settings=settings)
    assert_exit(third, 0)
    assert [(r["id"], r["status"], r.get("removed_reason")) for r in lines(third)] == [
        (GONE_404, "removed", "http_404")]
