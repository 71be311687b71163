"""Command line: ``arabtoday COMMAND`` (or ``python -m arabtoday COMMAND``).

    extract PATH... [--url URL]            saved pages (.html, .gz, WARC, - for stdin) -> JSON Lines on stdout
    serve [ROOT] [--port N]                serve a site snapshot on 127.0.0.1 (the dev server)
    demo                                   serve the bundled snapshot on 127.0.0.1 and crawl it
    report FILE.report.json [--html OUT]   print a run report (or write it as one HTML page)
    merge OUT FILE...                      merge outputs into one file, one record per article (scale mode)
    export INPUT.jsonl... --out DIR        dataset files (Parquet, a ``datasets`` folder)

``extract`` runs the same page objects, cleaning and item pipelines as the
crawl. Unreadable files and pages that are not articles are reported on
stderr, one line each, and counted; they never stop the others.

Exit status (every command): 0 ok, 1 some input failed (the rest was still
done), 2 usage error (bad arguments; one line says which). A failure is one
line on stderr, never a traceback (``--debug`` shows them).
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from arabtoday.devsite import BUNDLED_SITE, PROJECT_ROOT
from arabtoday.saved import STDIN, Problem, SavedPage, read_input, restore_archived_page
from arabtoday.stats import Stat
from arabtoday.version import __version__

# Scrapy, the extraction and the pipelines are imported by the commands that
# use them: --version, --help, merge and serve answer without loading them.
if TYPE_CHECKING:
    from arabtoday.items import RawArticle
    from arabtoday.offline import DictStats

logger = logging.getLogger("arabtoday.cli")

EXIT_OK = 0
EXIT_FAILED = 1  # some input could not be read or processed; the rest was
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
PROG = "arabtoday"
DEFAULT_PORT = 8000
EXPORT_FORMATS = ("parquet", "datasets")
PARSE_ERROR = "parse"
PIPELINE_ERROR = "pipeline"
MESSAGE_LIMIT = 300  # characters of an exception's text shown on the one line


class UsageError(Exception):
    """A bad argument found after parsing (exit status 2)."""


class InputFailed(Exception):
    """An input the command cannot use at all (exit status 1); its message is the one line shown."""


def fail(message: str) -> NoReturn:
    raise InputFailed(message)


def describe(exc: BaseException) -> str:
    """An exception as part of one line: its type and the start of its text."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:MESSAGE_LIMIT]}"


# --------------------------------------------------------------------------- extract

def _max_size(settings: Any) -> int:
    """The crawl's response bound applies to saved pages too: a file is not trusted more than a server."""
    return settings.getint("DOWNLOAD_MAXSIZE")


def _report(stats: DictStats, problem: Problem) -> None:
    stats.inc_value(Stat.ERROR.format(kind=problem.kind))
    print(f"{problem.label}: {problem.message}", file=sys.stderr)


def _parse(page: SavedPage, path: str, stats: DictStats) -> RawArticle | None:
    """The page's article, or None (reported and counted) when it is not one or cannot be parsed."""
    from arabtoday.extraction import NotAnArticle, decode_html, parse_page

    url = page.url or (Path(path).resolve().as_uri() if path != STDIN else "stdin:")
    try:
        decoded = decode_html(page.body, page.content_type)
        if decoded.corrected:
            stats.inc_value(Stat.CHARSET_CORRECTED)
        return parse_page(restore_archived_page(decoded.text), url)
    except NotAnArticle as exc:
        stats.inc_value(Stat.SKIPPED.format(reason="not_article"))
        hint = "" if page.url else " (give its address with --url)"
        print(f"{page.label}: skipped, not an article: {exc}{hint}", file=sys.stderr)
    except Exception as exc:  # whatever one page raises must not end the run: counted, shown, logged
        logger.debug("%s: extraction failed", page.label, exc_info=True)
        _report(stats, Problem(page.label, PARSE_ERROR, f"cannot be parsed: {describe(exc)}"))
    return None


class _PageFeed:
    """The pages of every input, remembering which one went into the pipelines last (for their errors)."""

    def __init__(self, paths: list[str], url: str | None, stats: DictStats, max_size: int) -> None:
        self.current = ""
        self.count = 0  # pages handed to the pipelines
        self._items = self._articles(paths, url, stats, max_size)

    def __iter__(self) -> Iterator[RawArticle]:
        return self._items

    def _articles(self, paths: list[str], url: str | None, stats: DictStats, max_size: int) -> Iterator[RawArticle]:
        for path in paths:
            for item in read_input(path, url, max_size):
                if isinstance(item, Problem):
                    _report(stats, item)
                    continue
                article = _parse(item, path, stats)
                if article is not None:
                    self.current = item.label
                    self.count += 1
                    yield article


