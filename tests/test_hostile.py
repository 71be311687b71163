"""Issue 9: stay inside the site and inside fixed bounds, whatever the server sends.

The project's dev server plays a hostile site (off-site redirects and meta
refresh, a pagination that never ends, a sitemap of tens of thousands of
entries streamed without a length, a gzip bomb) and, for the off-site cases,
trap servers on another port and another loopback host whose logs must stay
empty. Each crawl asserts what was requested, emitted and counted and the exit
status, with the names of ``docs/CONTRACTS.md``. The crawl core's acceptance
tests (marker ``acceptance``): a change that breaks a promise fails here.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest

from conftest import (
    CrawlResult,
    Server,
    add_article,
    article_id_of,
    article_path,
    article_requests,
    assert_accounted,
    assert_exit,
    copy_site,
    crawl,
    expected_records,
    plain_path,
    site_meta,
    start_server,
    write_site_meta,
)

pytestmark = pytest.mark.e2e
ACCEPTANCE = pytest.mark.acceptance

OTHER_HOST = "127.0.0.2"  # another host on loopback, for a trap server
JUNK_FIRST_ID = 300_000  # generated sitemap entries: ids no real article has
BOMB_BYTES = 4 * 1024**3  # what the gzip bomb inflates to
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024  # the project's default


def english(base: str) -> dict[str, dict]:
    """The English originals a correct crawl of the untouched snapshot emits."""
    return {k: v for k, v in expected_records(base).items() if not v["duplicate_of"] and k.startswith("en-")}


@contextmanager
def serving(root: Path, workdir: Path, meta_changes: dict, bind: str = "127.0.0.1") -> Iterator[Server]:
    meta = site_meta(root)
    meta.update(meta_changes)
    write_site_meta(root, meta)
    server = start_server(root, workdir, bind=bind)
    try:
        yield server
    finally:
        server.stop()


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


# -- 8. off-site and out-of-scope redirects -------------------------------------------------------------------------

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
    counted_offsite = sum(v for k, v in result.stats.items() if k.endswith("/redirect/offsite")
                          and k.startswith(("arabtoday/articles/failed/", "arabtoday/articles/dropped/")))
    assert counted_offsite == 4, result.stats_under("arabtoday/articles/")
    assert_accounted(result)
    assert result.returncode in (0, 3)
    assert_exit(result, result.returncode)


@ACCEPTANCE
def test_scope_rule_keeps_scheme_upgrades_and_refuses_other_hosts_ports_and_kinds() -> None:
    from arabtoday.site.scope import Scope

    scope = Scope.from_base_url("http://www.arabstoday.net")
    article = "/en/middle-east/104257/dozens-of-is-fighters-surrender-as-raqas-fall-nears"
    assert scope.why_not("http://www.arabstoday.net" + article) is None
    assert scope.why_not("https://www.arabstoday.net" + article) is None  # an upgrade to https is fine
    assert scope.why_not("http://evil.example" + article) == "offsite"
    assert scope.why_not("http://www.arabstoday.net:8080" + article) == "offsite"
    assert scope.why_not("http://www.arabstoday.net/en/tag/iraq") == "not_wanted"
    local = Scope.from_base_url("http://127.0.0.1:8000")
    assert local.why_not("http://127.0.0.1:8000" + article) is None
    assert local.why_not("http://127.0.0.1:8001" + article) == "offsite"
    assert local.why_not("http://localhost:8000" + article) == "offsite"
    assert local.why_not("http://127.0.0.2:8000" + article) == "offsite"


# -- 9. endless pagination ------------------------------------------------------------------------------------------

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


# -- 10. huge streamed sitemap, gzip sitemap, gzip bomb ---------------------------------------------------------------

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
    assert_accounted(result)
    assert_exit(result, 8)  # the bombed sitemap is a source that failed: discovery incomplete (before 3)


# -- 11. max_articles with a backlog ----------------------------------------------------------------------------------

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


# -- the fault server itself (these hold today: the acceptance tests above stand on them) ----------------------------

@pytest.fixture(scope="module")
def fault_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("fault-server")
    root = copy_site(workdir)
    article = article_path(root, "en", 104312)
    changes = {
        "redirects": {"/a": {"status": 302, "to": "__BASE__/b"}, "/b": {"status": 308, "to": "http://localhost:__PORT__/a"},
                      "/old": "__BASE__/en/"},
        "refresh": {"/moved": "http://127.0.0.2:9/elsewhere"},
        "endless": ["/en/sports"],
        "gzip_of": {"/sitemaps/en-2017-10.xml.gz": "/sitemaps/en-2017-10.xml"},
        "generated": {"/sitemaps/big.xml": {"entries": 2500, "first_id": 500},
                      "/sitemaps/big.xml.gz": {"entries": 1200, "gzip": True}},
        "faults": {"/twice": "503@2", "/limited": "429:7", "/slow": "slow:0.3", "/held": "hang",
                   "/bomb": f"gzip-bomb:{BOMB_BYTES}", "/ar/*/[0-9]*": "block-page", "/en/politics": "403",
                   article: "cut:0.4", "/en/": "truncate:0.5", "/en/rss": ["no-length", "unclosed"]},
        "headers": {"/robots.txt": {"X-Test": "yes"}},
    }
    with serving(root, workdir, changes) as server:
        yield server


def get(server: Server, path: str, timeout: float = 10, host: str | None = None):
    """One raw request (``http.client``: what was sent, not what a client library makes of it)."""
    import http.client

    conn = http.client.HTTPConnection(server.base.split("://")[1], timeout=timeout)
    conn.request("GET", quote(path, safe="/?=&"), headers={"Host": host} if host else {})
    return conn, conn.getresponse()


def test_fault_server_redirects_refresh_and_logs_host_and_port(fault_server: Server) -> None:
    before = len(fault_server.requests())
    for path, status, location in (("/a", 302, f"{fault_server.base}/b"),
                                   ("/b", 308, f"http://localhost:{fault_server.port}/a"),
                                   ("/old", 301, f"{fault_server.base}/en/")):
        _, response = get(fault_server, path)
        assert (response.status, response.getheader("Location")) == (status, location)
    _, response = get(fault_server, "/moved")
    assert 'content="0; url=http://127.0.0.2:9/elsewhere"' in response.read().decode()
    _, response = get(fault_server, "/robots.txt", host="localhost:1")
    assert response.getheader("X-Test") == "yes"
    log = fault_server.requests()[before:]
    assert [r["path"] for r in log] == ["/a", "/b", "/old", "/moved", "/robots.txt"]
    assert {r["port"] for r in log} == {fault_server.port}
    assert log[0]["host"] == fault_server.hostport and log[-1]["host"] == "localhost:1"


def test_fault_server_status_faults(fault_server: Server) -> None:
    statuses = [get(fault_server, "/twice")[1].status for _ in range(3)]
    assert statuses == [503, 503, 404]  # twice, then the path answers as usual (no such file)
    _, response = get(fault_server, "/limited")
    assert (response.status, response.getheader("Retry-After")) == (429, "7")
    _, response = get(fault_server, "/en/politics")
    assert response.status == 403
    started = time.monotonic()
    _, response = get(fault_server, "/slow")
    assert time.monotonic() - started >= 0.3 and response.status == 404
    bodies = set()
    for number in (680100, 680105):
        _, response = get(fault_server, article_path(fault_server.root, "ar", number))
        assert response.status == 200
        bodies.add(response.read())
    assert len(bodies) == 1 and b"Access denied" in bodies.pop()


def test_fault_server_cut_truncated_and_unterminated_bodies(fault_server: Server) -> None:
    import http.client

    article = article_path(fault_server.root, "en", 104312)
    whole = (fault_server.root / article.lstrip("/") / "index.html").read_bytes()
    _, response = get(fault_server, article)
    assert response.getheader("Content-Length") is None
    body = response.read()  # ends with the connection: a client cannot tell it was cut
    assert 0 < len(body) < len(whole) * 0.5 and b"</html>" not in body
    _, response = get(fault_server, "/en/")
    assert int(response.getheader("Content-Length")) > 0
    with pytest.raises(http.client.IncompleteRead):
        response.read()
    _, response = get(fault_server, "/en/rss")
    body = response.read()
    assert response.getheader("Content-Length") is None and body.rstrip().endswith(b"</rss>")
    _, response = get(fault_server, "/ar/rss")  # no fault: as served before
    assert response.getheader("Content-Length") == str(len(response.read()))


def test_fault_server_endless_pagination(fault_server: Server) -> None:
    _, response = get(fault_server, "/en/sports?page=4711")
    html = response.read().decode()
    assert response.status == 200
    assert f'class="next" href="{fault_server.base}/en/sports?page=4712"' in html
    first = get(fault_server, "/en/sports")[1].read().decode()
    article_links = {link for link in first.split('"') if article_id_of(link.replace(fault_server.base, ""))}
    assert article_links and all(link in html for link in article_links)


def test_fault_server_streamed_and_gzip_sitemaps(fault_server: Server) -> None:
    import gzip as gz

    _, response = get(fault_server, "/sitemaps/big.xml")
    assert response.getheader("Content-Length") is None and response.getheader("Transfer-Encoding") == "chunked"
    body = response.read().decode()
    assert body.count("<url>") == 2500 and body.rstrip().endswith("</urlset>")
    assert f"{fault_server.base}/en/politics/500/" in body and f"{fault_server.base}/ar/politics/501/" in body
    assert f"http://localhost:{fault_server.port}/en/politics/502/" in body and "http://127.0.0.2:9/" in body
    _, response = get(fault_server, "/sitemaps/big.xml.gz")
    assert gz.decompress(response.read()).decode().count("<url>") == 1200
    _, response = get(fault_server, "/sitemaps/en-2017-10.xml.gz")
    assert response.getheader("Content-Type") == "application/x-gzip"
    assert gz.decompress(response.read()).startswith(b'<?xml version="1.0"')


def test_fault_server_gzip_bomb_is_a_valid_stream(fault_server: Server) -> None:
    import zlib

    _, response = get(fault_server, "/bomb")
    assert response.getheader("Content-Encoding") == "gzip" and response.getheader("Content-Length") is None
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    inflated = compressed = 0
    while inflated < DOWNLOAD_MAXSIZE * 10:
        chunk = response.read(64 * 1024)
        compressed += len(chunk)
        out = inflater.decompress(chunk)
        assert out.count(0) == len(out)
        inflated += len(out)
    assert inflated / compressed > 500, "a bomb: a little on the wire, a lot once inflated"
    response.close()


def test_fault_server_holds_a_page_until_the_client_gives_up(fault_server: Server) -> None:
    before = len(fault_server.requests())
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        get(fault_server, "/held", timeout=1)
    assert time.monotonic() - started >= 1
    deadline = time.monotonic() + 5  # the server notices the hang-up and logs it
    while not [r for r in fault_server.requests()[before:] if r["fault"] == "hang"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [r["status"] for r in fault_server.requests()[before:] if r["fault"] == "hang"] == [0]


def test_article_helpers_read_the_snapshot(tmp_path: Path) -> None:
    """The helpers the acceptance tests stand on."""
    root = copy_site(tmp_path)
    path = article_path(root, "en", 104257)
    assert article_id_of(path) == "en-104257"
    assert article_id_of("/en/politics") is None and article_id_of("/en/print/104257") is None
    assert article_id_of("/en/amp/104257") == "en-104257"  # an AMP copy stands for its article
    new = add_article(root, "en", "politics", 104500, slug="a-quiet-harbour", title="A quiet harbour")
    html = (root / new.lstrip("/") / "index.html").read_text("utf-8")
    assert "A quiet harbour" in html and "/en/politics/104500/a-quiet-harbour" in html
    body = html.split('<div class="article-body">')[1].split('<p class="article-source">')[0]
    assert "Paragraph 7" in body and "<p>" in body
