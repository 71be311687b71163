"""Backfill from Common Crawl (end to end, on loopback, retries and backoff on).

A private copy of the snapshot is crawled live once (the state), with one
article already gone from it; then ``-a backfill=commoncrawl -a crawls=…``
reads a loopback Common Crawl (:class:`devkit.archives.CommonCrawlServer`):
``collinfo.json`` lists two crawls, one of them not asked for; the chosen
crawl's index pages (``showNumPages``, ``page=K``) and its WARC files, built
with warcio from the snapshot, hold the article the live copy no longer has,
an older text of another (and a later capture of it that ``collapse`` leaves
out), an unchanged capture, a record that is a redirect, one that is a 503, a
row whose offset points inside its record, a listing and a row the index
gives as a redirect. What was asked (crawls, index pages, each range), written
and counted are checked.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from arabtoday.archive.commoncrawl import byte_range
from arabtoday.export.resolve import Log
from conftest import (
    assert_accounted,
    assert_exit,
    assert_reextracted,
    crawl,
    expected_records,
    live_crawl_without,
)
from devkit.archives import BAD_OFFSET_SHIFT, CCCapture, CommonCrawlServer, Crawl
from devkit.site import article_page, earlier_text, page_html, served_url

pytestmark = pytest.mark.e2e

SITE = "https://www.arabstoday.net"  # the address the archive holds captures of
CHOSEN, OTHER = "CC-MAIN-2017-43", "CC-MAIN-2017-47"
PAGE_SIZE = 2  # captures per index page: the index pages
ARTICLES_FAILED = 3
GONE, EDITED, SAME, REDIRECTED, BROKEN, BAD_RANGE, LISTED_301, ELSEWHERE = (
    "103914", "103935", "103942", "104315", "103949", "103956", "103900", "103907")


def _page(number: str) -> Path:
    return article_page("en", number)


def _url(number: str) -> str:
    return served_url(_page(number), SITE)


def _html(number: str) -> bytes:
    return page_html(_page(number), SITE).encode()


def test_commoncrawl_backfill_reads_the_chosen_crawls_records_by_range(tmp_path: Path) -> None:
    live = live_crawl_without(tmp_path, "en", GONE)  # the site no longer serves it: never crawled live
    assert_exit(live, 0)
    assert f"en-{GONE}" not in live.by_id and f"en-{EDITED}" in live.by_id

    expected = expected_records(SITE)
    captures = [
        CCCapture(CHOSEN, "20171016000000", _url(GONE), _html(GONE)),
        CCCapture(CHOSEN, "20171017000000", _url(EDITED), earlier_text(_page(EDITED), SITE)),
        CCCapture(CHOSEN, "20171023000000", _url(EDITED), _html(EDITED)),  # later: collapse=urlkey leaves it out
        CCCapture(CHOSEN, "20171018000000", _url(SAME), _html(SAME)),
        CCCapture(CHOSEN, "20171019000000", _url(REDIRECTED), b"", status=301, location=f"{SITE}/en/", listed=200),
        CCCapture(CHOSEN, "20171020000000", _url(BROKEN), b"<html>down</html>", status=503, listed=200),
        CCCapture(CHOSEN, "20171021000000", _url(BAD_RANGE), _html(BAD_RANGE), bad_offset=True),
        CCCapture(CHOSEN, "20171022000000", _url(LISTED_301), b"", status=301, location=f"{SITE}/en/"),
        CCCapture(CHOSEN, "20171022000000", f"{SITE}/en/economy", b"<html>a listing</html>"),
        CCCapture(OTHER, "20171120000000", _url(ELSEWHERE), _html(ELSEWHERE)),
        CCCapture(OTHER, "20171120000000", _url(GONE), _html(GONE)),
    ]
    crawls = [Crawl(CHOSEN, "2017-10-16T00:00:00", "2017-10-24T23:59:59"),
              Crawl(OTHER, "2017-11-17T00:00:00", "2017-11-25T23:59:59")]
    with CommonCrawlServer(crawls, captures, PAGE_SIZE) as archive:
        result = crawl(SITE, tmp_path / "backfill.jsonl", "backfill=commoncrawl", f"crawls={CHOSEN}", "lang=en",
                       settings={"ARABTODAY_COMMONCRAWL_INDEX_URL": archive.base,
                                 "ARABTODAY_COMMONCRAWL_DATA_URL": archive.base,
                                 "RETRY_TIMES": "1", "DOWNLOAD_TIMEOUT": "5",
                                 "ARABTODAY_WARC_DIR": str(tmp_path / "warc")})
        asked = [r for r in archive.requests() if r["path"] != "/robots.txt"]
    by = {c.url: c for c in captures if c.crawl == CHOSEN and c.timestamp != "20171023000000"}

    # asked: the list of crawls, then the chosen crawl's index only (its page count, then each page), for the
    # English edition's article captures that answered 200; then one range per listed article capture
    assert asked[0]["path"] == "/collinfo.json" and sum(r["path"] == "/collinfo.json" for r in asked) == 1
    index = [dict(r["query"]) | {"path": r["path"]} for r in asked if r["path"].endswith("-index")]
    assert {q["path"] for q in index} == {f"/{CHOSEN}-index"}, "a crawl not named in crawls= is never read"
    assert {q["url"] for q in index} == {"arabstoday.net/en/"}
    assert [q.get("showNumPages") for q in index].count("true") == 1
    assert sorted(q["page"] for q in index if "page" in q) == ["0", "1", "2"]  # 6 captures, 2 a page
    assert all(("filter", "=status:200") in r["query"] and ("collapse", "urlkey") in r["query"]
               for r in asked if r["path"].endswith("-index"))
    ranges = sorted((r["path"].lstrip("/"), r["range"]) for r in asked if r["path"].startswith("/crawl-data/"))
    want = [(c.filename, byte_range(c.offset + (BAD_OFFSET_SHIFT if c.bad_offset else 0), c.length))
            for c in (by[_url(n)] for n in (GONE, EDITED, SAME, REDIRECTED, BROKEN, BROKEN, BAD_RANGE))]
    assert ranges == sorted(want), "one range per record; the 503 retried once (RETRY_TIMES=1); nothing else"
    assert all(f.startswith(f"crawl-data/{CHOSEN}/") for f, _ in ranges)

    # written: the article the site no longer serves, and the older text as a revision; nothing else
    records = result.by_id
    assert set(records) == {f"en-{GONE}", f"en-{EDITED}"}
    back = records[f"en-{GONE}"]
    assert (back["origin"], back["captured_at"]) == ("commoncrawl", "2017-10-16T00:00:00Z")
    assert back["url"] == _url(GONE) and back["body"] == expected[f"en-{GONE}"]["body"]
    older = records[f"en-{EDITED}"]
    assert (older["origin"], older["captured_at"]) == ("commoncrawl", "2017-10-17T00:00:00Z")
    assert (older["revision"], older["previous_hash"]) == (2, live.by_id[f"en-{EDITED}"]["content_hash"])
    assert "Archived" in older["body"] and older["url"] == _url(EDITED)
    assert all(archive.base not in r["url"] for r in result.records)
    # the byte ranges kept: re-extracted from the WARC, the records inside them with the crawl's provenance
    assert_reextracted(result, tmp_path / "warc")

    # counted: every record fetched in one bucket, and the run says it lost two
    stats = result.stats
    assert stats["arabtoday/articles/requested"] == 6
    assert stats["arabtoday/articles/emitted"] == 2
    assert stats["arabtoday/articles/skipped/unchanged"] == 1
    assert stats["arabtoday/articles/dropped/archive/redirect"] == 1
    assert stats["arabtoday/articles/failed/http_503"] == 1
    assert stats["arabtoday/articles/failed/archive/bad_record"] == 1
    assert stats["arabtoday/sources/commoncrawl_index"] == 4  # collinfo.json and the three index pages
    assert not result.stats_under("arabtoday/sources/failed")
    assert_accounted(result)
    assert_exit(result, ARTICLES_FAILED)

    # the history orders revisions by when the site served them: the live text is the story's latest
    log = Log([tmp_path / "backfill.jsonl", tmp_path / "live.jsonl"]).read()
    story = next(row for row in log.stories() if row["id"] == f"en-{EDITED}")
    assert story["body"] == live.by_id[f"en-{EDITED}"]["body"] and story["revision"] == 1
