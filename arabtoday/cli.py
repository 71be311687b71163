"""Command line: ``python -m arabtoday COMMAND``.

    extract PATH... [--url URL]   saved pages (.html, .html.gz, .warc, .warc.gz) -> JSON Lines on stdout
    serve ROOT [--port N]         serve a site snapshot on 127.0.0.1 (the dev server)
    demo                          serve the bundled snapshot on 127.0.0.1 and crawl it
    report FILE.report.json       print a run report
    merge OUT FILE...             merge worker outputs into one file, one record per article (scale mode)

``extract`` runs the same page objects, cleaning and item pipelines as the
crawl. Unreadable files and pages that are not articles are reported on
stderr and counted; they never stop the others. Exit status: 0 when every
input was read, 1 when some could not be, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from scrapy.utils.project import get_project_settings

from arabtoday.exporters import encode_record
from arabtoday.extraction import NotAnArticle, decode_html, parse_page
from arabtoday.items import RawArticle
from arabtoday.offline import DictStats, run_pipelines
from arabtoday.stats import Stat

logger = logging.getLogger("arabtoday.cli")
MAX_PAGE_BYTES = 10 * 1024 * 1024  # as DOWNLOAD_MAXSIZE


@dataclass
class SavedPage:
    label: str  # file (and WARC record) for messages
    body: bytes
    url: str | None
    content_type: str | None = None


class InputError(Exception):
    """A file that cannot be read as a saved page."""


def read_pages(path: Path, url: str | None) -> Iterator[SavedPage]:
    name = path.name.lower()
    if name.endswith((".warc", ".warc.gz", ".arc", ".arc.gz")):
        yield from _read_warc(path)
        return
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}") from None
    if name.endswith(".gz") or data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise InputError(f"not valid gzip: {exc}") from None
    yield SavedPage(str(path), data, url)


def _read_warc(path: Path) -> Iterator[SavedPage]:
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    try:
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type != "response" or record.http_headers is None:
                    continue
                ctype = record.http_headers.get_header("Content-Type") or ""
                if "html" not in ctype.lower():
                    continue
                target = record.rec_headers.get_header("WARC-Target-URI")
                yield SavedPage(f"{path}#{target}", record.content_stream().read(MAX_PAGE_BYTES + 1), target, ctype)
    except (ArchiveLoadFailed, OSError, EOFError) as exc:
        raise InputError(f"not a readable WARC: {exc}") from None


def _raw_articles(paths: list[Path], url: str | None, stats: DictStats) -> Iterator[RawArticle]:
    for path in paths:
        try:
            for page in read_pages(path, url):
                if len(page.body) > MAX_PAGE_BYTES:
                    stats.inc_value(Stat.ERROR.format(kind="oversized"))
                    print(f"{page.label}: larger than {MAX_PAGE_BYTES} bytes, skipped", file=sys.stderr)
                    continue
                decoded = decode_html(page.body, page.content_type)
                if decoded.corrected:
                    stats.inc_value(Stat.CHARSET_CORRECTED)
                try:
                    yield parse_page(decoded.text, page.url or path.resolve().as_uri())
                except NotAnArticle as exc:
                    stats.inc_value(Stat.SKIPPED.format(reason="not_article"))
                    hint = "" if page.url else " (give its address with --url)"
                    print(f"{page.label}: skipped, not an article: {exc}{hint}", file=sys.stderr)
        except InputError as exc:
            stats.inc_value(Stat.ERROR.format(kind="unreadable"))
            print(f"{path}: {exc}", file=sys.stderr)


def cmd_extract(args: argparse.Namespace) -> int:
    if args.url and len(args.paths) != 1:
        print("extract: --url names the address of one page; give exactly one PATH with it", file=sys.stderr)
        return 2
    settings = get_project_settings()
    stats = DictStats()
    out = sys.stdout.buffer
    emitted = 0
    for record in run_pipelines(_raw_articles(args.paths, args.url, stats), settings, stats):
        out.write(encode_record(record))
        out.flush()
        emitted += 1
    counts = {k.removeprefix("arabtoday/"): v for k, v in sorted(stats.get_stats().items())}
    print(f"extract: {emitted} record(s); " + ", ".join(f"{k} {v}" for k, v in counts.items()), file=sys.stderr)
    return 1 if any(k.startswith("arabtoday/errors/") for k in stats.get_stats()) else 0


def cmd_serve(args: argparse.Namespace) -> int:
    from arabtoday.devserver import serve

    serve(args.root, args.port, args.log, args.ready)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from arabtoday.report import format_report

    print(format_report(json.loads(args.path.read_text("utf-8"))))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Serve the bundled snapshot on loopback, crawl it with the real spider, print the report."""
    import os
    import subprocess
    import tempfile
    import time

    from arabtoday.commandline import NO_POLITENESS, crawl_command
    from arabtoday.devserver import ServerDidNotStart, start_in_background
    from arabtoday.report import format_report

    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        try:
            server, base = start_in_background(args.site, Path(tmp))
        except ServerDidNotStart as exc:
            print(f"demo: {exc}", file=sys.stderr)
            return 1
        try:
            out = args.output / f"arabtoday-demo-{time.strftime('%Y%m%dT%H%M%S')}.jsonl"
            print(f"demo: serving {args.site} at {base}; crawling it into {out}", flush=True)
            cmd = crawl_command(base, out, settings={**NO_POLITENESS, "LOG_LEVEL": "WARNING",
                                                     "ARABTODAY_STATE_DIR": args.state})
            code = subprocess.call(cmd, cwd=root, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        finally:
            server.terminate()
            server.wait(timeout=10)
    report = out.with_name(out.name + ".report.json")
    if report.exists():
        print(format_report(json.loads(report.read_text("utf-8"))))
        print(f"records: {out}\nreport:  {report}")
    return code


def cmd_merge(args: argparse.Namespace) -> int:
    """Merge output files (workers, runs) into one: one record per id, the newest
    ``crawled_at`` winning (an update replaces the version it updates)."""
    import os

    latest: dict[str, dict] = {}
    read = invalid = 0
    for path in args.inputs:
        try:
            data = path.read_bytes()
        except OSError as exc:
            print(f"merge: {path}: cannot read: {exc.strerror or exc}", file=sys.stderr)
            invalid += 1
            continue
        if data and not data.endswith(b"\n"):
            print(f"merge: {path}: last line is torn (an interrupted run): left out", file=sys.stderr)
            invalid += 1
            data = data[: data.rfind(b"\n") + 1]
        for n, line in enumerate(data.splitlines(), 1):
            try:
                record = json.loads(line)
                article_id = record["id"]
            except (ValueError, KeyError, TypeError):
                print(f"merge: {path}:{n}: not a record: left out", file=sys.stderr)
                invalid += 1
                continue
            read += 1
            if article_id not in latest or record.get("crawled_at", "") >= latest[article_id].get("crawled_at", ""):
                latest[article_id] = record
    tmp = args.output.with_name(args.output.name + ".tmp")
    with tmp.open("wb") as out:
        for record in sorted(latest.values(), key=lambda r: r["id"]):
            out.write(encode_record(record))
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, args.output)
    print(f"merge: {len(args.inputs)} file(s), {read} record(s), {len(latest)} article(s) written to {args.output}"
          f" ({read - len(latest)} older version(s) replaced, {invalid} problem(s))", file=sys.stderr)
    return 1 if invalid else 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m arabtoday", description="Arab Today crawler tools")
    sub = ap.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("extract", help="re-extract saved pages to JSON Lines on stdout")
    ex.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    ex.add_argument("--url", help="the address the page was saved from (default: its canonical link)")
    ex.set_defaults(func=cmd_extract)
    sv = sub.add_parser("serve", help="serve a site snapshot on 127.0.0.1")
    sv.add_argument("root", type=Path)
    sv.add_argument("--port", type=int, default=8000)
    sv.add_argument("--log", type=Path)
    sv.add_argument("--ready", type=Path)
    sv.set_defaults(func=cmd_serve)
    dm = sub.add_parser("demo", help="crawl the bundled snapshot served on 127.0.0.1")
    root = Path(__file__).resolve().parent.parent
    dm.add_argument("--site", type=Path, default=root / "snapshot" / "www")
    dm.add_argument("--output", type=Path, default=root / "output")
    dm.add_argument("--state", type=Path, default=root / ".arabtoday" / "demo-state",
                    help="state directory (each demo starts afresh unless you keep it)")
    dm.set_defaults(func=cmd_demo)
    mg = sub.add_parser("merge", help="merge output files into one, one record per article")
    mg.add_argument("output", type=Path)
    mg.add_argument("inputs", nargs="+", type=Path)
    mg.set_defaults(func=cmd_merge)
    rp = sub.add_parser("report", help="print a run report")
    rp.add_argument("path", type=Path)
    rp.set_defaults(func=cmd_report)
    return ap


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    return int(args.func(args))
