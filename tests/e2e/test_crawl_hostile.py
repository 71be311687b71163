"""Stay inside the site and inside fixed bounds, whatever the server sends (issue 9).

The project's dev server plays a hostile site (off-site redirects and meta refresh, a pagination
that never ends, a sitemap of tens of thousands of entries streamed without a length, a gzip bomb)
and, for the off-site cases, trap servers on another port and another loopback host whose logs
must stay empty. Each crawl asserts what was requested, emitted and counted and the exit status,
with the names of ``docs/CONTRACTS.md``. The crawl core's acceptance tests (marker ``acceptance``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import (
    CrawlResult,
    Server,
    add_article,
    article_path,
    article_requests,
    assert_accounted,
    assert_exit,
    copy_site,
    crawl,
    expected_records,
    plain_path,
    serving,
)

pytestmark = pytest.mark.e2e
ACCEPTANCE = pytest.mark.acceptance
OTHER_HOST = "127.0.0.2"  # another host on loopback, for a trap server
JUNK_FIRST_ID = 300_000  # generated sitemap entries: ids no real article has
BOMB_BYTES = 4 * 1024**3  # what the gzip bomb inflates to


def english(base: str) -> dict[str, dict]:
    """The English originals a correct crawl of the untouched snapshot emits."""
    return {k: v for k, v in expected_records(base).items() if not v["duplicate_of"] and k.startswith("en-")}


@pytest.fixture(scope="module")
def traps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server]]:
    """The same snapshot on another port and on another host: a crawler that follows a
    redirect there would get real-looking articles with foreign addresses."""
    workdir = tmp_path_factory.mktemp("traps")
    root = copy_site(workdir)
    with serving(root, workdir, {}) as other_port, serving(root, workdir, {}, bind=OTHER_HOST) as other_host:
        yield other_port, other_host


def assert_stayed_home(result: CrawlResult, server: Server, *traps: Server) -> None:
    """No request left the site's host and port: the traps saw nothing, and every request the
    site saw named it in its Host header."""
    for trap in traps:
        assert trap.requests() == [], f"{trap.base} was requested: {trap.requests()[:3]}"
    foreign = [r for r in result.requests if r["host"] != server.hostport]
    assert foreign == [], foreign[:3]
    disallowed = disallowed_prefixes(server.root)
    assert not [r["path"] for r in result.requests if plain_path(r).startswith(disallowed)]
    assert not [r for r in result.records if not r["url"].startswith(server.base + "/")]


def disallowed_prefixes(root: Path) -> tuple[str, ...]:
    """The ``Disallow:`` paths of the site copy's robots.txt (one group, for every agent)."""
    lines = (root / "robots.txt").read_text("utf-8").splitlines()
    return tuple(line.split(":", 1)[1].strip() for line in lines if line.lower().startswith("disallow:"))


def blocked(result: CrawlResult, why: str) -> int:
    return result.stats.get(f"arabtoday/blocked/{why}", 0)


@ACCEPTANCE
def test_redirects_and_refresh_never_leave_the_site(traps: tuple[Server, Server], tmp_path: Path) -> None:
    other_port, other_host = traps
    root = copy_site(tmp_path)
    robots = root / "robots.txt"
    rules = robots.read_text("utf-8").replace("Disallow: /search", "Disallow: /search\nDisallow: /en/private/")
    robots.write_text(rules, "utf-8")
    p = {n: article_path(root, "en", n) for n in (103900, 103907, 103914, 103921, 103928, 103935, 103942)}
    offsite = {103900: (301, f"{other_host.base}{p[103900]}"),  # another host
               103907: (302, f"{other_port.base}{p[103907]}"),  # another port
               103914: (307, f"http://localhost:__PORT__{p[103914]}")}  # this server, under another host name
    changes = {
        "redirects": {
            **{p[n]: {"status": status, "to": to} for n, (status, to) in offsite.items()},
            p[103928]: {"status": 302, "to": "__BASE__/en/private/103928/a-disallowed-copy"},  # robots.txt
            p[103935]: {"status": 303, "to": "__BASE__/en/tag/iraq"},  # not an address the crawl wants
            p[103942]: {"status": 308, "to": "__BASE__/en/print/103942"},  # print copy: disallowed, not wanted
        },
        "refresh": {p[103921]: f"{other_host.base}{p[103921]}"},  # meta refresh to another host
    }
    with serving(root, tmp_path, changes) as server:
        result = crawl(server.base, tmp_path / "out.jsonl", "lang=en", server=server)
    assert_stayed_home(result, server, other_port, other_host)
    paths = [plain_path(r) for r in result.requests]
    assert not [x for x in paths if x.startswith(("/en/private/", "/en/tag/", "/en/print/"))]

    redirected = {f"en-{n}" for n in p}
    want = english(server.base)
    assert set(result.by_id) == set(want) - redirected
    assert Counter(r["id"] for r in result.records).most_common(1)[0][1] == 1
    assert blocked(result, "offsite") >= 4, result.stats_under("arabtoday/blocked/")
    assert blocked(result, "robots") >= 1, result.stats_under("arabtoday/blocked/")
    assert blocked(result, "not_wanted") >= 1, result.stats_under("arabtoday/blocked/")
    assert blocked(result, "robots") + blocked(result, "not_wanted") >= 3
    # docs/running.md: an article the site redirects off the site, or where robots.txt or the scope forbid,
    # is failed/redirect/<why>, and a run that failed an article exits 3
    accounting = assert_accounted(result)
    assert accounting["failed"].get("redirect/offsite") == 4, accounting
    assert not [k for k in accounting["dropped"] if k.startswith("redirect/")], accounting
    assert_exit(result, 3)


