"""A loopback Wayback Machine for the tests: the CDX API and raw captures, built from the project's snapshot.

:class:`WaybackServer` speaks the parts of the Wayback CDX API a backfill uses
(``/cdx/search/cdx``: ``url`` with ``matchType=prefix``, ``output=json``,
``from``/``to``, ``filter=[!]field:regex``, ``collapse=urlkey``, ``limit``,
``showResumeKey``/``resumeKey``) and serves raw captures at
``/web/<timestamp>id_/<original>`` with the status, ``Location`` and body each
:class:`Archived` capture was given (a redirect, an error answer, an edited
text). It runs in a thread of the test's process and logs every request
(:meth:`WaybackServer.requests`).
"""

from __future__ import annotations

import http
import io
import json
import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

ROBOTS = b"User-agent: *\nDisallow:\n"
HTML = {"Content-Type": "text/html; charset=utf-8"}
FIELDS = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length")
REPLAY = re.compile(r"^/web/(?P<timestamp>\d{14})id_/(?P<original>.+)$")


@dataclass
class Archived:
    """One capture: what the index says (``status``) and what a replay answers (``served``: another status,
    e.g. a 503 of the archive itself; ``location``: a redirect's target)."""

    timestamp: str
    original: str
    body: bytes = b""
    status: int = 200
    served: int | None = None
    location: str | None = None

    @property
    def urlkey(self) -> str:
        parts = urlsplit(self.original)
        host = (parts.hostname or "").removeprefix("www.")
        return ",".join(reversed(host.split("."))) + ")" + parts.path.lower()

    def row(self) -> list[str]:
        return [self.urlkey, self.timestamp, self.original, "text/html", str(self.status),
                f"D{abs(hash(self.body)):x}", str(len(self.body))]


def _matches(capture: Archived, prefix: str) -> bool:
    parts = urlsplit(capture.original)
    return f"{(parts.hostname or '').removeprefix('www.')}{parts.path}".startswith(prefix.removeprefix("www."))


def _first_per_urlkey(rows: list[Any]) -> list[Any]:
    """``collapse=urlkey``: the first capture of each address, in index order."""
    seen: set[str] = set()
    return [c for c in rows if not (c.urlkey in seen or seen.add(c.urlkey))]  # type: ignore[func-returns-value]