def _write_records(pages: _PageFeed, settings: Any, stats: DictStats) -> int:
    """Run the pages through the pipelines to stdout; the number of records written.

    A pipeline raising on one page ends ``run_pipelines``; it is counted
    against that page and the pipelines start again with the next one, so one
    bad page never costs the others.
    """
    from arabtoday.exporters import encode_record
    from arabtoday.offline import run_pipelines

    emitted = 0
    out = sys.stdout.buffer
    failed_at = -1
    while True:
        try:
            for record in run_pipelines(pages, settings, stats):
                out.write(encode_record(record))
                out.flush()
                emitted += 1
            return emitted
        except BrokenPipeError:
            raise
        except Exception as exc:  # a pipeline failing on one page must not end the run: counted, logged
            logger.debug("%s: pipeline failed", pages.current, exc_info=True)
            if pages.count in (0, failed_at):  # not a page's fault: restarting would fail again
                fail(f"extract: the pipelines cannot start: {describe(exc)}")
            failed_at = pages.count
            _report(stats, Problem(pages.current, PIPELINE_ERROR,
                                   f"pipeline failed: {describe(exc)}; the pipelines restart with "
                                   "the next page (copies of earlier pages may not be recognised)"))


def cmd_extract(args: argparse.Namespace) -> int:
    from scrapy.utils.project import get_project_settings

    from arabtoday.offline import DictStats

    paths = [str(p) for p in args.paths]
    if args.url and len(paths) != 1:
        raise UsageError("extract: --url names the address of one page; give exactly one PATH with it")
    if paths.count(STDIN) > 1:
        raise UsageError("extract: - (stdin) can be given once")
    settings = get_project_settings()
    stats = DictStats()
    emitted = _write_records(_PageFeed(paths, args.url, stats, _max_size(settings)), settings, stats)
    counts = {k.removeprefix("arabtoday/"): v for k, v in sorted(stats.get_stats().items())}
    print(f"extract: {emitted} record(s); " + ", ".join(f"{k} {v}" for k, v in counts.items()), file=sys.stderr)
    return EXIT_FAILED if any(k.startswith("arabtoday/errors/") for k in stats.get_stats()) else EXIT_OK


# --------------------------------------------------------------------------- serve, demo

MAX_PORT = 65535