LISTING_MAX_PAGES = 30


@ACCEPTANCE
def test_endless_pagination_stops(tmp_path: Path) -> None:
    root = copy_site(tmp_path)
    with serving(root, tmp_path, {"endless": ["/en/sports", "/en/politics"]}) as server:
        result = crawl(server.base, tmp_path / "out.jsonl", "lang=en", server=server, timeout=60,
                       settings={"ARABTODAY_LISTING_MAX_PAGES": str(LISTING_MAX_PAGES)})
    pages = Counter(plain_path(r) for r in result.requests if "page=" in r["path"])
    assert pages["/en/sports"] <= LISTING_MAX_PAGES and pages["/en/politics"] <= LISTING_MAX_PAGES, pages
    bounds = result.stats_under("arabtoday/bounds/")
    assert bounds.get("arabtoday/bounds/pagination_no_new", 0) + bounds.get("arabtoday/bounds/listing_pages", 0) >= 2
    assert set(result.by_id) == set(english(server.base))
    assert_accounted(result)
    assert_exit(result, 0)


SITEMAP_ENTRIES = 30_000
SITEMAP_MAX_ENTRIES = 400
MAX_QUEUED = 40


def add_sitemap_to_index(root: Path, loc: str) -> None:
    index = root / "sitemap.xml"
    index.write_text(index.read_text("utf-8").replace(
        "</sitemapindex>", f"<sitemap><loc>__BASE__{loc}</loc></sitemap>\n</sitemapindex>"), "utf-8")


@ACCEPTANCE
def test_huge_streamed_sitemap_is_read_within_bounds(traps: tuple[Server, Server], tmp_path: Path) -> None:
    _, other_host = traps
    root = copy_site(tmp_path)
    add_sitemap_to_index(root, "/sitemaps/en-2017-12.xml")
    junk = ["__BASE__/en/politics/{id}/junk-{id}",  # this site, this edition: requested, answers 404
            "__BASE__/ar/politics/{id}/junk-{id}",  # the other edition
            f"{other_host.base}/en/politics/{{id}}/junk-{{id}}",  # another host
            "http://localhost:__PORT__/en/politics/{id}/junk-{id}"]  # this server under another name
    changes = {"generated": {"/sitemaps/en-2017-12.xml": {"entries": SITEMAP_ENTRIES, "urls": junk,
                                                          "first_id": JUNK_FIRST_ID}}}
    with serving(root, tmp_path, changes) as server:
        result = crawl(server.base, tmp_path / "out.jsonl", "lang=en", server=server, timeout=180, settings={
            "ARABTODAY_SITEMAP_MAX_ENTRIES": str(SITEMAP_MAX_ENTRIES),
            "ARABTODAY_MAX_QUEUED_REQUESTS": str(MAX_QUEUED)})
    assert_stayed_home(result, server, other_host)
    requested = article_requests(result.requests)
    junk_requested = [i for i in requested if int(i.split("-")[1]) >= JUNK_FIRST_ID]
    assert 0 < len(junk_requested) <= SITEMAP_MAX_ENTRIES, len(junk_requested)
    assert not [i for i in junk_requested if i.startswith("ar-")]
    # every real article was fetched early: none waited behind the bulk of the sitemap
    real = english(server.base)
    junk_ids = set(junk_requested)
    first_request = {i: n for n, i in reversed(list(enumerate(requested)))}
    junk_before = {i: sum(1 for j in requested[:first_request.get(i, len(requested))] if j in junk_ids)
                   for i in real}
    assert max(junk_before.values()) <= SITEMAP_MAX_ENTRIES // 2, sorted(junk_before.items(), key=lambda x: -x[1])[:3]
    bounds = result.stats_under("arabtoday/bounds/")
    assert bounds.get("arabtoday/bounds/sitemap_entries", 0) >= 1, bounds
    assert bounds.get("arabtoday/bounds/queue_full", 0) >= 1, bounds
    assert set(result.by_id) == set(real)
    assert result.stats.get("arabtoday/articles/dropped/gone", 0) == len(set(junk_requested))
    assert_accounted(result)
    assert_exit(result, 0)


