"""``python -m devkit COMMAND``: the project's development tools (run from a clone; not shipped).

    serve [ROOT] [--port 8000] [--log FILE]     serve a copy of the site on 127.0.0.1 (default: the bundled one)
    demo [--output DIR] [--state DIR]            serve the bundled copy, crawl it with the real spider, print the report
    generate OUT --articles N [--seed 1]         write a large copy of the site (benchmarks, scale tests)

``make serve`` and ``make demo`` run the first two.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from devkit.server import DEFAULT_BIND, ServerDidNotStart, serve, start_in_background
from devkit.site import BUNDLED_SITE, PROJECT_ROOT

DEFAULT_PORT = 8000
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
    if not args.root.is_dir():
        print(f"serve: {args.root} is not a directory (a copy of the site, like {BUNDLED_SITE})", file=sys.stderr)
        return 2
    try:
        serve(args.root, args.port, args.log, args.ready, args.bind)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            print(f"serve: port {args.port} on {args.bind} is already in use; choose another with --port "
                  "(--port 0 picks a free one)", file=sys.stderr)
        else:
            print(f"serve: cannot listen on {args.bind}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Serve the bundled copy on loopback, crawl it with the real spider, print the report."""
    from arabtoday.run.report import format_report
    from devkit.launch import NO_POLITENESS, crawl_command

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
            code = subprocess.call(cmd, cwd=PROJECT_ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        finally:
            server.terminate()
            server.wait(timeout=10)
    report = out.with_name(out.name + ".report.json")
    if report.exists():
        print(format_report(json.loads(report.read_text("utf-8"))))
        print(f"records: {out}\nreport:  {report}")
    return code


def cmd_generate(args: argparse.Namespace) -> int:
    from devkit.sitegen import generate

    ids = generate(args.out, args.articles, args.seed)
    print(f"{len(ids)} articles written to {args.out}; serve it with: python -m devkit serve {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m devkit", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sv = sub.add_parser("serve", help="serve a copy of the site on 127.0.0.1")
    sv.add_argument("root", type=Path, nargs="?", default=BUNDLED_SITE,
                    help=f"the copy's directory (default: the bundled {BUNDLED_SITE.relative_to(PROJECT_ROOT)})")
    sv.add_argument("--port", type=port_number, default=DEFAULT_PORT,
                    help=f"port; 0 picks a free one (default: {DEFAULT_PORT})")
    sv.add_argument("--bind", default=DEFAULT_BIND, help="loopback address to listen on (127.0.0.0/8)")
    sv.add_argument("--log", type=Path, help="append one JSON line per request to this file")
    sv.add_argument("--ready", type=Path, help="write the base URL to this file once listening")
    sv.set_defaults(func=cmd_serve)
    dm = sub.add_parser("demo", help="crawl the bundled copy served on 127.0.0.1")
    dm.add_argument("--site", type=Path, default=BUNDLED_SITE, help="the copy to serve (default: the bundled one)")
    dm.add_argument("--output", type=Path, default=PROJECT_ROOT / "output",
                    help="directory for the records and the report (default: output/)")
    dm.add_argument("--state", type=Path, default=PROJECT_ROOT / ".arabtoday" / "demo-state",
                    help="state directory (make demo starts it afresh)")
    dm.set_defaults(func=cmd_demo)
    gn = sub.add_parser("generate", help="write a large copy of the site")
    gn.add_argument("out", type=Path)
    gn.add_argument("--articles", type=int, default=5000)
    gn.add_argument("--seed", type=int, default=1)
    gn.set_defaults(func=cmd_generate)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not getattr(args, "bind", DEFAULT_BIND).startswith("127."):
        print(f"serve: --bind {args.bind}: only loopback addresses (127.0.0.0/8)", file=sys.stderr)
        return 2
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
