"""A small HTTP server that answers for a site snapshot as the live site would.

Used by ``make demo``, the end-to-end tests and the benchmarks, always on
127.0.0.1: the crawler is exercised against a real server without touching the
network.

    python -m arabtoday.devserver ROOT [--port 0] [--log FILE] [--ready FILE]

- ``__BASE__`` in every served file becomes ``http://127.0.0.1:PORT``;
- ``/path?page=N`` maps to ``path.page-N.html``; other query parameters
  (``utm_*``, ``ref``) are ignored, as the live site ignores them;
- ``ROOT/_site.json`` declares per-path ``headers``, ``faults`` (``503-once``,
  ``500``, ``slow``, ``reset-once``, ``truncate-once``), ``redirects`` (301)
  and ``aliases``;
- every request is logged as one JSON line (method, path, status, user agent)
  to ``--log``, so tests can assert on what the crawler asked for.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, BinaryIO

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
}
SLOW_FAULT_SECONDS = 1.5
NOT_FOUND_BODY = b"<html><head><title>404</title></head><body><h1>Page not found</h1></body></html>"
ERROR_BODY = b"<html><body>Service Unavailable</body></html>"


class SiteConfig:
    """What ``_site.json`` says about individual paths."""

    def __init__(self, root: Path) -> None:
        meta_path = root / "_site.json"
        meta: dict[str, Any] = json.loads(meta_path.read_text("utf-8")) if meta_path.exists() else {}
        self.root = root.resolve()
        self.headers: dict[str, dict[str, str]] = meta.get("headers", {})
        self.faults: dict[str, str] = meta.get("faults", {})
        self.redirects: dict[str, str] = meta.get("redirects", {})
        self.aliases: dict[str, str] = meta.get("aliases", {})

    def file_for(self, path: str, query: str) -> Path | None:
        p = urllib.parse.unquote(path)
        p = self.aliases.get(p, p)
        if p.endswith("/") or "." not in os.path.basename(p):
            p = p.rstrip("/") + "/index.html"
        page = urllib.parse.parse_qs(query).get("page", [""])[0]
        if page not in ("", "1"):
            stem, ext = os.path.splitext(p)
            p = f"{stem}.page-{page}{ext}"
        full = (self.root / p.lstrip("/")).resolve()
        if not full.is_relative_to(self.root) or full.name.startswith("_"):
            return None
        return full if full.is_file() else None


def make_handler(site: SiteConfig, base: str, log: BinaryIO | None) -> type[BaseHTTPRequestHandler]:
    hits: dict[str, int] = {}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            """Silence the default stderr access log; ``--log`` has the structured one."""

        def _log(self, status: int) -> None:
            if log is None:
                return
            line = {"t": round(time.time(), 3), "m": self.command, "path": self.path, "status": status,
                    "ua": self.headers.get("User-Agent", "")}
            with lock:
                log.write((json.dumps(line) + "\n").encode())
                log.flush()

        def _send(self, status: int, body: bytes, headers: dict[str, str], head: bool) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)
            self._log(status)

        def do_HEAD(self) -> None:
            self.do_GET(head=True)

        def do_GET(self, head: bool = False) -> None:
            url = urllib.parse.urlsplit(self.path)
            with lock:
                hits[url.path] = count = hits.get(url.path, 0) + 1
            fault = site.faults.get(url.path)
            if (fault == "503-once" and count == 1) or fault == "500":
                status = 503 if fault == "503-once" else 500
                extra = {"Retry-After": "0"} if status == 503 else {}
                self._send(status, ERROR_BODY, {"Content-Type": "text/html", **extra}, head)
                return
            if fault == "reset-once" and count == 1:
                self._log(0)
                self.close_connection = True
                try:
                    self.connection.shutdown(2)
                except OSError:
                    return
                return
            if fault == "slow":
                time.sleep(SLOW_FAULT_SECONDS)
            target = site.redirects.get(url.path)
            if target:
                self._send(301, b"", {"Location": target.replace("__BASE__", base)}, head)
                return
            full = site.file_for(url.path, url.query)
            if full is None:
                self._send(404, NOT_FOUND_BODY, {"Content-Type": "text/html; charset=utf-8"}, head)
                return
            body = full.read_bytes().replace(b"__BASE__", base.encode())
            headers = {"Content-Type": CONTENT_TYPES.get(full.suffix, "application/octet-stream")}
            headers.update(site.headers.get(url.path, {}))
            if fault == "truncate-once" and count == 1:
                self.send_response(200)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.close_connection = True
                self._log(200)
                return
            self._send(200, body, headers, head)

    return Handler


def serve(root: Path, port: int = 0, log_path: Path | None = None, ready: Path | None = None) -> None:
    """Serve ``root`` on 127.0.0.1 until interrupted."""
    site = SiteConfig(root)
    server = ThreadingHTTPServer(("127.0.0.1", port), BaseHTTPRequestHandler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    log = open(log_path, "ab") if log_path else None  # noqa: SIM115 - lives as long as the server
    server.RequestHandlerClass = make_handler(site, base, log)
    server.daemon_threads = True
    if ready:
        tmp = ready.with_suffix(".tmp")
        tmp.write_text(base)
        os.replace(tmp, ready)
    print(base, flush=True)  # noqa: T201 - the base URL is this command's output
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
                        timeout: float = 20) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``serve(root)`` in a subprocess and wait until it listens; ``(process, base URL)``.
    The demo, the tests and the benchmarks all start their server this way."""
    ready = workdir / f"devserver-{os.getpid()}-{time.monotonic_ns()}.ready"
    cmd = [sys.executable, "-m", "arabtoday.devserver", str(root), "--ready", str(ready)]
    if log is not None:
        cmd += ["--log", str(log)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
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
    ap.add_argument("--log", type=Path)
    ap.add_argument("--ready", type=Path, help="write the base URL to this file once listening")
    args = ap.parse_args(argv)
    if not args.root.is_dir():
        ap.error(f"{args.root} is not a directory")
    serve(args.root, args.port, args.log, args.ready)
    return 0


if __name__ == "__main__":
    sys.exit(main())
