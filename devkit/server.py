"""A small HTTP server that answers for a site snapshot as the live site would,
and, on demand, as a faulty or hostile one would.

Used by ``make demo``, the end-to-end tests and the benchmarks, always on a
loopback address: the crawler is exercised against a real server without
touching the network.

    python -m devkit.server ROOT [--port 0] [--bind 127.0.0.1] [--log FILE] [--ready FILE]

- ``__BASE__`` in every served file becomes ``http://BIND:PORT`` (``__PORT__``
  in ``_site.json`` values becomes the port, so a test can name the same server
  under another host name, e.g. ``http://localhost:__PORT__/…``);
- ``/path?page=N`` maps to ``path.page-N.html``; other query parameters
  (``utm_*``, ``ref``) are ignored, as the live site ignores them;
- every request is logged as one JSON line to ``--log``: ``t``, ``m`` (method),
  ``host`` (the Host header), ``port`` (this server's own port), ``path`` (as
  sent: percent-encoded, with its query), ``status`` (0: no status line was sent), ``bytes`` (body bytes
  written), ``fault`` (the fault that answered, if any), ``ua``, ``t0`` (when the
  request arrived) and ``inflight`` (requests being answered at that moment, this
  one included); so tests can assert what the crawler asked for, that nothing
  left the site's host and port, that robots.txt was obeyed, and the concurrency
  and spacing the site saw.

``ROOT/_site.json`` (every key optional) alters individual paths (written decoded:
``/ar/economy/680100/رحب-…``, whatever encoding the client sends):

``headers``   ``{path: {name: value}}`` extra response headers.
``aliases``   ``{path: other_path}`` serve another file.
``redirects`` ``{path: target}`` (301) or ``{path: {"status": 301|302|303|307|308, "to": target}}``;
              the target may be anything: another article, a disallowed or non-article
              path, another host (``http://localhost:__PORT__/…``, ``http://127.0.0.2:…``),
              another port, or a loop (A -> B -> A: neither needs a file).
``refresh``   ``{path: target}`` a 200 page whose only content is
              ``<meta http-equiv="refresh" content="0; url=target">``.
``endless``   ``[listing_path, …]`` every ``?page=N`` of the listing exists: page 1's
              articles again, with a "next" link to ``N+1`` (a pagination that never ends).
``gzip_of``   ``{path: source_path}`` the gzip-compressed bytes of another file
              (``/sitemaps/x.xml.gz`` from ``/sitemaps/x.xml``), served as ``application/x-gzip``.
``generated`` ``{path: {"entries": N, "urls": [template, …], "first_id": 300000,
              "lastmod": "2017-12-01T00:00:00+00:00", "gzip": false}}`` a sitemap made on the
              fly and streamed (chunked, no Content-Length, never held whole in memory): entry
              ``i`` uses template ``i % len(urls)`` with ``{id}`` = ``first_id + i``
              (defaults: :data:`DEFAULT_GENERATED_URLS`, both editions and other hosts mixed).
``faults``    ``{path_or_glob: spec or [spec, …]}``; keys containing ``*?[`` are ``fnmatch``
              globs (``"/en/*/[0-9]*"``: every English article), tried after the exact path.

A fault spec is ``NAME[:ARG][@K]``; ``@K`` limits it to the first ``K`` requests of
that path (counted per path), after which the path answers normally:

======================  ====================================================================
``NNN``                 that HTTP status (``500``, ``503@2``: twice then OK, ``403``: always)
``429:S``               429 with ``Retry-After: S``
``slow:S``              wait ``S`` seconds before the status line (slow first byte), then go on
``hang``                never answer: hold the connection until the client gives up
``gate:FILE``           hold the answer until ``FILE`` exists (a test opens the gate when it is
                        ready: an event, not a sleep), then go on; logged twice: on arrival
                        (status 0, fault ``gate-held``: the test knows it is in flight) and answered
``reset``               close the connection without a response
``block-page``          200 with a captcha / "access denied" page, the same body for every path
``gzip-bomb:N``         200, ``Content-Encoding: gzip``, chunked, inflating to ``N`` zero bytes;
                        generated as a stream from one compressed block, never stored
``cut[:F]``             no Content-Length, send the first fraction ``F`` (0.5) of the body, close
``truncate[:F]``        Content-Length of the whole body, send the fraction ``F`` (0.5), close
``no-length``           the whole body, no Content-Length, close (the body ends with the connection)
``unclosed``            the body without its closing ``</body>`` and ``</html>``
======================  ====================================================================

Older names still work: ``503-once`` (``503@1``), ``reset-once``, ``truncate-once``,
``slow`` (``slow:1.5``).
"""

