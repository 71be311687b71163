"""A removed article stays removed (end to end, on loopback): the live crawl finds it gone and writes its
``removed`` line; a Wayback backfill brings its text back (origin ``wayback``); the export still calls it
removed, and the next live run writes no second ``removed`` line and asks for nothing again."""

from __future__ import annotations

from pathlib import Path

import pytest

from arabtoday.export.resolve import Log
from conftest import FAST, assert_accounted, assert_exit, copy_site, crawl, serving
from devkit.archives import Archived, WaybackServer
from devkit.site import (
    article_page,
    article_path,
    earlier_text,
    remove_article,
    served_url,
    set_lastmod,
    unlist_article,
)

pytestmark = pytest.mark.e2e

SITE = "https://www.arabstoday.net"  # the address the archive holds captures of
GONE_404, GONE_410 = "104315", "104312"  # unlisted and answering 404 (found by the recheck); listed, answering 410
MOVED = "2030-01-01T00:00:00+00:00"  # the 410's sitemap lastmod after run 1, by any clock


def _page(number: str) -> Path:
    return article_page("en", number)


def older(number: str) -> bytes:
    """The article as archived before the site edited it (an earlier text: not one the state holds)."""
    return earlier_text(_page(number), SITE)


def test_a_backfilled_capture_of_a_removed_article_does_not_make_it_live_again(tmp_path: Path) -> None:
    root = copy_site(tmp_path / "site")
    settings = {**FAST, "ARABTODAY_STATE_DIR": str(tmp_path / "state")}
    with serving(root, tmp_path, {}) as server:
        first = crawl(server.base, tmp_path / "run1.jsonl", "lang=en", settings=settings)
    assert_exit(first, 0)
    gone_410 = article_path(root, "en", int(GONE_410))
    set_lastmod(root, gone_410, MOVED)
    remove_article(root, article_path(root, "en", int(GONE_404)))
    with serving(root, tmp_path, {"faults": {gone_410: "410"}}) as server:
        second = crawl(server.base, tmp_path / "run2.jsonl", "lang=en", settings=settings)
    assert_exit(second, 0)
    assert {r["id"]: r["removed_reason"] for r in second.lines if r["status"] == "removed"} == {
        f"en-{GONE_404}": "http_404", f"en-{GONE_410}": "http_410"}

    captures = [Archived(f"2017101{n}000000", served_url(_page(number), SITE), older(number))
                for n, number in enumerate((GONE_404, GONE_410))]
    with WaybackServer(captures) as archive:
        back = crawl(SITE, tmp_path / "backfill.jsonl", "backfill=wayback", "lang=en",
                     settings={**settings, "ARABTODAY_WAYBACK_URL": archive.base, "RETRY_TIMES": "1",
                               "DOWNLOAD_TIMEOUT": "5"})
    assert_exit(back, 0)
    assert_accounted(back)
    assert back.stats["arabtoday/articles/emitted"] == len(captures)
    for n, number in enumerate((GONE_404, GONE_410)):
        record = back.by_id[f"en-{number}"]
        assert (record["origin"], record["captured_at"]) == ("wayback", f"2017-10-1{n}T00:00:00Z")
        assert (record["revision"], record["previous_hash"]) == (2, first.by_id[f"en-{number}"]["content_hash"])
        assert "Archived" in record["body"]

    # the export: the archived text is a revision of the story, which stays removed
    files = [tmp_path / name for name in ("run1.jsonl", "run2.jsonl", "backfill.jsonl")]
    stories = {row["id"]: row for row in Log(files).read().stories()}
    assert {k: (v["status"], v["removed_reason"]) for k, v in stories.items() if v["status"] != "live"} == {
        f"en-{GONE_404}": ("removed", "http_404"), f"en-{GONE_410}": ("removed", "http_410")}

    # the next live runs: still listed, then unlisted (the recheck of what vanished): nothing asked, nothing written
    with serving(root, tmp_path, {"faults": {gone_410: "410"}}) as server:
        third = crawl(server.base, tmp_path / "run3.jsonl", "lang=en", settings=settings)
    unlist_article(root, gone_410)  # the site drops its sitemap entry at last: it leaves every source
    with serving(root, tmp_path, {"faults": {gone_410: "410"}}) as server:
        fourth = crawl(server.base, tmp_path / "run4.jsonl", "lang=en", settings=settings)
    for run in (third, fourth):
        assert_exit(run, 0)
        assert (run.lines, assert_accounted(run)["requested"]) == ([], 0)
    assert not fourth.stats.get("arabtoday/history/vanished")
