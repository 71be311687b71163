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

import json
import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

ROBOTS = b"User-agent: *\nDisallow:\n"
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


class WaybackServer:
    def __init__(self, captures: list[Archived]) -> None:
        self.captures = sorted(captures, key=lambda c: (c.urlkey, c.timestamp))
        self.log: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> WaybackServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def requests(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.log)

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
            seen: set[str] = set()
            rows = [c for c in rows if not (c.urlkey in seen or seen.add(c.urlkey))]  # type: ignore[func-returns-value]
        start = int(args.get("resumeKey", "0") or 0)
        limit = int(args.get("limit", len(rows) or 1))
        page = rows[start:start + limit]
        out: list[list[str]] = [list(FIELDS), *(c.row() for c in page)]
        if args.get("showResumeKey") == "true" and start + limit < len(rows):
            out += [[], [str(start + limit)]]
        return 200, json.dumps(out).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  (the standard signature)
                return

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                with server.lock:
                    server.log.append({"path": parts.path, "query": parse_qsl(parts.query)})
                headers: dict[str, str] = {"Content-Type": "text/html; charset=utf-8"}
                if parts.path == "/robots.txt":
                    status, body = 200, ROBOTS
                elif parts.path == "/cdx/search/cdx":
                    status, body = server.cdx(parse_qsl(parts.query))
                    headers["Content-Type"] = "application/json"
                else:
                    status, body = 404, b"not archived"
                    m = REPLAY.match(unquote(self.path))
                    for capture in server.captures if m else ():
                        if m and (capture.timestamp, capture.original) == (m["timestamp"], m["original"]):
                            status, body = capture.served or capture.status, capture.body
                            if capture.location:
                                headers["Location"] = capture.location
                self.send_response(status)
                for name, value in {**headers, "Content-Length": str(len(body))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

        return Handler