from __future__ import annotations

import argparse
import fnmatch
import gzip
import json
import os
import re
import select
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, BinaryIO

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
    ".gz": "application/x-gzip",
}
DEFAULT_BIND = "127.0.0.1"
SLOW_FAULT_SECONDS = 1.5
HANG_MAX_SECONDS = 600.0  # a held connection is released after this long even if the client never gives up
HANG_POLL_SECONDS = 0.2
DEFAULT_CUT_FRACTION = 0.5
NOT_FOUND_BODY = b"<html><head><title>404</title></head><body><h1>Page not found</h1></body></html>"
ERROR_BODY = b"<html><body>Service Unavailable</body></html>"
# What a bot wall answers with status 200, whatever was asked for.
BLOCK_PAGE_BODY = (b"<!DOCTYPE html><html><head><title>Access denied</title></head><body>"
                   b"<h1>Access denied</h1><p>Please complete the security check to access this site.</p>"
                   b'<form action="/challenge" method="post"><div class="captcha">captcha</div>'
                   b'<input type="submit" value="I am not a robot"></form></body></html>')
REFRESH_PAGE = ('<!DOCTYPE html><html><head><meta http-equiv="refresh" content="0; url={target}">'
                '<title>Moved</title></head><body><p>This page has moved.</p></body></html>')
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
GLOB_CHARS = re.compile(r"[*?\[]")
PAGINATION = re.compile(r'<div class="pagination">.*?</div>', re.S)
CLOSING_TAGS = re.compile(rb"\s*</body>\s*</html>\s*$", re.I)

# Generated sitemaps: which addresses, and how many entries go into one chunk.
DEFAULT_GENERATED_URLS = (
    "__BASE__/en/politics/{id}/generated-story-{id}",
    "__BASE__/ar/politics/{id}/generated-story-{id}",
    "http://localhost:__PORT__/en/politics/{id}/generated-story-{id}",
    "http://127.0.0.2:9/en/politics/{id}/generated-story-{id}",
)
DEFAULT_GENERATED_FIRST_ID = 300_000
DEFAULT_GENERATED_LASTMOD = "2017-12-01T00:00:00+00:00"
ENTRIES_PER_CHUNK = 1000
SITEMAP_HEAD = b'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
SITEMAP_TAIL = b"</urlset>\n"

# Gzip bomb: one MiB of zeros compressed once; after a full flush each copy is independent,
# so the stream is that block repeated (about 1 KiB on the wire per MiB inflated).
BOMB_BLOCK_SIZE = 1 << 20
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
RAW_DEFLATE_WBITS = -15
FAULT_NAMES = frozenset({"slow", "gate", "hang", "reset", "block-page", "gzip-bomb", "cut", "truncate",
                         "no-length", "unclosed"})
DELAYING_FAULTS = ("slow", "gate")  # answer normally, later: the log names them on the normal answer


@dataclass(frozen=True)
class Fault:
    """One parsed fault spec (see the module docstring)."""

    name: str
    arg: str | None = None
    times: int | None = None  # None: every request

    @classmethod
    def parse(cls, spec: str) -> Fault:
        legacy = {"503-once": "503@1", "reset-once": "reset@1", "truncate-once": "truncate@1",
                  "slow": f"slow:{SLOW_FAULT_SECONDS}"}
        spec = legacy.get(spec, spec)
        spec, _, times = spec.partition("@")
        name, _, arg = spec.partition(":")
        if times and not times.isdigit():
            raise ValueError(f"bad fault count in {spec!r}")
        if not name.isdigit() and name not in FAULT_NAMES:
            raise ValueError(f"unknown fault {name!r}; known: an HTTP status or {', '.join(sorted(FAULT_NAMES))}")
        return cls(name, arg or None, int(times) if times else None)

    def active(self, hit: int) -> bool:
        return self.times is None or hit <= self.times

    def number(self, default: float) -> float:
        return float(self.arg) if self.arg else default