@ACCEPTANCE
def test_gzip_sitemap_is_read(tmp_path: Path) -> None:
    root = copy_site(tmp_path)
    path = add_article(root, "en", "politics", 104500, slug="a-quiet-harbour", title="A quiet harbour")
    plain = root / "sitemaps" / "plain"
    plain.mkdir()
    (plain / "en-2017-12.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"<url><loc>__BASE__{path}</loc><lastmod>2017-12-02T10:00:00+00:00</lastmod></url>\n</urlset>\n", "utf-8")
    add_sitemap_to_index(root, "/sitemaps/en-2017-12.xml.gz")
    with serving(root, tmp_path, {"gzip_of": {"/sitemaps/en-2017-12.xml.gz": "/sitemaps/plain/en-2017-12.xml"}}) \
            as server:
        result = crawl(server.base, tmp_path / "out.jsonl", "lang=en", server=server)
    assert "/sitemaps/en-2017-12.xml.gz" in [r["path"] for r in result.requests]
    assert "en-104500" in result.by_id, "the article only the .xml.gz sitemap lists"
    assert result.by_id["en-104500"]["title"] == "A quiet harbour"
    assert set(result.by_id) == set(english(server.base)) | {"en-104500"}
    assert_accounted(result)
    assert_exit(result, 0)


@ACCEPTANCE
def test_gzip_bomb_is_stopped_at_the_size_limit(tmp_path: Path) -> None:
    root = copy_site(tmp_path)
    add_sitemap_to_index(root, "/sitemaps/en-2017-12.xml")
    bomb_article = article_path(root, "en", 103956)
    changes = {"faults": {"/sitemaps/en-2017-12.xml": f"gzip-bomb:{BOMB_BYTES}",
                          bomb_article: f"gzip-bomb:{BOMB_BYTES}"}}
    with serving(root, tmp_path, changes) as server:
        result = crawl(server.base, tmp_path / "out.jsonl", "lang=en", server=server, timeout=180)
    assert "en-103956" not in result.by_id
    assert set(result.by_id) == set(english(server.base)) - {"en-103956"}
    failed = result.stats_under("arabtoday/articles/failed/")
    assert sum(failed.values()) == 1, failed
    assert sum(result.stats_under("arabtoday/errors/source/").values()) >= 1, result.stats_under("arabtoday/errors/")
    bombs = [r for r in result.requests if r["fault"] and r["fault"].startswith("gzip-bomb")]
    assert bombs, "the bombs were never requested"
    assert result.stats_under("arabtoday/sources/failed/") == {"arabtoday/sources/failed/sitemap": 1}
    assert result.report["discovery"]["sources_failed_at"] == [f"{server.base}/sitemaps/en-2017-12.xml"]
    assert f"failed at   {server.base}/sitemaps/en-2017-12.xml" in result.log, result.tail()
    assert_accounted(result)
    assert_exit(result, 8)  # the bombed sitemap is a source that failed: discovery incomplete (before 3)


MAX_ARTICLES = 5


@ACCEPTANCE
def test_max_articles_never_drops_ids_silently(snapshot_server: Server, tmp_path: Path) -> None:
    result = crawl(snapshot_server.base, tmp_path / "out.jsonl", "lang=en", f"max_articles={MAX_ARTICLES}",
                   server=snapshot_server)
    assert len(result.records) == MAX_ARTICLES
    assert len({r["id"] for r in result.records}) == MAX_ARTICLES
    accounting = assert_accounted(result)
    assert accounting["emitted"] == MAX_ARTICLES
    # every id the server was asked for is among those accounted; whatever was requested beyond the
    # limit (in flight when it was reached) is counted as unfinished, never forgotten
    fetched = set(article_requests(result.requests))
    assert accounting["requested"] >= len(fetched), (accounting["requested"], len(fetched))
    unfinished = result.stats.get("arabtoday/articles/unfinished/max_articles", 0)
    assert accounting["requested"] == MAX_ARTICLES + unfinished + sum(accounting["dropped"].values()) + sum(
        accounting["duplicate"].values()), result.stats_under("arabtoday/articles/")
    # the frontier requests articles only while emitted plus in flight stay under the limit: no archive
    # is fetched to be thrown away
    assert len(fetched) <= MAX_ARTICLES + 2, sorted(fetched)
    assert_exit(result, 0)
