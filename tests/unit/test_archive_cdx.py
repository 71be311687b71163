"""The CDX index read as data: pages and their resumeKey, bad rows counted, answers that are no index refused;
the scope rule lets a backfill reach only the archive's endpoints, and only captures of the site's articles."""

from __future__ import annotations

import json
from datetime import date
from urllib.parse import parse_qsl, urlsplit

import pytest

from arabtoday.archive.cdx import BadIndex, parse_pywb, parse_wayback
from arabtoday.archive.replay import endpoints
from arabtoday.archive.wayback import capture_url, cdx_url
from arabtoday.site.scope import Scope

HEADER = ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"]
ART = "http://www.arabstoday.net:80/en/economy/103914/slug"
WB = "http://127.0.0.1:9"


def row(ts: str = "20171016000000", original: str = ART) -> list[str]:
    return ["net,arabstoday)/en/economy/103914/slug", ts, original, "text/html", "200", "D", "1"]


def test_a_page_gives_its_captures_and_the_next_pages_resume_key() -> None:
    page = parse_wayback(json.dumps([HEADER, row(), row("20171017000000"), [], ["KEY 2"]]).encode())
    assert [c.timestamp for c in page.captures] == ["20171016000000", "20171017000000"]
    assert page.resume_key == "KEY 2"
    assert page.captures[0].original == "http://www.arabstoday.net/en/economy/103914/slug"  # :80 dropped
    assert page.captures[0].captured_at == "2017-10-16T00:00:00Z"


def test_the_last_page_has_no_resume_key_and_an_empty_index_no_captures() -> None:
    assert parse_wayback(json.dumps([HEADER, row()]).encode()).resume_key is None
    assert parse_wayback(b"[]").captures == [] and parse_wayback(b"").captures == []


def test_malformed_rows_are_counted_and_left_out() -> None:
    page = parse_wayback(json.dumps([HEADER, row(), ["short"], row("2017"), row(original="ftp://x/y"), 7]).encode())
    assert (len(page.captures), page.bad_rows) == (1, 4)


@pytest.mark.parametrize("body", [b"<html>busy</html>", b"{\"a\": 1}", json.dumps([["no", "fields"]]).encode(),
                                  b"\xff\xfe"])
def test_an_answer_that_is_no_index_is_refused(body: bytes) -> None:
    with pytest.raises(BadIndex):
        parse_wayback(body)


def test_pywb_lines_need_a_whole_record_location() -> None:
    good = {"timestamp": "20171016000000", "url": ART, "status": "200", "filename": "crawl-data/x.warc.gz",
            "offset": "10", "length": "20"}
    body = "\n".join([json.dumps(good), json.dumps({**good, "length": "0"}), "{not json"]).encode()
    page = parse_pywb(body)
    assert (len(page.captures), page.bad_rows) == (1, 2) and page.captures[0].offset == 10


def test_the_query_filters_at_the_index_and_pages() -> None:
    query = parse_qsl(urlsplit(cdx_url(WB, "https://www.arabstoday.net", "en", since=date(2017, 10, 1), limit=5,
                                       resume_key="K")).query)
    assert ("filter", "statuscode:200") in query and ("collapse", "urlkey") in query
    assert dict(query)["url"] == "arabstoday.net/en/" and dict(query)["from"] == "20171001"
    assert (dict(query)["limit"], dict(query)["resumeKey"], dict(query)["showResumeKey"]) == ("5", "K", "true")


def test_the_scope_lets_a_backfill_reach_only_the_archives_endpoints() -> None:
    settings = {"ARABTODAY_WAYBACK_URL": WB}
    scope = Scope.from_base_url("https://www.arabstoday.net", endpoints(settings, "wayback"))
    assert scope.why_not(capture_url(WB, "20171016000000", ART.replace(":80", ""))) is None
    assert scope.why_not(cdx_url(WB, "https://www.arabstoday.net", "en", since=None, limit=1)) is None
    assert scope.why_not(f"{WB}/robots.txt") is None
    assert scope.why_not(capture_url(WB, "20171016000000", "https://www.arabstoday.net/en/economy")) == "not_wanted"
    assert scope.why_not(capture_url(WB, "20171016000000", "https://example.org/en/economy/1/x")) == "not_wanted"
    assert scope.why_not(f"{WB}/save/https://www.arabstoday.net/en/") == "offsite"
    assert not scope.on_site(f"{WB}/robots.txt")
    live = Scope.from_base_url("https://www.arabstoday.net", endpoints(settings, None))
    assert live.why_not(capture_url(WB, "20171016000000", ART)) == "offsite"
