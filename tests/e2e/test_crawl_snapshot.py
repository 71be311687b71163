"""End to end: the real spider crawls the project's snapshot served on loopback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import CrawlResult, Server, crawl, expected_records

pytestmark = pytest.mark.e2e
DISALLOWED = re.compile(r"^/(?:search|en/print/|ar/print/|en/send/|ar/send/|en/comment/|ar/comment/)")


def assert_records_match(result: CrawlResult, expected: dict[str, dict]) -> None:
    got = result.by_id
    assert len(got) == len(result.records), "an article came out twice"
    assert set(got) == set(expected)
    for article_id, want in expected.items():
        for name, value in want.items():
            assert got[article_id][name] == value, (article_id, name)


def test_full_crawl_reproduces_expected(full_crawl: CrawlResult, snapshot_server: Server) -> None:
    expected = expected_records(snapshot_server.base)
    originals = {k: v for k, v in expected.items() if not v["duplicate_of"]}
    assert_records_match(full_crawl, originals)
    assert {r["extractor"] for r in full_crawl.records} == {"article-v1"}
    report = full_crawl.report
    assert report["emitted"]["total"] == len(originals)
    assert report["emitted"]["by_edition"] == {"ar": 8, "en": len(originals) - 8}
    assert report["errors"] == {}
    assert report["fallbacks"]["alarm"] is False


def test_output_is_utf8_with_arabic_as_written(full_crawl: CrawlResult) -> None:
    raw = full_crawl.output.read_bytes()
    assert "العرب اليوم".encode() in raw
    assert b"\\u06" not in raw and b"\\u0" not in raw


def test_crawl_requests_only_allowed_pages_of_the_site(full_crawl: CrawlResult) -> None:
    requests = full_crawl.requests
    assert requests, "the server saw no request"
    paths = [r["path"] for r in requests]
    assert not [p for p in paths if DISALLOWED.match(p)]
    assert not [p for p in paths if "/amp/" in p or "/tag/" in p]
    assert {r["ua"] for r in requests} == {next(r["ua"] for r in requests)}
    assert "arabtoday-crawler" in requests[0]["ua"]
    # foreign links (social networks, ad servers) were never even scheduled
    assert full_crawl.report["filtered"] == {"offsite": 0, "robots_forbidden": 0}
    # every article page fetched once, whatever address it was linked by
    article_paths = [p for p in paths if re.match(r"^/(en|ar)/[^/]+/\d+/", p)]
    ids = [re.match(r"^/(en|ar)/[^/]+/(\d+)/", p).groups() for p in article_paths]
    assert len(ids) == len(set(ids))


def test_lang_argument(snapshot_server: Server, tmp_path: Path) -> None:
    result = crawl(snapshot_server.base, tmp_path / "ar.jsonl", "lang=ar")
    assert result.returncode == 0
    assert {r["lang"] for r in result.records} == {"ar"}
    assert len(result.records) == 8


def test_since_until_window(snapshot_server: Server, tmp_path: Path) -> None:
    result = crawl(snapshot_server.base, tmp_path / "w.jsonl", "since=2017-10-03", "until=2017-10-06")
    assert result.returncode == 0
    in_window = {k for k, v in expected_records(snapshot_server.base).items()
                 if "2017-10-03" <= v["published_at"][:10] <= "2017-10-06"}
    # a copy counts as a duplicate only of an original in the dataset: en-104399 (Oct 3)
    # is a copy of en-104306 (Oct 2), which this window leaves out, so it stays
    expected = {k for k in in_window
                if expected_records(snapshot_server.base)[k]["duplicate_of"] not in in_window}
    assert "en-104399" in expected
    assert {r["id"] for r in result.records} == expected
    skipped = result.report["discovery"]["not_followed"]
    assert skipped.get("sitemap_out_of_window", 0) >= 7  # the 2014..2017-09 and 2017-11 months


def test_max_articles(snapshot_server: Server, tmp_path: Path) -> None:
    result = crawl(snapshot_server.base, tmp_path / "m.jsonl", "max_articles=3")
    assert result.returncode == 0
    assert len(result.records) == 3
    assert result.report["finish_reason"] == "max_articles"


@pytest.mark.parametrize(("arg", "message"), [
    ("lang=fr", "lang must be one of en, ar, all"),
    ("since=15/10/2017", "since: expected a date as YYYY-MM-DD"),
    ("max_articles=-2", "max_articles must be a positive whole number"),
    ("base_url=ftp://example.com", "base_url must be an http(s) address"),
    ("max_article=3", "unknown spider argument(s) max_article"),
])
def test_bad_arguments_fail_at_start(arg: str, message: str, tmp_path: Path) -> None:
    result = crawl("http://127.0.0.1:9", tmp_path / "x.jsonl", arg)
    assert result.returncode == 2  # could not start: bad argument
    assert message in result.log
    assert "Traceback" not in result.log
    assert not result.records


def test_republished_copy_is_counted_not_emitted(full_crawl: CrawlResult) -> None:
    assert "en-104399" not in full_crawl.by_id
    assert full_crawl.report["duplicates"] == {"exact": 1}


def test_emit_duplicates_setting_flags_the_copy(snapshot_server: Server, tmp_path: Path) -> None:
    result = crawl(snapshot_server.base, tmp_path / "d.jsonl", settings={"ARABTODAY_EMIT_DUPLICATES": "True"})
    assert result.returncode == 0
    assert_records_match(result, expected_records(snapshot_server.base))  # every record, duplicate_of included
    assert result.by_id["en-104399"]["duplicate_of"] == "en-104306"
