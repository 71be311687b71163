"""Runs that remember (``ARABTODAY_STATE_DIR``): a second run on an unchanged site fetches and emits
no article, on a changed one exactly the new and the edited; a sitemap ``lastmod`` that arrives after
a listing still triggers the update; every output format advances the state.

The tests marked ``acceptance`` (issue 8) hold the crawl core to ``docs/CONTRACTS.md``."""

from __future__ import annotations

import csv
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import (
    Server,
    article_path,
    article_requests,
    assert_accounted,
    assert_exit,
    copy_site,
    crawl,
    originals,
    read_jsonl,
    serving,
    start_server,
)

pytestmark = pytest.mark.e2e


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
    assert (got["en-104330"]["revision"], got["en-104330"]["previous_hash"]) == (2, old["content_hash"])
    assert got["en-104330"]["body"].startswith("Corrected: ")
    assert second.report["emitted"]["updated"] == 1 and second.report["emitted"]["new"] == 1
    article_requests = {r["path"].split("/")[3] for r in server.requests()[before:]
                        if re.match(r"^/(en|ar)/[^/]+/\d+/", r["path"])}
    assert article_requests == {"104330", "104400"}


EDITED = "en-104330"


@pytest.mark.acceptance
def test_lastmod_arriving_after_a_listing_still_triggers_the_update(tmp_path: Path) -> None:
    root = copy_site(tmp_path)
    path = article_path(root, "en", 104330)
    # listings answer at once, feeds after 2 s, the sitemaps after 4 s: in both runs the article
    # is reached by a listing first (no date), then by a feed (a publication date), then by its sitemap
    changes = {"faults": {"/sitemap.xml": "slow:4", "/en/rss": "slow:2", "/*/rss.xml": "slow:2"}}
    state = {"ARABTODAY_STATE_DIR": str(tmp_path / "state")}
    with serving(root, tmp_path, changes) as server:
        first = crawl(server.base, tmp_path / "run1.jsonl", "lang=en", settings=state, server=server)
        assert first.returncode == 0, first.tail()
        assert EDITED in first.by_id
        # the article is edited; its new lastmod is *older* than the first run's fetch time
        page = root / path.lstrip("/") / "index.html"
        page.write_text(page.read_text("utf-8").replace(
            "<p>The electoral commission extended", "<p>Corrected: The electoral commission extended", 1), "utf-8")
        sitemap = root / "sitemaps" / "en-2017-10.xml"
        old_entry = "railway-link</loc><lastmod>2017-10-09T00:30:00+00:00"
        assert old_entry in sitemap.read_text("utf-8")
        sitemap.write_text(sitemap.read_text("utf-8").replace(
            old_entry, "railway-link</loc><lastmod>2020-01-01T00:00:00+00:00"), "utf-8")
        second = crawl(server.base, tmp_path / "run2.jsonl", "lang=en", settings=state, server=server)
    assert article_requests(second.requests) == [EDITED], "only the edited article is fetched, once"
    assert [r["id"] for r in second.records] == [EDITED]
    record = second.records[0]
    assert record["body"].startswith("Corrected: ")
    assert record["content_hash"] != first.by_id[EDITED]["content_hash"]
    assert second.stats.get("arabtoday/emitted/updated") == 1
    assert not second.stats.get("arabtoday/emitted/new")
    assert_accounted(second)
    assert_exit(second, 0)


def read_ids(path: Path) -> list[str]:
    """The record ids of a feed file, whatever its format (csv, json or jsonl)."""
    if path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as fh:
            return [row["id"] for row in csv.DictReader(fh)]
    if path.suffix == ".json":
        return [r["id"] for r in json.loads(path.read_text("utf-8"))]
    return [r["id"] for r in read_jsonl(path)]


@pytest.mark.acceptance
@pytest.mark.parametrize(("first_feeds", "second_feed"), [
    (["x.csv"], "y.json"),
    (["y.json"], "x.csv"),
    (["a.jsonl", "b.csv"], "c.json"),
])
def test_every_output_format_advances_the_state(snapshot_server: Server, tmp_path: Path, first_feeds: list[str],
                                                 second_feed: str) -> None:
    settings = {"ARABTODAY_STATE_DIR": str(tmp_path / "state")}
    arabic = {k for k in originals(snapshot_server.base) if k.startswith("ar-")}
    outputs = [opt for name in first_feeds for opt in ("-o", str(tmp_path / name))]
    first = crawl(snapshot_server.base, tmp_path / "r1", "lang=ar", outputs=outputs, settings=settings,
                  report=tmp_path / "r1.json")
    assert first.returncode == 0, first.tail()
    for name in first_feeds:
        assert sorted(read_ids(tmp_path / name)) == sorted(arabic), name
    second = crawl(snapshot_server.base, tmp_path / "r2", "lang=ar", outputs=["-o", str(tmp_path / second_feed)],
                   settings=settings, server=snapshot_server, report=tmp_path / "r2.json")
    assert second.returncode == 0, second.tail()
    assert article_requests(second.requests) == [], "the first run's state said every article is done"
    assert read_ids(tmp_path / second_feed) == []
    assert_accounted(second)
    assert_exit(second, 0)
