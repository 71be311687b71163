"""Benchmark: what a hostile server costs the crawler, next to the plain snapshot.

    python benchmarks/bench_hostile.py [--entries 1000000] [--bomb-gib 4] [--timeout 240]

Three crawls of the bundled snapshot served on loopback by the dev server, each
with the project's default bounds (only the politeness delays are off), in the
same run so the numbers compare:

1. ``snapshot``: the snapshot as it is (the reference);
2. ``sitemap-1M``: the same site whose sitemap index also names a sitemap of
   ``--entries`` addresses, generated and streamed by the server (chunked, no
   Content-Length), mixing this edition, the other edition and other hosts;
3. ``gzip-bomb``: the same site where one article and one extra sitemap answer
   with ``Content-Encoding: gzip`` bodies inflating to ``--bomb-gib`` GiB.

For each: exit status, wall time, peak RSS of the crawl process (sampled with
psutil), records emitted against the real articles of the snapshot, requests
the server saw (article pages / all), and the ``arabtoday/bounds/*`` stats of
the run report. A crawl that outlives ``--timeout`` gets SIGTERM (then SIGKILL)
and is reported as such: that is a result too.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devkit.launch import NO_POLITENESS, crawl_command  # noqa: E402
from devkit.server import RunningServer as Server  # noqa: E402
from devkit.server import start_server  # noqa: E402
from devkit.site import article_requests, copy_site, expected_records, site_meta, write_site_meta  # noqa: E402

CONCURRENCY = 16
# Politeness off (the project's one definition), everything else (bounds, timeouts) at the defaults.
SETTINGS = {**NO_POLITENESS, "CONCURRENT_REQUESTS": str(CONCURRENCY),
            "CONCURRENT_REQUESTS_PER_DOMAIN": str(CONCURRENCY), "LOG_LEVEL": "WARNING"}
SAMPLE_SECONDS = 0.1
TERM_GRACE_SECONDS = 20
MIB = 1024 * 1024
EXTRA_SITEMAP = "/sitemaps/en-2017-12.xml"
BOMB_ARTICLE = (103956, "en")


@dataclass
class Outcome:
    name: str
    exit_status: int | None = None
    seconds: float = 0.0
    peak_rss: int = 0
    emitted: int = 0
    real: int = 0
    article_requests: int = 0
    requests: int = 0
    timed_out: bool = False
    bounds: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    streamed: list[str] = field(default_factory=list)  # what the server sent of streamed bodies


def tree_rss(proc: psutil.Process) -> int:
    """RSS of the crawl process and its children (Scrapy runs in the process itself)."""
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            continue
    return total


def run_crawl(server: Server, work: Path, name: str, timeout: float) -> Outcome:
    out = work / f"{name}.jsonl"
    settings = {**SETTINGS, "ARABTODAY_STATE_DIR": str(work / f"{name}-state")}
    cmd = crawl_command(server.base, out, settings=settings)
    before = len(server.requests())
    outcome = Outcome(name)
    started = time.monotonic()
    with (work / f"{name}.log").open("wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        watched = psutil.Process(proc.pid)
        while proc.poll() is None:
            outcome.peak_rss = max(outcome.peak_rss, tree_rss(watched))
            if time.monotonic() - started > timeout and not outcome.timed_out:
                outcome.timed_out = True
                proc.send_signal(signal.SIGTERM)
            if outcome.timed_out and time.monotonic() - started > timeout + TERM_GRACE_SECONDS:
                proc.kill()
            time.sleep(SAMPLE_SECONDS)
    outcome.exit_status = proc.returncode
    outcome.seconds = time.monotonic() - started
    outcome.emitted = sum(1 for _ in out.open("rb")) if out.exists() else 0
    seen = server.requests()[before:]
    outcome.requests = len(seen)
    outcome.article_requests = len(article_requests(seen))
    outcome.streamed = [f"{r['fault']} {r['bytes'] / MIB:.1f} MiB" for r in seen
                        if r["fault"] and r["fault"].startswith(("generated", "gzip-bomb"))]
    report = out.with_name(out.name + ".report.json")
    if report.exists():
        data = json.loads(report.read_text("utf-8"))
        stats = data.get("stats", {})
        outcome.bounds = {k.rsplit("/", 1)[1]: v for k, v in stats.items() if k.startswith("arabtoday/bounds/")}
        outcome.errors = {k: v for k, v in data.get("errors", {}).items() if isinstance(v, int)}
    return outcome


def add_to_index(root: Path, loc: str) -> None:
    index = root / "sitemap.xml"
    index.write_text(index.read_text("utf-8").replace(
        "</sitemapindex>", f"<sitemap><loc>__BASE__{loc}</loc></sitemap>\n</sitemapindex>"), "utf-8")


def make_site(work: Path, name: str, changes: dict) -> Path:
    root = copy_site(work / name)
    meta = site_meta(root)
    meta.update(changes)
    write_site_meta(root, meta)
    if changes:
        add_to_index(root, EXTRA_SITEMAP)
    return root


def bomb_changes(root_hint: Path, inflated: int) -> dict:
    number, lang = BOMB_ARTICLE
    page = next((root_hint / lang).glob(f"*/{number}/*/index.html")).parent
    path = "/" + str(page.relative_to(root_hint))
    return {"faults": {EXTRA_SITEMAP: f"gzip-bomb:{inflated}", path: f"gzip-bomb:{inflated}"}}


def print_table(outcomes: list[Outcome]) -> None:
    head = f"{'case':<12} {'exit':>5} {'time s':>8} {'peak RSS MiB':>13} {'emitted/real':>13} " \
           f"{'article req':>12} {'requests':>9}  bounds hit"
    print(head)
    print("-" * len(head))
    for o in outcomes:
        status = "TERM" if o.timed_out else str(o.exit_status)
        bounds = ", ".join(f"{k}={v}" for k, v in sorted(o.bounds.items())) or "-"
        print(f"{o.name:<12} {status:>5} {o.seconds:>8.1f} {o.peak_rss / MIB:>13.0f} {o.emitted:>6}/{o.real:<6} "
              f"{o.article_requests:>12} {o.requests:>9}  {bounds}")
    print()
    for o in outcomes:
        errors = ", ".join(f"{k}={v}" for k, v in sorted(o.errors.items())) or "none"
        print(f"{o.name}: errors {errors}; streamed bodies sent: {', '.join(o.streamed) or '-'}")
    reference = outcomes[0]
    for o in outcomes[1:]:
        print(f"{o.name}: peak RSS x{o.peak_rss / max(reference.peak_rss, 1):.1f}, "
              f"time x{o.seconds / max(reference.seconds, 0.001):.1f} of '{reference.name}'")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--entries", type=int, default=1_000_000, help="addresses in the generated sitemap")
    ap.add_argument("--bomb-gib", type=float, default=4.0, help="GiB the gzip bomb inflates to")
    ap.add_argument("--timeout", type=float, default=240.0, help="seconds before a crawl is stopped")
    ap.add_argument("--cases", default="snapshot,sitemap-1M,gzip-bomb")
    args = ap.parse_args(argv)
    wanted = args.cases.split(",")
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as tmp:
        work = Path(tmp)
        plain = make_site(work, "snapshot", {})
        cases = {
            "snapshot": {},
            "sitemap-1M": {"generated": {EXTRA_SITEMAP: {"entries": args.entries}}},
            "gzip-bomb": bomb_changes(plain, int(args.bomb_gib * 1024**3)),
        }
        for name, changes in cases.items():
            if name not in wanted:
                continue
            root = plain if not changes else make_site(work, name, changes)
            server = start_server(root, work)
            try:
                real = {k for k, v in expected_records(server.base).items() if not v["duplicate_of"]}
                print(f"[{name}] crawling {server.base} ...", flush=True)
                outcome = run_crawl(server, work, name, args.timeout)
                outcome.real = len(real)
                outcomes.append(outcome)
            finally:
                server.stop()
    print(f"\nhostile-server benchmark: {args.entries:,} sitemap entries, gzip bomb {args.bomb_gib:g} GiB, "
          f"timeout {args.timeout:g} s, concurrency {CONCURRENCY}\n")
    print_table(outcomes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
