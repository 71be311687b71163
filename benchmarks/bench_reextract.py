"""Benchmark: what keeping raw pages costs, and re-extraction from them with 1 and 2 (or more) processes.

    python benchmarks/bench_reextract.py [--articles 2000] [--jobs 1,2] [--rounds 3]

1. A generated site of ``--articles`` articles is crawled once with
   ``ARABTODAY_WARC_DIR`` (no politeness delays): prints the WARC bytes per
   article emitted, and per HTTP exchange (robots, sitemaps, listings included).
2. ``arabtoday extract --jobs N`` over that run's WARC files, for each N of
   ``--jobs``, interleaved, ``--rounds`` times (the best round of each counts):
   article pages per second, each against one process (the ratio), whole
   process and after the start-up (the command on an empty input, the same
   for every N), and a check that every N gives the same lines in the same
   order as the crawl's ids and ``content_hash``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devkit.launch import NO_POLITENESS, crawl_command  # noqa: E402
from devkit.server import start_server  # noqa: E402
from devkit.sitegen import generate  # noqa: E402

CONCURRENCY = 16
FAST = {**NO_POLITENESS, "CONCURRENT_REQUESTS": str(CONCURRENCY), "CONCURRENT_REQUESTS_PER_DOMAIN": str(CONCURRENCY),
        "LOG_LEVEL": "WARNING"}


def live(path: Path) -> dict[str, str]:
    records = (json.loads(line) for line in path.open("rb"))
    return {r["id"]: r["content_hash"] for r in records if r.get("status", "live") == "live"}


def crawl_with_warc(n: int, work: Path) -> tuple[Path, dict[str, str]]:
    site = work / "site"
    generate(site, n)
    server = start_server(site, work)
    warc, out = work / "warc", work / "crawl.jsonl"
    try:
        subprocess.run(crawl_command(server.base, out, settings={**FAST, "ARABTODAY_WARC_DIR": str(warc)}),
                       cwd=ROOT, check=True)
    finally:
        server.stop()
    records = live(out)
    files = sorted(warc.glob("*.warc.gz"))
    size = sum(f.stat().st_size for f in files)
    report = json.loads(out.with_name(out.name + ".report.json").read_text("utf-8"))
    stats = report.get("stats", {})
    exchanges = max(1, int(stats.get("arabtoday/warc/records", 0)) // 2)
    print(f"WARC: {len(files)} file(s), {size / 1e6:.1f} MB for {len(records)} articles: "
          f"{size / max(1, len(records)) / 1024:.1f} KiB per article, {size / exchanges / 1024:.1f} KiB per exchange "
          f"({exchanges} exchanges)")
    return warc, records


def extract(warc: Path, jobs: int, work: Path, files: list[str] | None = None) -> tuple[float, Path]:
    out = work / f"extract-{jobs}.jsonl"
    files = files if files is not None else sorted(str(p) for p in warc.glob("*.warc.gz"))
    started = time.perf_counter()
    with out.open("wb") as fh:
        subprocess.run([sys.executable, "-m", "arabtoday", "extract", "--jobs", str(jobs), *files], cwd=ROOT,
                       stdout=fh, stderr=subprocess.DEVNULL, check=files != [EMPTY_INPUT])
    return time.perf_counter() - started, out


EMPTY_INPUT = "/dev/null"  # an input with no page: what the command costs before its first page (start-up)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--articles", type=int, default=2000)
    ap.add_argument("--jobs", default="1,2")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    jobs = [int(j) for j in args.jobs.split(",")]
    with tempfile.TemporaryDirectory(prefix="bench-reextract-") as tmp:
        work = Path(tmp)
        warc, crawled = crawl_with_warc(args.articles, work)
        best: dict[int, float] = {}
        first_order: list[str] = []
        for _ in range(args.rounds):
            for n in jobs:
                seconds, out = extract(warc, n, work)
                best[n] = min(best.get(n, seconds), seconds)
                same = live(out) == crawled
                order = [json.loads(line)["id"] for line in out.open("rb")]
                if not same or (first_order and order != first_order):
                    print(f"--jobs {n}: output differs from the crawl's or from --jobs {jobs[0]}'s")
                    return 1
                first_order = first_order or order
        fixed = min(extract(warc, jobs[0], work, [EMPTY_INPUT])[0] for _ in range(args.rounds))
        base = best[jobs[0]]
        print(f"start-up (an empty input): {fixed:.2f} s, the same whatever --jobs")
        for n in jobs:
            rate, steady = len(crawled) / best[n], len(crawled) / (best[n] - fixed)
            print(f"extract --jobs {n}: {best[n]:.2f} s, {rate:.0f} articles/s (x{base / best[n]:.2f} against "
                  f"--jobs {jobs[0]}); after start-up {steady:.0f} articles/s "
                  f"(x{(base - fixed) / (best[n] - fixed):.2f}); same ids, hashes and order as the crawl")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