class SiteConfig:
    """What ``_site.json`` says about individual paths."""

    def __init__(self, root: Path) -> None:
        meta_path = root / "_site.json"
        meta: dict[str, Any] = json.loads(meta_path.read_text("utf-8")) if meta_path.exists() else {}
        self.root = root.resolve()
        self.headers: dict[str, dict[str, str]] = meta.get("headers", {})
        self.redirects: dict[str, str | dict[str, Any]] = meta.get("redirects", {})
        self.aliases: dict[str, str] = meta.get("aliases", {})
        self.refresh: dict[str, str] = meta.get("refresh", {})
        self.endless: set[str] = {p.rstrip("/") for p in meta.get("endless", [])}
        self.gzip_of: dict[str, str] = meta.get("gzip_of", {})
        self.generated: dict[str, dict[str, Any]] = meta.get("generated", {})
        faults = meta.get("faults", {})
        self.faults = {path: [Fault.parse(s) for s in ([spec] if isinstance(spec, str) else spec)]
                       for path, spec in faults.items()}
        self.fault_globs = [(p, f) for p, f in self.faults.items() if GLOB_CHARS.search(p)]

    def faults_for(self, path: str) -> list[Fault]:
        if path in self.faults:
            return self.faults[path]
        return next((faults for pattern, faults in self.fault_globs if fnmatch.fnmatchcase(path, pattern)), [])

    def redirect_for(self, path: str) -> tuple[int, str] | None:
        target = self.redirects.get(path)
        if target is None:
            return None
        if isinstance(target, str):
            return 301, target
        status = int(target.get("status", 301))
        if status not in REDIRECT_STATUSES:
            raise ValueError(f"redirect status {status} for {path} is not a redirect")
        return status, str(target["to"])

    def file_for(self, path: str, query: str) -> Path | None:
        p = urllib.parse.unquote(path)
        p = self.aliases.get(p, p)
        if p.endswith("/") or "." not in os.path.basename(p):
            p = p.rstrip("/") + "/index.html"
        page = urllib.parse.parse_qs(query).get("page", [""])[0]
        if page not in ("", "1") and path.rstrip("/") not in self.endless:
            stem, ext = os.path.splitext(p)
            p = f"{stem}.page-{page}{ext}"
        full = (self.root / p.lstrip("/")).resolve()
        if not full.is_relative_to(self.root) or full.name.startswith("_"):
            return None
        return full if full.is_file() else None


def endless_page(body: bytes, base: str, path: str, query: str) -> bytes:
    """Page 1 of a listing turned into page N of a pagination that never ends."""
    page = urllib.parse.parse_qs(query).get("page", ["1"])[0]
    number = int(page) if page.isdigit() else 1
    link = f"{base}{path.rstrip('/')}?page={number + 1}"
    pagination = (f'<div class="pagination"><span class="current">{number}</span> '
                  f'<a href="{link}">{number + 1}</a> <a class="next" href="{link}">Next »</a></div>')
    text = body.decode("utf-8")
    replaced, count = PAGINATION.subn(lambda _m: pagination, text, count=1)
    if not count:
        replaced = text.replace("</body>", pagination + "</body>", 1)
    return replaced.encode("utf-8")


def generated_sitemap(spec: dict[str, Any], base: str, port: int) -> Iterator[bytes]:
    """The sitemap's bytes, a chunk of entries at a time (never the whole document)."""
    templates = [t.replace("__BASE__", base).replace("__PORT__", str(port))
                 for t in spec.get("urls", DEFAULT_GENERATED_URLS)]
    first = int(spec.get("first_id", DEFAULT_GENERATED_FIRST_ID))
    lastmod = spec.get("lastmod", DEFAULT_GENERATED_LASTMOD)
    total = int(spec["entries"])
    yield SITEMAP_HEAD
    for start in range(0, total, ENTRIES_PER_CHUNK):
        lines = []
        for i in range(start, min(total, start + ENTRIES_PER_CHUNK)):
            url = templates[i % len(templates)].format(id=first + i)
            lines.append(f"<url><loc>{url}</loc><lastmod>{lastmod}</lastmod></url>\n")
        yield "".join(lines).encode()
    yield SITEMAP_TAIL


