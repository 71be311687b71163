"""Benchmark: start-up, ``scrapy list`` against ``python -c "import scrapy"``, whole processes.

    python benchmarks/bench_startup.py [--runs 9]

A command pays for what it imports: ``scrapy list`` needs Scrapy, the
settings and the spider's module, not trafilatura, datasketch/scipy, numpy,
pyarrow or Scrapy's TLS stack, which the commands that use them import where
needed. The two commands run alternately (so that load from other processes
falls on both alike); the median of each is compared (issue 18's goal: at most
1.5 times the bare import).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRAPY = Path(sys.executable).with_name("scrapy")
COMMANDS = {
    "scrapy list": [str(SCRAPY), "list"],
    'python -c "import scrapy"': [sys.executable, "-c", "import scrapy"],
}
GOAL_RATIO = 1.5


def timed(argv: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=9)
    args = ap.parse_args()
    for argv in COMMANDS.values():  # warm-up: the page cache, .pyc files
        timed(argv)
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.runs):
        for name, argv in COMMANDS.items():
            times[name].append(timed(argv))
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name, median in medians.items():
        print(f"{name:<28}{median:>8.3f} s  (median of {args.runs}, min {min(times[name]):.3f} s)")
    ours, bare = medians.values()
    print(f"scrapy list vs import scrapy: {ours / bare:.2f}x (goal <= {GOAL_RATIO}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