def port_number(text: str) -> int:
    """A TCP port for argparse: 0 (any free one) to 65535, said in one line otherwise."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= MAX_PORT:
        raise argparse.ArgumentTypeError(f"port {port} is outside 0-{MAX_PORT}")
    return port


def cmd_serve(args: argparse.Namespace) -> int:
    from arabtoday.devserver import serve

    if not args.root.is_dir():
        raise UsageError(f"serve: {args.root} is not a directory (a site snapshot, like {BUNDLED_SITE})")
    try:
        serve(args.root, args.port, args.log, args.ready)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            fail(f"serve: port {args.port} on 127.0.0.1 is already in use; choose another with --port "
                 "(--port 0 picks a free one)")
        fail(f"serve: cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc}")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    """Serve the bundled snapshot on loopback, crawl it with the real spider, print the report."""
    import subprocess
    import tempfile
    import time

    from arabtoday.devserver import ServerDidNotStart, start_in_background
    from arabtoday.launch import NO_POLITENESS, crawl_command
    from arabtoday.report import format_report

    with tempfile.TemporaryDirectory() as tmp:
        try:
            server, base = start_in_background(args.site, Path(tmp))
        except ServerDidNotStart as exc:
            fail(f"demo: {exc}")
        try:
            out = args.output / f"arabtoday-demo-{time.strftime('%Y%m%dT%H%M%S')}.jsonl"
            print(f"demo: serving {args.site} at {base}; crawling it into {out}", flush=True)
            cmd = crawl_command(base, out, settings={**NO_POLITENESS, "LOG_LEVEL": "WARNING",
                                                     "ARABTODAY_STATE_DIR": args.state})
            code = subprocess.call(cmd, cwd=PROJECT_ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        finally:
            server.terminate()
            server.wait(timeout=10)
    report = out.with_name(out.name + ".report.json")
    if report.exists():
        print(format_report(json.loads(report.read_text("utf-8"))))
        print(f"records: {out}\nreport:  {report}")
    return code


# --------------------------------------------------------------------------- report

# Keys a run report has, this release's (docs/CONTRACTS.md) or an older one's:
# a JSON file with none of them is some other file given by mistake.
REPORT_KEYS = frozenset({"stats", "exit_status", "accounting", "emitted", "finish_reason"})

def load_report(path: Path) -> dict[str, Any]:
    """A run report, or one clear line about why ``path`` is not one."""
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        fail(f"report: {path}: no such file")
    except OSError as exc:
        fail(f"report: {path}: cannot read: {exc.strerror or exc}")
    except ValueError as exc:  # json.JSONDecodeError and UnicodeDecodeError
        fail(f"report: {path}: not JSON ({exc})")
    if not isinstance(data, dict) or not REPORT_KEYS & data.keys():
        fail(f"report: {path}: not a run report (no {', '.join(sorted(REPORT_KEYS))}); give the "
             "<output>.report.json written next to a crawl's output")
    return data


def cmd_report(args: argparse.Namespace) -> int:
    from arabtoday.report import format_report

    report = load_report(args.path)
    if args.html:
        from arabtoday.report_html import write_html

        try:
            write_html(report, args.html)
        except OSError as exc:
            fail(f"report: cannot write {args.html}: {exc.strerror or exc}")
        print(f"report: written to {args.html}", file=sys.stderr)
        return EXIT_OK
    try:
        print(format_report(report))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        fail(f"report: {args.path}: not a complete run report (missing or wrong {exc})")
    return EXIT_OK


# --------------------------------------------------------------------------- merge

def _json_lines(path: Path) -> tuple[list[bytes], list[str]]:
    """The lines of one output file, and what is wrong with it (a whole-file problem is one line)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return [], [f"{path}: cannot read: {exc.strerror or exc}"]
    if data.lstrip()[:1] == b"[":
        return [], [f"{path}: is a JSON array, not JSON Lines (one record a line): left out"]
    problems = []
    if data and not data.endswith(b"\n"):
        problems.append(f"{path}: last line is torn (an interrupted run): left out")
        data = data[: data.rfind(b"\n") + 1]
    return data.splitlines(), problems


def cmd_merge(args: argparse.Namespace) -> int:
    """Merge output files (workers, runs) into one: one record per id, the newest
    ``crawled_at`` winning (an update replaces the version it updates). The
    output's directory is created when missing, as ``scrapy crawl -O`` does."""
    latest: dict[str, dict] = {}
    read = invalid = 0
    for path in args.inputs:
        lines, problems = _json_lines(path)
        for problem in problems:
            print(f"merge: {problem}", file=sys.stderr)
        invalid += len(problems)
        for n, line in enumerate(lines, 1):
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
    try:
        _write_atomically(args.output, sorted(latest.values(), key=lambda r: r["id"]))
    except OSError as exc:
        fail(f"merge: cannot write {args.output}: {exc.strerror or exc}")
    print(f"merge: {len(args.inputs)} file(s), {read} record(s), {len(latest)} article(s) written to {args.output}"
          f" ({read - len(latest)} older version(s) replaced, {invalid} problem(s))", file=sys.stderr)
    return EXIT_FAILED if invalid else EXIT_OK


def _write_atomically(path: Path, records: list[dict]) -> None:
    """Write next to ``path`` and rename: a reader never sees half a merge."""
    from arabtoday.exporters import encode_record

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as out:
        for record in records:
            out.write(encode_record(record))
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


# --------------------------------------------------------------------------- export

def cmd_export(args: argparse.Namespace) -> int:
    try:
        from arabtoday.dataset import run_export
    except ImportError as exc:
        fail(f"export: not available in this installation ({exc})")
    formats = list(EXPORT_FORMATS) if args.format == "all" else [args.format]
    return int(run_export(args.inputs, args.out, formats))


# --------------------------------------------------------------------------- parser