def gzip_stream(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Gzip-compress a stream of chunks as it goes (for a generated ``.xml.gz``)."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    for chunk in chunks:
        out = compressor.compress(chunk)
        if out:
            yield out
    yield compressor.flush()


def gzip_bomb(inflated_size: int) -> Iterator[bytes]:
    """A valid gzip member inflating to ``inflated_size`` zero bytes, made from one block."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, RAW_DEFLATE_WBITS)
    zeros = bytes(BOMB_BLOCK_SIZE)
    block = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    yield GZIP_HEADER
    crc, blocks = 0, inflated_size // BOMB_BLOCK_SIZE
    for _ in range(blocks):
        crc = zlib.crc32(zeros, crc)
        yield block
    rest = bytes(inflated_size - blocks * BOMB_BLOCK_SIZE)
    tail = zlib.compressobj(9, zlib.DEFLATED, RAW_DEFLATE_WBITS)
    yield tail.compress(rest) + tail.flush()
    crc = zlib.crc32(rest, crc)
    yield crc.to_bytes(4, "little") + (inflated_size & 0xFFFFFFFF).to_bytes(4, "little")


def make_handler(site: SiteConfig, base: str, log: BinaryIO | None) -> type[BaseHTTPRequestHandler]:
    hits: dict[str, int] = {}
    in_flight = [0]  # requests being answered right now (a list: shared by every handler thread)
    lock = threading.Lock()
    port = int(base.rsplit(":", 1)[1])

    def expand(value: str) -> str:
        return value.replace("__BASE__", base).replace("__PORT__", str(port))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            """Silence the default stderr access log; ``--log`` has the structured one."""

        def _log(self, status: int, sent: int = 0, fault: str | None = None) -> None:
            if log is None:
                return
            line = {"t": round(time.time(), 3), "m": self.command, "host": self.headers.get("Host", ""),
                    "port": port, "path": self.path, "status": status, "bytes": sent, "fault": fault,
                    "ua": self.headers.get("User-Agent", ""), "t0": round(self.arrived, 4),
                    "inflight": self.in_flight_at_arrival}
            with lock:
                log.write((json.dumps(line) + "\n").encode())
                log.flush()

        def _head(self, status: int, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()

        def _send(self, status: int, body: bytes, headers: dict[str, str], head: bool,
                  fault: str | None = None) -> None:
            # logged before the answer goes out: the client cannot ask its next question first
            self._log(status, 0 if head else len(body), fault)
            self._head(status, {**headers, "Content-Length": str(len(body))})
            if not head:
                self.wfile.write(body)

        def _send_partial(self, body: bytes, headers: dict[str, str], fault: Fault) -> None:
            """``cut``/``truncate``/``no-length``: part (or all) of the body, then close."""
            share = 1.0 if fault.name == "no-length" else fault.number(DEFAULT_CUT_FRACTION)
            sent = body[: int(len(body) * share)]
            extra = {"Content-Length": str(len(body))} if fault.name == "truncate" else {}
            self._log(200, len(sent), fault.name)
            self._head(200, {**headers, **extra, "Connection": "close"})
            self.wfile.write(sent)
            self.wfile.flush()
            self.close_connection = True

        def _stream(self, chunks: Iterator[bytes], headers: dict[str, str], head: bool, fault: str | None) -> None:
            """Chunked transfer: the body is made as it is sent; stops when the client hangs up."""
            self._head(200, {**headers, "Transfer-Encoding": "chunked"})
            sent = 0
            if not head:
                try:
                    for chunk in chunks:
                        if chunk:
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                            sent += len(chunk)
                    self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True
                    self._log(200, sent, f"{fault or 'stream'}-aborted")
                    return
            self._log(200, sent, fault)

        def _hold(self) -> None:
            """Never answer: wait until the client closes the connection (or the cap)."""
            deadline = time.monotonic() + HANG_MAX_SECONDS
            while time.monotonic() < deadline:
                readable, _, _ = select.select([self.connection], [], [], HANG_POLL_SECONDS)
                if readable:
                    try:
                        if not self.connection.recv(1, socket.MSG_PEEK):
                            break
                    except OSError:
                        break
                    time.sleep(HANG_POLL_SECONDS)
            self.close_connection = True
            self._log(0, 0, "hang")

        def _reset(self) -> None:
            self._log(0, 0, "reset")
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                return

        def _terminal_fault(self, fault: Fault, path: str, head: bool) -> bool:
            """Answer with the fault itself; False when the fault only alters the normal answer."""
            name = fault.name
            if name.isdigit() or name == "429":
                status = int(name)
                extra = {"Retry-After": fault.arg or "0"} if status in (429, 503) else {}
                self._send(status, ERROR_BODY, {"Content-Type": "text/html", **extra}, head, name)
            elif name == "hang":
                self._hold()
            elif name == "reset":
                self._reset()
            elif name == "block-page":
                self._send(200, BLOCK_PAGE_BODY, {"Content-Type": "text/html; charset=utf-8"}, head, name)
            elif name == "gzip-bomb":
                ctype = CONTENT_TYPES.get(os.path.splitext(path)[1], CONTENT_TYPES[".html"])
                self._stream(gzip_bomb(int(fault.number(0))), {"Content-Type": ctype, "Content-Encoding": "gzip"},
                             head, name)
            else:
                return False
            return True

        def do_HEAD(self) -> None:
            self.do_GET(head=True)

        arrived = 0.0
        in_flight_at_arrival = 0

        def do_GET(self, head: bool = False) -> None:
            """Counts the requests in flight (this one included) for the log: what a polite crawler
            keeps at its per-host concurrency."""
            self.arrived = time.time()
            with lock:
                in_flight[0] += 1
                self.in_flight_at_arrival = in_flight[0]
            try:
                self._answer(head)
            finally:
                with lock:
                    in_flight[0] -= 1

        def _answer(self, head: bool) -> None:
            # _site.json names paths as written (Arabic slugs too); clients send them percent-encoded
            url = urllib.parse.urlsplit(self.path)
            url = url._replace(path=urllib.parse.unquote(url.path))
            with lock:
                hits[url.path] = count = hits.get(url.path, 0) + 1
            faults = [f for f in site.faults_for(url.path) if f.active(count)]
            for fault in faults:
                if fault.name == "slow":
                    time.sleep(fault.number(SLOW_FAULT_SECONDS))
                elif fault.name == "gate":
                    self._wait_for(Path(fault.arg or ""))
                elif self._terminal_fault(fault, url.path, head):
                    return
            if self._special(url, head):
                return
            body, headers = self._file(url)
            if body is None:
                self._send(404, NOT_FOUND_BODY, {"Content-Type": "text/html; charset=utf-8"}, head)
                return
            for fault in faults:
                if fault.name == "unclosed":
                    body = CLOSING_TAGS.sub(b"\n", body)
            partial = next((f for f in faults if f.name in ("cut", "truncate", "no-length")), None)
            if partial is not None and not head:
                self._send_partial(body, headers, partial)
                return
            altered = next((f.name for f in faults if f.name in (*DELAYING_FAULTS, "unclosed")), None)
            self._send(200, body, headers, head, altered)

        def _wait_for(self, gate: Path) -> None:
            """The ``gate`` fault: hold this answer until the file exists (or the hang cap)."""
            if not gate.exists():
                self._log(0, 0, "gate-held")
            deadline = time.monotonic() + HANG_MAX_SECONDS
            while not gate.exists() and time.monotonic() < deadline:
                time.sleep(HANG_POLL_SECONDS)

        def _special(self, url: urllib.parse.SplitResult, head: bool) -> bool:
            """Redirects, meta refresh and generated sitemaps: answers that are not a file."""
            redirect = site.redirect_for(url.path)
            if redirect:
                status, target = redirect
                self._send(status, b"", {"Location": expand(target)}, head)
                return True
            if url.path in site.refresh:
                page = REFRESH_PAGE.format(target=expand(site.refresh[url.path])).encode()
                self._send(200, page, {"Content-Type": CONTENT_TYPES[".html"]}, head, "refresh")
                return True
            spec = site.generated.get(url.path)
            if spec is not None:
                chunks = generated_sitemap(spec, base, port)
                ctype = CONTENT_TYPES[".xml"]
                if spec.get("gzip"):
                    chunks, ctype = gzip_stream(chunks), CONTENT_TYPES[".gz"]
                self._stream(chunks, {"Content-Type": ctype}, head, "generated")
                return True
            return False

        def _file(self, url: urllib.parse.SplitResult) -> tuple[bytes | None, dict[str, str]]:
            source = site.gzip_of.get(url.path)
            full = site.file_for(source or url.path, "" if source else url.query)
            if full is None:
                return None, {}
            body = full.read_bytes().replace(b"__BASE__", base.encode())
            headers = {"Content-Type": CONTENT_TYPES.get(full.suffix, "application/octet-stream")}
            if source:
                body, headers = gzip.compress(body, mtime=0), {"Content-Type": CONTENT_TYPES[".gz"]}
            elif url.path.rstrip("/") in site.endless:
                body = endless_page(body, base, url.path, url.query)
            headers.update(site.headers.get(url.path, {}))
            return body, headers

    return Handler


class QuietServer(ThreadingHTTPServer):
    """A client that hangs up mid-answer is what many faults provoke: not worth a traceback."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


def serve(root: Path, port: int = 0, log_path: Path | None = None, ready: Path | None = None,
          bind: str = DEFAULT_BIND) -> None:
    """Serve ``root`` on ``bind`` (a loopback address) until interrupted."""
    site = SiteConfig(root)
    server = QuietServer((bind, port), BaseHTTPRequestHandler)
    base = f"http://{bind}:{server.server_address[1]}"
    log = open(log_path, "ab") if log_path else None  # noqa: SIM115 - lives as long as the server
    server.RequestHandlerClass = make_handler(site, base, log)
    server.daemon_threads = True
    if ready:
        tmp = ready.with_suffix(".tmp")
        tmp.write_text(base)
        os.replace(tmp, ready)
    print(base, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if log:
            log.close()


class ServerDidNotStart(RuntimeError):
    """The dev server process exited or did not listen in time."""


def start_in_background(root: Path, workdir: Path, log: Path | None = None,
                        timeout: float = 20, bind: str = DEFAULT_BIND) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``serve(root)`` in a subprocess and wait until it listens; ``(process, base URL)``.
    The demo, the tests and the benchmarks all start their server this way."""
    ready = workdir / f"devserver-{os.getpid()}-{time.monotonic_ns()}.ready"
    cmd = [sys.executable, "-m", "devkit.server", str(root), "--ready", str(ready), "--bind", bind]
    if log is not None:
        cmd += ["--log", str(log)]
    # the devkit is not installed: the server finds it beside the project, wherever it is started from
    path = os.pathsep.join(p for p in (str(Path(__file__).resolve().parent.parent), os.environ.get("PYTHONPATH"))
                           if p)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": path})
    deadline = time.monotonic() + timeout
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise ServerDidNotStart(f"the dev server for {root} did not start")
        time.sleep(0.05)
    return proc, ready.read_text().strip()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("root", type=Path)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--bind", default=DEFAULT_BIND, help="loopback address to listen on (127.0.0.0/8)")
    ap.add_argument("--log", type=Path)
    ap.add_argument("--ready", type=Path, help="write the base URL to this file once listening")
    args = ap.parse_args(argv)
    if not args.root.is_dir():
        ap.error(f"{args.root} is not a directory")
    if not args.bind.startswith("127."):
        ap.error(f"--bind {args.bind}: only loopback addresses (127.0.0.0/8)")
    serve(args.root, args.port, args.log, args.ready, args.bind)
    return 0


if __name__ == "__main__":
    sys.exit(main())


@dataclass
class RunningServer:
    """A dev server started in the background, with the log of every request it answered."""

    root: Path
    base: str
    log: Path
    proc: subprocess.Popen[bytes]

    def requests(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.read_text("utf-8").splitlines() if line.strip()]

    @property
    def hostport(self) -> str:
        """``host:port`` as a client names this server in its Host header."""
        return self.base.split("://", 1)[1]

    @property
    def port(self) -> int:
        return int(self.base.rsplit(":", 1)[1])

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def start_server(root: Path, workdir: Path, bind: str = DEFAULT_BIND) -> RunningServer:
    """The dev server on ``bind`` (any 127.0.0.0/8 address: a second "host" on loopback)."""
    log = workdir / f"server-{os.getpid()}-{time.monotonic_ns()}.log"
    proc, base = start_in_background(root, workdir, log, bind=bind)
    log.touch()
    return RunningServer(root, base, log, proc)
