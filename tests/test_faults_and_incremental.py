"""Faults from the test server, and runs that remember: both on a private,
altered copy of the snapshot served by the project's dev server."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import Server, copy_site, crawl, expected_records, site_meta, start_server, write_site_meta

pytestmark = pytest.mark.e2e

A_503_ONCE = "/en/sports/104321/dozens-of-containers-hit-as-the-finance-minister-extended-new-visa-rules"
B_500 = "/en/sports/104318/around-90-containers-hit-as-the-national-oil-company-denied-the-fuel-subsidy-reform"
C_RESET_ONCE = "/en/economy/103935/indonesia-ready-to-divert-tourists"
D_TRUNCATE_ONCE = "/en/middle-east/104309/london-opposition-leaders-discussed-talks-on-prisoner-exchanges"
E_MOVED = "/en/politics/103907/uae-french-relations-discussed"
E_OLD = "/en/politics/103907/uae-and-france-discuss-relations"
MISSING = "/en/politics/999999/an-article-that-was-deleted"


def move_article(root: Path, new: str, old: str) -> None:
    """Every page links the article by its old address, which now answers 301."""
    own_dir = root / new.lstrip("/")
    for path in root.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".xml") and own_dir not in path.parents:
            text = path.read_text("utf-8")
            if new in text:
                path.write_text(text.replace(new, old), "utf-8")


@pytest.fixture
def faulty_site(tmp_path: Path) -> Server:
    root = copy_site(tmp_path)
    meta = site_meta(root)
    meta["faults"] = {A_503_ONCE: "503-once", B_500: "500", C_RESET_ONCE: "reset-once",
                      D_TRUNCATE_ONCE: "truncate-once"}
    meta["redirects"] = {E_OLD: "__BASE__" + E_MOVED}
    write_site_meta(root, meta)
    move_article(root, E_MOVED, E_OLD)
    home = root / "en" / "index.html"
    home.write_text(home.read_text("utf-8").replace(
        "</nav>", f'</nav><a href="__BASE__{MISSING}">A deleted story</a>', 1), "utf-8")
    server = start_server(root, tmp_path)
    yield server
    server.stop()


def test_faults_are_retried_logged_and_counted(faulty_site: Server, tmp_path: Path) -> None:
    result = crawl(faulty_site.base, tmp_path / "out.jsonl", settings={"RETRY_TIMES": "3"})
    assert result.returncode == 3, result.log[-2000:]  # an article was lost to the 500s: said in the status
    expected = {k: v for k, v in expected_records(faulty_site.base).items() if not v["duplicate_of"]}
    del expected["en-104318"]  # answers 500 every time
    got = result.by_id
    assert set(got) == set(expected)
    for article_id, want in expected.items():
        assert got[article_id] == {**got[article_id], **want}, article_id
    # the moved article is emitted under its canonical address
    assert got["en-103907"]["url"] == faulty_site.base + E_MOVED
    report = result.report
    assert report["finish_reason"] == "finished"
    assert report["errors"].get("http_500") == 1
    assert report["dropped"].get("gone") == 1  # the 404: a dead link, not a failure
    # 503 and truncation once each, 500 three times (a reset on a reused connection may be
    # retried by Twisted's connection pool itself, below Scrapy's count)
    assert report["retries"] >= 1 + 1 + 3
    log = result.log
    assert re.search(r"article failed: en-104318 \S*104318\S* \(http_500\)", log)
    assert re.search(r"article dropped: en-999999 \S*999999\S* \(gone\)", log)
    paths = [r["path"] for r in faulty_site.requests()]
    assert paths.count(B_500) == 4  # first try + RETRY_TIMES
    assert paths.count(A_503_ONCE) == 2
    assert paths.count(C_RESET_ONCE) == 2
    assert paths.count(D_TRUNCATE_ONCE) == 2


def test_second_run_retries_failures_and_fetches_nothing_else(faulty_site: Server, tmp_path: Path) -> None:
    state = {"ARABTODAY_STATE_DIR": str(tmp_path / "state"), "RETRY_TIMES": "1"}
    first = crawl(faulty_site.base, tmp_path / "run1.jsonl", settings=state)
    assert first.returncode == 3  # articles failed
    assert "en-104318" not in first.by_id
    # the server recovers
    meta = site_meta(faulty_site.root)
    meta["faults"] = {}
    write_site_meta(faulty_site.root, meta)
    faulty_site.stop()
    server = start_server(faulty_site.root, tmp_path)
    try:
        second = crawl(server.base, tmp_path / "run2.jsonl", settings=state)
    finally:
        server.stop()
    assert second.returncode == 0
    assert [r["id"] for r in second.records] == ["en-104318"]
    article_requests = [r["path"] for r in server.requests() if re.match(r"^/(en|ar)/[^/]+/\d+/", r["path"])]
    # only the failed article, plus the deleted one that still 404s
    assert sorted(set(article_requests)) == sorted({B_500, MISSING})


def test_unchanged_site_second_run_emits_and_fetches_nothing(snapshot_server: Server, tmp_path: Path) -> None:
    settings = {"ARABTODAY_STATE_DIR": str(tmp_path / "state")}
    first = crawl(snapshot_server.base, tmp_path / "run1.jsonl", settings=settings)
    assert first.returncode == 0 and len(first.records) == 30
    before = len(snapshot_server.requests())
    second = crawl(snapshot_server.base, tmp_path / "run2.jsonl", settings=settings)
    assert second.returncode == 0
    assert second.records == []
    new_requests = [r["path"] for r in snapshot_server.requests()[before:]]
    assert new_requests, "listings, feeds and sitemaps are fetched again"
    assert not [p for p in new_requests if re.match(r"^/(en|ar)/[^/]+/\d+/", p)]
    assert second.report["discovery"]["not_followed"].get("already_seen", 0) >= 30


def test_changed_site_second_run_emits_exactly_new_and_changed(tmp_path: Path) -> None:
    root = copy_site(tmp_path)
    server = start_server(root, tmp_path)
    settings = {"ARABTODAY_STATE_DIR": str(tmp_path / "state")}
    try:
        first = crawl(server.base, tmp_path / "run1.jsonl", settings=settings)
        assert first.returncode == 0 and len(first.records) == 30
        # edit one article (its sitemap lastmod moves) and publish a new one
        edited_dir = root / "en/sports/104330/around-90-students-hit-as-the-european-union-warned-about-a-railway-link"
        page = edited_dir / "index.html"
        page.write_text(page.read_text("utf-8").replace(
            "<p>The electoral commission extended", "<p>Corrected: The electoral commission extended", 1), "utf-8")
        sitemap = root / "sitemaps" / "en-2017-10.xml"
        # edited after the first run fetched it (lastmods have one-second precision)
        edited_at = (datetime.now(timezone.utc) + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
        text = sitemap.read_text("utf-8").replace(
            "railway-link</loc><lastmod>2017-10-09T00:30:00+00:00", f"railway-link</loc><lastmod>{edited_at}")
        # a new story: another article's page, with its own id, title and text
        new_dir = root / "en/politics/104400/a-new-story"
        new_dir.mkdir(parents=True)
        template = root / "en/politics/104327/local-officials-cancelled-a-housing-programme-in-jerusalem/index.html"
        html = (template.read_text("utf-8").replace("104327", "104400")
                .replace("local-officials-cancelled-a-housing-programme-in-jerusalem", "a-new-story")
                .replace("Local officials cancelled a housing programme in Jerusalem", "A new story"))
        body = html[html.index('<div class="article-body">'):html.index('<p class="article-source">')]
        paragraphs = [f"<p>Paragraph {i} of a story about the harbour, the weather and the market in Tyre.</p>"
                      for i in range(8)]
        (new_dir / "index.html").write_text(
            html.replace(body, '<div class="article-body">\n' + "\n".join(paragraphs) + "\n"), "utf-8")
        sitemap.write_text(text.replace("</urlset>", "<url><loc>__BASE__/en/politics/104400/a-new-story</loc>"
                                                     f"<lastmod>{edited_at}</lastmod></url></urlset>"), "utf-8")
        before = len(server.requests())
        second = crawl(server.base, tmp_path / "run2.jsonl", settings=settings)
    finally:
        server.stop()
    assert second.returncode == 0
    got = second.by_id
    assert set(got) == {"en-104330", "en-104400"}
    old = first.by_id["en-104330"]
    assert got["en-104330"]["content_hash"] != old["content_hash"]
    assert got["en-104330"]["crawled_at"] > old["crawled_at"]
    assert got["en-104330"]["body"].startswith("Corrected: ")
    assert second.report["emitted"]["updated"] == 1 and second.report["emitted"]["new"] == 1
    article_requests = {r["path"].split("/")[3] for r in server.requests()[before:]
                        if re.match(r"^/(en|ar)/[^/]+/\d+/", r["path"])}
    assert article_requests == {"104330", "104400"}
