"""The dev server as a fault server (``devkit/server.py``), by raw HTTP requests: redirects, meta
refresh, status faults, cut and unterminated bodies, endless pagination, streamed and gzip sitemaps,
a gzip bomb, a held page. The acceptance tests of ``test_crawl_hostile.py`` stand on these."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from conftest import (
    Server,
    article_id_of,
    article_path,
    copy_site,
    serving,
)

pytestmark = pytest.mark.e2e
BOMB_BYTES = 4 * 1024**3  # what the gzip bomb inflates to
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024  # the project's default


@pytest.fixture(scope="module")
def fault_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("fault-server")
    root = copy_site(workdir)
    article = article_path(root, "en", 104312)
    gated = article_path(root, "en", 104315)
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
                   article: "cut:0.4", "/en/": "truncate:0.5", "/en/rss": ["no-length", "unclosed"],
                   gated: f"gate:{gate_of(root)}"},
        "headers": {"/robots.txt": {"X-Test": "yes"}},
    }
    with serving(root, workdir, changes) as server:
        yield server


def gate_of(root: Path) -> Path:
    """The file whose creation opens the fault server's gated page."""
    return root.parent / "gate-open"


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


def test_fault_server_holds_a_gated_page_until_its_gate_opens(fault_server: Server) -> None:
    path = article_path(fault_server.root, "en", 104315)
    before = len(fault_server.requests())
    answers: list[int] = []
    asking = threading.Thread(target=lambda: answers.append(get(fault_server, path, timeout=30)[1].status))
    asking.start()
    asking.join(timeout=1)
    assert asking.is_alive() and not answers, "the gated page answered before its gate opened"
    gate_of(fault_server.root).touch()
    asking.join(timeout=10)
    assert answers == [200]
    assert [(r["status"], r["fault"]) for r in fault_server.requests()[before:]] == [(0, "gate-held"), (200, "gate")]