class _Loopback:
    """An HTTP server in a thread of the test's process that logs every request (path, query, headers)."""

    def __init__(self) -> None:
        self.log: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> Any:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def requests(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.log)

    def answer(self, path: str, query: list[tuple[str, str]], headers: Any,
               target: str) -> tuple[int, dict[str, str], bytes]:
        """The status, headers and body for a request (``target``: the request line's path and query)."""
        raise NotImplementedError

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  (the standard signature)
                return

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = parse_qsl(parts.query)
                with server.lock:
                    server.log.append({"path": parts.path, "query": query, "range": self.headers.get("Range")})
                if parts.path == "/robots.txt":
                    status, headers, body = 200, {"Content-Type": "text/plain"}, ROBOTS
                else:
                    status, headers, body = server.answer(parts.path, query, self.headers, self.path)
                self.send_response(status)
                for name, value in {**headers, "Content-Length": str(len(body))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

        return Handler


class WaybackServer(_Loopback):
    def __init__(self, captures: list[Archived], index_answer: tuple[int, bytes] | None = None) -> None:
        """``index_answer``: what the CDX API answers instead of the index (an outage, garbage)."""
        super().__init__()
        self.captures = sorted(captures, key=lambda c: (c.urlkey, c.timestamp))
        self.index_answer = index_answer

    def cdx(self, query: list[tuple[str, str]]) -> tuple[int, bytes]:
        args = dict(query)
        if args.get("output") != "json" or "url" not in args:
            return 400, b"output=json and url wanted"
        rows = [c for c in self.captures if _matches(c, args["url"])]
        rows = [c for c in rows if c.timestamp[:len(args.get("from", ""))] >= args.get("from", "")]
        rows = [c for c in rows if not args.get("to") or c.timestamp[:len(args["to"])] <= args["to"]]
        for name, value in query:
            if name == "filter":
                negate, (field, _, pattern) = value.startswith("!"), value.lstrip("!").partition(":")
                index = FIELDS.index(field)
                rows = [c for c in rows if bool(re.fullmatch(pattern, c.row()[index])) != negate]
        if args.get("collapse") == "urlkey":
            rows = _first_per_urlkey(rows)
        start = int(args.get("resumeKey", "0") or 0)
        limit = int(args.get("limit", len(rows) or 1))
        page = rows[start:start + limit]
        out: list[list[str]] = [list(FIELDS), *(c.row() for c in page)]
        if args.get("showResumeKey") == "true" and start + limit < len(rows):
            out += [[], [str(start + limit)]]
        return 200, json.dumps(out).encode()

    def answer(self, path: str, query: list[tuple[str, str]], headers: Any,
               target: str) -> tuple[int, dict[str, str], bytes]:
        if path == "/cdx/search/cdx":
            status, body = self.index_answer or self.cdx(query)
            return status, {"Content-Type": "application/json"}, body
        m = REPLAY.match(unquote(target))
        for capture in self.captures if m else ():
            if m and (capture.timestamp, unquote(capture.original)) == (m["timestamp"], m["original"]):
                location = {"Location": capture.location} if capture.location else {}
                return capture.served or capture.status, {**HTML, **location}, capture.body
        return 404, HTML, b"not archived"


# -- Common Crawl: the index server (collinfo.json, each crawl's pywb cdx-api) and the data server (WARC ranges) ----

CC_FIELDS = ("urlkey", "timestamp", "url", "mime", "status", "digest", "length", "offset", "filename")
CC_INDEX = re.compile(r"^/(?P<crawl>CC-MAIN-\d{4}-\d{2})-index$")
RANGE = re.compile(r"^bytes=(?P<first>\d+)-(?P<last>\d+)$")
BAD_OFFSET_SHIFT = 7  # bytes a bad index row's offset is off by: inside the record's gzip member, not at its start


@dataclass
class Crawl:
    """A crawl ``/collinfo.json`` lists (``from``/``to``: ISO 8601)."""

    id: str
    start: str
    end: str


@dataclass
class CCCapture:
    """One capture in a crawl's WARC file: the record's HTTP ``status`` (``location``: a redirect's target);
    ``listed``: the status the index gives when it differs from the record's; ``bad_offset``: the index points
    a few bytes into the record (a range that is not a whole record)."""

    crawl: str
    timestamp: str
    url: str
    body: bytes = b""
    status: int = 200
    location: str | None = None
    listed: int | None = None
    bad_offset: bool = False
    filename: str = ""
    offset: int = 0
    length: int = 0

    @property
    def urlkey(self) -> str:
        return Archived(self.timestamp, self.url).urlkey

    def row(self) -> dict[str, str]:
        offset = self.offset + (BAD_OFFSET_SHIFT if self.bad_offset else 0)
        return {"urlkey": self.urlkey, "timestamp": self.timestamp, "url": self.url, "mime": "text/html",
                "status": str(self.listed or self.status), "digest": f"sha1:{abs(hash(self.body)):X}",
                "length": str(self.length), "offset": str(offset), "filename": self.filename}


def _warc_date(timestamp: str) -> str:
    return f"{timestamp[:4]}-{timestamp[4:6]}-{timestamp[6:8]}T{timestamp[8:10]}:{timestamp[10:12]}:{timestamp[12:]}Z"


def build_warcs(captures: list[CCCapture], files_per_crawl: int = 2) -> dict[str, bytes]:
    """The crawls' WARC files (``crawl-data/<crawl>/…/warc/….warc.gz``), written with warcio: per capture a
    ``request`` then a ``response`` record, each its own gzip member; each capture gets its file, offset
    and length (of the response record), as Common Crawl's index gives them."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buffers: dict[str, io.BytesIO] = {}
    for n, capture in enumerate(captures):
        segment = capture.timestamp[:8]
        capture.filename = (f"crawl-data/{capture.crawl}/segments/{segment}.0/warc/"
                            f"{capture.crawl}-{segment}-{n % files_per_crawl:05d}.warc.gz")
        out = buffers.setdefault(capture.filename, io.BytesIO())
        writer = WARCWriter(out, gzip=True)
        date = _warc_date(capture.timestamp)
        host = urlsplit(capture.url).netloc
        request = writer.create_warc_record(capture.url, "request", payload=io.BytesIO(b""), http_headers=(
            StatusAndHeaders(f"GET {urlsplit(capture.url).path} HTTP/1.1", [("Host", host)], is_http_request=True)),
            warc_headers_dict={"WARC-Date": date})
        writer.write_record(request)
        headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(capture.body)))]
        if capture.location:
            headers.append(("Location", capture.location))
        reason = http.HTTPStatus(capture.status).phrase
        response = writer.create_warc_record(
            capture.url, "response", payload=io.BytesIO(capture.body),
            http_headers=StatusAndHeaders(f"{capture.status} {reason}", headers, protocol="HTTP/1.1"),
            warc_headers_dict={"WARC-Date": date})
        capture.offset = out.tell()
        writer.write_record(response)
        capture.length = out.tell() - capture.offset
    return {name: out.getvalue() for name, out in buffers.items()}


def _pywb_filter(rows: list[CCCapture], spec: str) -> list[CCCapture]:
    """``filter=[!][=|~]field:value`` as pywb reads it: ``=`` exact, ``~`` contains, else a regex from the start."""
    negate = spec.startswith("!")
    spec = spec.lstrip("!")
    mode = spec[0] if spec[:1] in ("=", "~") else ""
    field, _, value = spec.lstrip("=~").partition(":")
    if field not in CC_FIELDS:
        return rows

    def hit(capture: CCCapture) -> bool:
        have = capture.row()[field]
        if mode == "=":
            return have == value
        if mode == "~":
            return value in have
        return re.match(value, have) is not None

    return [c for c in rows if hit(c) != negate]


class CommonCrawlServer(_Loopback):
    """Common Crawl on loopback: ``/collinfo.json`` lists ``crawls``; ``/<crawl>-index`` is each crawl's
    pywb cdx-api (``url`` with ``matchType=prefix``, ``output=json``, ``filter``, ``collapse=urlkey``;
    ``showNumPages=true`` gives ``{"pages": N}``, ``page=K`` the K-th ``page_size`` captures as JSON lines);
    ``/crawl-data/…warc.gz`` serves the WARC files :func:`build_warcs` wrote, a byte range at a time
    (``Range: bytes=a-b``, answered 206; 416 for a range past the end). Captures are paged after filtering."""

    def __init__(self, crawls: list[Crawl], captures: list[CCCapture], page_size: int) -> None:
        super().__init__()
        self.crawls = crawls
        self.files = build_warcs(captures)
        self.captures = sorted(captures, key=lambda c: (c.urlkey, c.timestamp))
        self.page_size = page_size

    def collinfo(self) -> bytes:
        return json.dumps([{"id": c.id, "name": f"{c.id} Index", "timegate": f"{self.base}/{c.id}/",
                            "cdx-api": f"{self.base}/{c.id}-index", "from": c.start, "to": c.end}
                           for c in self.crawls]).encode()

    def index(self, crawl: str, query: list[tuple[str, str]]) -> tuple[int, bytes]:
        args = dict(query)
        if args.get("output") != "json" or "url" not in args:
            return 400, b"output=json and url wanted"
        rows = [c for c in self.captures if c.crawl == crawl]
        if args.get("matchType", "exact") == "prefix":
            rows = [c for c in rows if _matches(Archived(c.timestamp, c.url), args["url"])]
        else:
            wanted = args["url"].removeprefix("www.")
            rows = [c for c in rows if c.url.split("://", 1)[-1].removeprefix("www.") == wanted]
        for name, value in query:
            if name == "filter":
                rows = _pywb_filter(rows, value)
        if args.get("collapse") == "urlkey":
            rows = _first_per_urlkey(rows)
        pages = -(-len(rows) // self.page_size)
        if args.get("showNumPages") == "true":
            return 200, json.dumps({"pages": pages, "pageSize": self.page_size, "blocks": pages}).encode()
        page = int(args.get("page", "0"))
        chunk = rows[page * self.page_size:(page + 1) * self.page_size]
        if not chunk:
            return 404, b'{"message": "No Captures found for: ' + args["url"].encode() + b'"}'
        return 200, "".join(json.dumps(c.row()) + "\n" for c in chunk).encode()

    def answer(self, path: str, query: list[tuple[str, str]], headers: Any,
               target: str) -> tuple[int, dict[str, str], bytes]:
        if path == "/collinfo.json":
            return 200, {"Content-Type": "application/json"}, self.collinfo()
        m = CC_INDEX.match(path)
        if m:
            status, body = self.index(m["crawl"], query)
            return status, {"Content-Type": "text/x-ndjson"}, body
        data = self.files.get(path.lstrip("/"))
        if data is None:
            return 404, {"Content-Type": "text/plain"}, b"no such file"
        wanted = RANGE.match(headers.get("Range") or "")
        if wanted is None:
            return 200, {"Content-Type": "application/octet-stream"}, data
        first, last = int(wanted["first"]), int(wanted["last"])
        if first >= len(data) or last < first:
            return 416, {"Content-Range": f"bytes */{len(data)}"}, b""
        last = min(last, len(data) - 1)
        return 206, {"Content-Type": "application/octet-stream",
                     "Content-Range": f"bytes {first}-{last}/{len(data)}"}, data[first:last + 1]
