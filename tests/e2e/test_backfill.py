"""Backfill from the Wayback Machine (end to end, on loopback, retries and backoff on).

A private copy of the snapshot is crawled live once (the state), with one
article already gone from it; then ``-a backfill=wayback`` reads a loopback
Wayback (:mod:`devkit.archives`) whose index pages (``resumeKey``) and holds:
the article the live copy no longer has, an older text of another, an
unchanged capture, a capture the index lists as a redirect, one that replays
as a redirect, one whose replay answers 503, and a listing. What the archive
was asked, what was written and what was counted are checked.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from arabtoday.export.resolve import Log
from conftest import (
    Server,
    assert_accounted,
    assert_exit,
    assert_reextracted,
    crawl,
    expected_records,
    free_port,
    live_crawl_without,
)
from devkit.archives import Archived, WaybackServer
from devkit.site import article_page, article_pages, earlier_text, page_html, served_url

pytestmark = pytest.mark.e2e

SITE = "https://www.arabstoday.net"  # the address the archive holds captures of
PAGE_SIZE = "2"  # captures per index page: the index pages
ARTICLES_FAILED = 3


def _page(number: str) -> Path:
    return article_page("en", number)


def test_wayback_backfill_reads_only_article_captures_and_merges_them_into_the_history(tmp_path: Path) -> None:
    gone, edited, same, redirected, broken = "103914", "103935", "103942", "104315", "103935"
    live = live_crawl_without(tmp_path, "en", gone)  # the site no longer serves it: never crawled live
    assert_exit(live, 0)
    assert f"en-{gone}" not in live.by_id and f"en-{edited}" in live.by_id

    expected = expected_records(SITE)
    other = next(p for p in article_pages() if p.parts[-5] == "en" and p.parts[-3] not in (gone, edited, same,
                                                                                            redirected))
    captures = [
        Archived("20171016000000", served_url(_page(gone), SITE), page_html(_page(gone), SITE).encode()),
        Archived("20171017000000", served_url(_page(edited), SITE), earlier_text(_page(edited), SITE)),
        Archived("20171018000000", served_url(_page(same), SITE), page_html(_page(same), SITE).encode()),
        Archived("20171019000000", served_url(_page(redirected), SITE), b"", status=301, location=f"{SITE}/en/"),
        Archived("20171020000000", served_url(other, SITE), b"", served=302,
                 location=f"/web/20171021000000id_/{served_url(other, SITE)}"),
        Archived("20171022000000", f"{SITE}/en/economy", b"<html>a listing</html>"),
        Archived("20171023000000", f"{SITE}/en/politics/{broken}0/broken", b"", served=503),
    ]
    with WaybackServer(captures) as archive:
        result = crawl(SITE, tmp_path / "backfill.jsonl", "backfill=wayback", "lang=en",
                       settings={"ARABTODAY_WAYBACK_URL": archive.base, "ARABTODAY_CDX_PAGE_SIZE": PAGE_SIZE,
                                 "RETRY_TIMES": "1", "DOWNLOAD_TIMEOUT": "5",
                                 "ARABTODAY_WARC_DIR": str(tmp_path / "warc")})
        asked = archive.requests()

    # asked: the index, page by page, for the English edition only; then only the article captures it listed
    index = [dict(r["query"]) for r in asked if r["path"] == "/cdx/search/cdx"]
    assert {q["url"] for q in index} == {"arabstoday.net/en/"}
    assert len(index) >= 3 and sum("resumeKey" in q for q in index) == len(index) - 1
    assert all(("filter", "statuscode:200") in r["query"] for r in asked if r["path"] == "/cdx/search/cdx")
    replays = [r["path"] for r in asked if r["path"].startswith("/web/")]
    assert not [p for p in replays if "/en/economy" in p.split("id_/", 1)[1][len(SITE):] and p.endswith("economy")]
    assert not [p for p in replays if "20171019000000" in p], "a capture the index lists as a redirect is not asked"
    assert len([p for p in replays if "20171023000000" in p]) == 2, "the 503 is retried (RETRY_TIMES=1)"
    assert {p.split("id_/")[0] for p in replays} == {f"/web/{t}" for t in
                                                     ("20171016000000", "20171017000000", "20171018000000",
                                                      "20171020000000", "20171023000000")}

    # written: the article the site no longer serves, and the older text as a revision; nothing else
    records = result.by_id
    assert set(records) == {f"en-{gone}", f"en-{edited}"}
    back = records[f"en-{gone}"]
    assert (back["origin"], back["captured_at"]) == ("wayback", "2017-10-16T00:00:00Z")
    assert back["url"] == served_url(_page(gone), SITE) and back["body"] == expected[f"en-{gone}"]["body"]
    older = records[f"en-{edited}"]
    assert (older["revision"], older["previous_hash"]) == (2, live.by_id[f"en-{edited}"]["content_hash"])
    assert "Archived" in older["body"] and older["captured_at"] == "2017-10-17T00:00:00Z"
    assert all(archive.base not in r["url"] for r in result.records)
    # the raw captures kept: re-extracted from the WARC, the same records, addresses and provenance
    assert_reextracted(result, tmp_path / "warc")

    # counted: every capture fetched in one bucket, and the run says it lost one
    stats = result.stats
    assert stats["arabtoday/articles/requested"] == 5
    assert stats["arabtoday/articles/skipped/unchanged"] == 1
    assert stats["arabtoday/articles/dropped/archive/redirect"] == 1
    assert stats["arabtoday/articles/failed/http_503"] == 1
    assert_accounted(result)
    assert_exit(result, ARTICLES_FAILED)

    # the history orders revisions by when the site served them: the live text is the story's latest
    log = Log([tmp_path / "backfill.jsonl", tmp_path / "live.jsonl"]).read()
    story = next(row for row in log.stories() if row["id"] == f"en-{edited}")
    assert story["body"] == live.by_id[f"en-{edited}"]["body"] and story["revision"] == 1


DISCOVERY_INCOMPLETE = 8
SERVICE_UNAVAILABLE = 503


@pytest.mark.parametrize(("answer", "kind", "asked"), [
    ((SERVICE_UNAVAILABLE, b"the index is down"), f"http_{SERVICE_UNAVAILABLE}", 2),  # retried once, then failed
    ((200, b"<html>a captcha page, not an index</html>"), "bad_wayback_index", 1),
], ids=["5xx", "garbage"])
def test_an_unreadable_wayback_index_makes_discovery_incomplete(tmp_path: Path, answer: tuple[int, bytes],
                                                                 kind: str, asked: int) -> None:
    page = _page("103914")
    captures = [Archived("20171016000000", served_url(page, SITE), page_html(page, SITE).encode())]
    with WaybackServer(captures, index_answer=answer) as archive:
        result = crawl(SITE, tmp_path / "backfill.jsonl", "backfill=wayback", "lang=en",
                       settings={"ARABTODAY_WAYBACK_URL": archive.base, "RETRY_TIMES": "1", "DOWNLOAD_TIMEOUT": "5"})
        paths = [r["path"] for r in archive.requests() if r["path"] != "/robots.txt"]
    assert paths == ["/cdx/search/cdx"] * asked, "nothing but the index is asked: no capture is known"
    assert result.lines == []
    assert result.stats_under("arabtoday/sources/failed/") == {"arabtoday/sources/failed/wayback_index": 1}
    assert result.stats[f"arabtoday/errors/source/{kind}"] == 1
    assert assert_accounted(result)["requested"] == 0
    assert_exit(result, DISCOVERY_INCOMPLETE)


def test_the_index_page_bound_is_counted_and_logged(tmp_path: Path) -> None:
    numbers = ("103914", "103935", "103942", "104315", "103949")  # 5 captures, 2 a page: 3 pages, 2 read
    captures = [Archived(f"2017101{n}000000", served_url(_page(number), SITE), page_html(_page(number), SITE).encode())
                for n, number in enumerate(numbers)]
    with WaybackServer(captures) as archive:
        result = crawl(SITE, tmp_path / "backfill.jsonl", "backfill=wayback", "lang=en",
                       settings={"ARABTODAY_WAYBACK_URL": archive.base, "ARABTODAY_CDX_PAGE_SIZE": PAGE_SIZE,
                                 "ARABTODAY_CDX_MAX_PAGES": "2", "RETRY_TIMES": "1", "DOWNLOAD_TIMEOUT": "5"})
        asked = archive.requests()
    index = [dict(r["query"]) for r in asked if r["path"] == "/cdx/search/cdx"]
    assert [q.get("resumeKey") for q in index] == [None, PAGE_SIZE], "the third page is never asked"
    assert sorted(r["path"].split("id_/")[0] for r in asked if r["path"].startswith("/web/")) == [
        f"/web/2017101{n}000000" for n in range(4)]
    assert len(result.records) == 4
    assert result.stats["arabtoday/bounds/index_pages"] == 1
    assert "stopped at ARABTODAY_CDX_MAX_PAGES" in result.log
    assert_accounted(result)
    assert_exit(result, 0)  # a bound, like the live crawl's listing pages: counted and logged, not a failure


def test_an_arabic_capture_comes_back_under_its_site_address(tmp_path: Path) -> None:
    """The Arabic edition's addresses carry Arabic slugs (percent-encoded in the index and the replay
    address): a capture of an article the site no longer serves comes back whole, with its site address."""
    page = next(p for p in article_pages() if p.parts[-5] == "ar")
    article_id = f"ar-{page.parts[-3]}"
    original = served_url(page, SITE)
    with WaybackServer([Archived("20171016000000", original, page_html(page, SITE).encode())]) as archive:
        result = crawl(SITE, tmp_path / "backfill.jsonl", "backfill=wayback", "lang=ar",
                       settings={"ARABTODAY_WAYBACK_URL": archive.base, "RETRY_TIMES": "1", "DOWNLOAD_TIMEOUT": "5"})
    assert_exit(result, 0)
    assert_accounted(result)
    [record] = result.records
    expected = expected_records(SITE)[article_id]
    assert (record["id"], record["origin"], record["captured_at"]) == (article_id, "wayback", "2017-10-16T00:00:00Z")
    assert record["url"] == expected["url"] and record["body"] == expected["body"]


@pytest.mark.parametrize(("backfill", "setting"), [("wayback", "ARABTODAY_WAYBACK_URL"),
                                                   ("commoncrawl", "ARABTODAY_COMMONCRAWL_INDEX_URL")])
def test_an_unreachable_archive_is_named_with_its_setting(tmp_path: Path, backfill: str, setting: str) -> None:
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    result = crawl(SITE, tmp_path / "backfill.jsonl", f"backfill={backfill}", "lang=en",
                   settings={setting: closed, "RETRY_TIMES": "1", "DOWNLOAD_TIMEOUT": "5"})
    assert_exit(result, 6)
    assert "the archive did not answer at any entry point" in result.log and f"is {setting} right" in result.log
    reason = result.report["exit_status"]["reason"]
    assert reason.startswith("the site (or, for a backfill, the archive) was unreachable")


def test_a_copy_already_superseded_is_not_written_again(snapshot_server: Server, tmp_path: Path) -> None:
    """The snapshot republishes en-104306 as en-104399: the live run writes the copy's ``superseded`` line;
    a backfill that meets both again, with the same texts, writes nothing (both unchanged)."""
    state = {"ARABTODAY_STATE_DIR": str(tmp_path / "state")}
    live = crawl(snapshot_server.base, tmp_path / "live.jsonl", "lang=en", settings=state)
    assert_exit(live, 0)
    assert "en-104399" in live.of_status("superseded")
    pages = {p.parts[-3]: p for p in article_pages() if p.parts[-5] in ("en", "sports") and p.parts[-3] in
             ("104306", "104399")}
    captures = [Archived("20171016000000", served_url(page, SITE), page_html(page, SITE).encode())
                for page in pages.values()]
    with WaybackServer(captures) as archive:
        again = crawl(SITE, tmp_path / "backfill.jsonl", "backfill=wayback", "lang=en",
                      settings={**state, "ARABTODAY_WAYBACK_URL": archive.base, "RETRY_TIMES": "1"})
    assert_exit(again, 0)
    assert again.lines == []
    assert again.stats["arabtoday/articles/skipped/unchanged"] == len(captures) == 2
