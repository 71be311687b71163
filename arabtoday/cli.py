"""The helper command ``arabtoday`` (or ``python -m arabtoday``): argument parsing only.

    extract PATH... [--url URL] [--jobs N] saved pages (.html, .gz, WARC, - for stdin) -> JSON Lines on stdout
    report FILE.report.json [--html OUT]   print a run report (or write it as one HTML page)
    merge OUT FILE... [--history]          merge outputs into one file, one row per story
    export INPUT.jsonl... --out DIR [--history]  dataset files (Parquet, a ``datasets`` folder)

Each command is done where its job lives (:mod:`arabtoday.offline.extract`,
:mod:`arabtoday.run.report`, :mod:`arabtoday.export.merge`,
:mod:`arabtoday.export.dataset`), imported only when the command runs:
``--version`` and ``--help`` load nothing else. The crawl itself is
``scrapy crawl arabtoday``.

Exit status (every command, :class:`arabtoday.exitstatus.ToolStatus`): 0 ok,
1 some input failed (the rest was still done), 2 usage error, 4 the output
could not be written, 130 interrupted. A failure is one line on stderr, never a
traceback (``--debug`` shows them).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

from arabtoday.exitstatus import ToolStatus
from arabtoday.version import __version__

PROG = "arabtoday"
EXPORT_FORMATS = ("parquet", "datasets")
STDIN = "-"


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line (exit status 2), pointing at ``--help``."""

    def error(self, message: str) -> NoReturn:
        self.exit(ToolStatus.USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def cmd_extract(args: argparse.Namespace) -> int:
    from arabtoday.offline.extract import default_jobs, extract_command

    paths = [str(p) for p in args.paths]
    if args.url and len(paths) != 1:
        return usage("extract: --url names the address of one page; give exactly one PATH with it")
    if paths.count(STDIN) > 1:
        return usage("extract: - (stdin) can be given once")
    if args.jobs is not None and args.jobs < 1:
        return usage(f"extract: --jobs {args.jobs}: expected a whole number of at least 1")
    return extract_command(paths, args.url, args.jobs or default_jobs())


def cmd_report(args: argparse.Namespace) -> int:
    from arabtoday.run.report import report_command

    return report_command(args.path, args.html)


def cmd_merge(args: argparse.Namespace) -> int:
    from arabtoday.export.merge import merge_command

    return merge_command(args.output, args.inputs, history=args.history)


def cmd_export(args: argparse.Namespace) -> int:
    try:
        from arabtoday.export.dataset import run_export
    except ImportError as exc:
        print(f"{PROG} export: not available in this installation ({exc})", file=sys.stderr)
        return ToolStatus.INPUT_FAILED
    formats = list(EXPORT_FORMATS) if args.format == "all" else [args.format]
    return int(run_export(args.inputs, args.out, formats, history=args.history))


def usage(message: str) -> int:
    print(f"{PROG} {message}", file=sys.stderr)
    return ToolStatus.USAGE


def build_parser() -> argparse.ArgumentParser:
    ap = _Parser(prog=PROG, description="Arab Today crawler tools. The crawl itself is `scrapy crawl arabtoday`.",
                 epilog="Exit status: 0 ok, 1 some input failed (the rest was done), 2 usage error, "
                        "4 the output could not be written.")
    ap.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    ap.add_argument("--debug", action="store_true", help="log details, and tracebacks of the errors counted")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    _add_extract(sub)
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
    ex.add_argument("--jobs", "-j", type=int, metavar="N",
                    help="processes parsing pages (default: every core); the output's order does not change")
    ex.set_defaults(func=cmd_extract)


def _add_report(sub: Any) -> None:
    rp = sub.add_parser("report", help="print a run report", description="Print a run report as text, or write "
                                                                       "it as one self-contained HTML page.")
    rp.add_argument("path", type=Path, metavar="REPORT.json", help="the report written next to a crawl's output "
                                                                   "(<output>.report.json)")
    rp.add_argument("--html", type=Path, metavar="OUT.html", help="also write the report as HTML here")
    rp.set_defaults(func=cmd_report)


def _add_merge(sub: Any) -> None:
    mg = sub.add_parser("merge", help="merge output files into one, one row per story",
                        description="Merge JSON Lines outputs (workers, runs, in any order) into one file, the log "
                                    "resolved as export does: one row per story (the original's latest revision, "
                                    "its copies, removals kept). Torn or unreadable lines are left out and counted.")
    mg.add_argument("output", type=Path, metavar="OUT", help="the merged file (its directory is created if missing)")
    mg.add_argument("inputs", nargs="+", type=Path, metavar="FILE", help="JSON Lines files to merge")
    mg.add_argument("--history", action="store_true", help="one row per id and revision instead")
    mg.set_defaults(func=cmd_merge)


def _add_export(sub: Any) -> None:
    xp = sub.add_parser("export", help="write dataset files (Parquet, datasets folder) from JSON Lines",
                        description="Turn the crawl's JSON Lines (any runs and workers, in any order) into dataset "
                                    "files with a dataset card: one row per story (the original's latest revision, "
                                    "its copies, removals kept).")
    xp.add_argument("inputs", nargs="+", type=Path, metavar="INPUT.jsonl", help="JSON Lines files to export")
    xp.add_argument("--out", type=Path, required=True, metavar="DIR", help="directory to write into")
    xp.add_argument("--format", choices=[*EXPORT_FORMATS, "all"], default="all",
                    help="what to write (default: all)")
    xp.add_argument("--history", action="store_true", help="one row per id and revision (every edit) instead")
    xp.set_defaults(func=cmd_export)


def main(argv: list[str] | None = None) -> int:
    """Run one command; its exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return ToolStatus.INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``| head``): not an error; stop writing quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return ToolStatus.OK