class _Parser(argparse.ArgumentParser):
    """Usage errors in one line (exit status 2), pointing at ``--help``."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    ap = _Parser(prog=PROG, description="Arab Today crawler tools. The crawl itself is `scrapy crawl arabtoday`.",
                 epilog="Exit status: 0 ok, 1 some input failed (the rest was done), 2 usage error.")
    ap.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    ap.add_argument("--debug", action="store_true", help="log details, and tracebacks of the errors counted")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    _add_extract(sub)
    _add_serve(sub)
    _add_demo(sub)
    _add_report(sub)
    _add_merge(sub)
    _add_export(sub)
    return ap


def _add_extract(sub: Any) -> None:
    ex = sub.add_parser("extract", help="re-extract saved pages to JSON Lines on stdout",
                        description="Saved pages -> JSON Lines on stdout, through the crawl's extraction and "
                                    "pipelines. Each page and WARC record is read up to DOWNLOAD_MAXSIZE bytes.")
    ex.add_argument("paths", nargs="+", metavar="PATH",
                    help="a saved page (.html, gzip-compressed or not), a WARC (.warc, .warc.gz), or - for one "
                         "page on stdin")
    ex.add_argument("--url", help="the address the page was saved from, a Wayback Machine address included "
                                  "(default: the page's canonical link); needs exactly one PATH")
    ex.set_defaults(func=cmd_extract)


def _add_serve(sub: Any) -> None:
    sv = sub.add_parser("serve", help="serve a site snapshot on 127.0.0.1",
                        description="Serve a site snapshot on 127.0.0.1 with the dev server until interrupted.")
    sv.add_argument("root", type=Path, nargs="?", default=BUNDLED_SITE,
                    help=f"the snapshot's directory (default: the bundled {BUNDLED_SITE.relative_to(PROJECT_ROOT)})")
    sv.add_argument("--port", type=port_number, default=DEFAULT_PORT, help="port on 127.0.0.1; 0 picks a free one "
                                                                   f"(default: {DEFAULT_PORT})")
    sv.add_argument("--log", type=Path, help="append one JSON line per request to this file")
    sv.add_argument("--ready", type=Path, help="write the base URL to this file once listening")
    sv.set_defaults(func=cmd_serve)


def _add_demo(sub: Any) -> None:
    dm = sub.add_parser("demo", help="crawl the bundled snapshot served on 127.0.0.1",
                        description="Serve a snapshot on 127.0.0.1, crawl it with the real spider, print the report.")
    dm.add_argument("--site", type=Path, default=BUNDLED_SITE, help="the snapshot to serve (default: the bundled one)")
    dm.add_argument("--output", type=Path, default=PROJECT_ROOT / "output",
                    help="directory for the records and the report (default: output/)")
    dm.add_argument("--state", type=Path, default=PROJECT_ROOT / ".arabtoday" / "demo-state",
                    help="state directory (each demo starts afresh unless you keep it)")
    dm.set_defaults(func=cmd_demo)


def _add_report(sub: Any) -> None:
    rp = sub.add_parser("report", help="print a run report", description="Print a run report as text, or write "
                                                                       "it as one self-contained HTML page.")
    rp.add_argument("path", type=Path, metavar="REPORT.json", help="the report written next to a crawl's output "
                                                                   "(<output>.report.json)")
    rp.add_argument("--html", type=Path, metavar="OUT.html", help="write the report as HTML here instead")
    rp.set_defaults(func=cmd_report)


def _add_merge(sub: Any) -> None:
    mg = sub.add_parser("merge", help="merge output files into one, one record per article",
                        description="Merge JSON Lines outputs (workers, runs) into one file: one record per id, "
                                    "the newest crawled_at winning. Torn or invalid lines are left out and counted.")
    mg.add_argument("output", type=Path, metavar="OUT", help="the merged file (its directory is created if missing)")
    mg.add_argument("inputs", nargs="+", type=Path, metavar="FILE", help="JSON Lines files to merge")
    mg.set_defaults(func=cmd_merge)


def _add_export(sub: Any) -> None:
    xp = sub.add_parser("export", help="write dataset files (Parquet, datasets folder) from JSON Lines",
                        description="Turn JSON Lines records into dataset files with a dataset card.")
    xp.add_argument("inputs", nargs="+", type=Path, metavar="INPUT.jsonl", help="JSON Lines files to export")
    xp.add_argument("--out", type=Path, required=True, metavar="DIR", help="directory to write into")
    xp.add_argument("--format", choices=[*EXPORT_FORMATS, "all"], default="all",
                    help="what to write (default: all)")
    xp.set_defaults(func=cmd_export)


def main(argv: list[str] | None = None) -> int:
    """Run one command; its exit status (0 ok, 1 some input failed, 2 usage error)."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args))
    except UsageError as exc:
        print(f"{PROG} {exc}", file=sys.stderr)
        return EXIT_USAGE
    except InputFailed as exc:
        print(f"{PROG} {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``| head``): not an error; stop writing quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
