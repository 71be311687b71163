"""Benchmark: the whole crawler against a bare Scrapy spider, on a generated site served on loopback.

    python benchmarks/bench_crawl.py [--articles 5000] [--memory-sizes 5000,50000] [--workers 1,2,4]
                                     [--profile] [--redis-url URL]

1. Crawl: the real spider with every pipeline and the durable exporter (fresh
   state) crawls a generated site of ``--articles`` articles; then a bare
   Scrapy spider (no parsing, no pipelines, Scrapy's default settings) downloads
   exactly the URLs the crawl fetched. Same server, same concurrency, no delays.
   Prints pages per second for both and their ratio.
2. Memory: peak RSS of the full crawl for each size in ``--memory-sizes``.
3. Workers: 1, 2 and 4 processes in distributed mode (one Redis) on the same
   site: pages per second for each.
``--profile`` runs the full crawl under cProfile and prints where the time goes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devkit.launch import NO_POLITENESS, crawl_command  # noqa: E402
from devkit.server import RunningServer as Server  # noqa: E402
from devkit.server import start_server  # noqa: E402
from devkit.sitegen import generate  # noqa: E402

CONCURRENCY = 16
FAST = {**NO_POLITENESS, "CONCURRENT_REQUESTS": str(CONCURRENCY), "CONCURRENT_REQUESTS_PER_DOMAIN": str(CONCURRENCY),
        "LOG_LEVEL": "WARNING"}


def settings_args(settings: dict[str, str]) -> list[str]:
    return [arg for name, value in settings.items() for arg in ("-s", f"{name}={value}")]


def full_crawl(server: Server, work: Path, name: str, extra: dict[str, str] | None = None,
               profile: Path | None = None) -> dict:
    out = work / f"{name}.jsonl"
    settings = {**FAST, "ARABTODAY_STATE_DIR": str(work / f"{name}-state"), **(extra or {})}
    cmd = crawl_command(server.base, out, settings=settings)
    if profile:  # python -m cProfile -o FILE -m scrapy crawl ...
        cmd = [cmd[0], "-m", "cProfile", "-o", str(profile), *cmd[1:]]
    subprocess.run(cmd, cwd=ROOT, check=True)
    report = json.loads(out.with_name(out.name + ".report.json").read_text("utf-8"))
    report["records"] = sum(1 for _ in out.open("rb"))
    return report


def bare_crawl(server: Server, work: Path, urls: list[str]) -> dict:
    url_file, stats = work / "urls.txt", work / "bare-stats.json"
    url_file.write_text("\n".join(urls) + "\n", "utf-8")
    spider = work / "bare_spider.py"
    shutil.copy(Path(__file__).with_name("bare_spider.py"), spider)
    settings = {k: v for k, v in FAST.items() if not k.startswith("ARABTODAY")}
    subprocess.run([sys.executable, "-m", "scrapy", "runspider", str(spider), "-a", f"urls={url_file}",
                    "-a", f"stats={stats}", *settings_args(settings)], cwd=work, check=True)
    return json.loads(stats.read_text("utf-8"))


def fetched_urls(server: Server, since: int) -> list[str]:
    return [server.base + r["path"] for r in server.requests()[since:] if r["status"] == 200]


def bench_crawl(n: int, work: Path, profile: bool) -> None:
    site = work / f"site-{n}"
    generate(site, n)
    server = start_server(site, work)
    try:
        before = len(server.requests())
        full = full_crawl(server, work, f"full-{n}")
        urls = fetched_urls(server, before)
        bare = bare_crawl(server, work, urls)
        if profile:
            prof = work / "crawl.prof"
            full_crawl(server, work, "profiled", profile=prof)
    finally:
        server.stop()
    bare_rate = bare["responses"] / bare["seconds"]
    print(f"crawl of a generated site: {n:,} articles, {len(urls):,} pages, concurrency {CONCURRENCY}, no delays")
    print(f"  full crawler (all pipelines + export)  {full['pages_per_second']:>8,.1f} pages/s  "
          f"({full['records']:,} records, peak RSS {full['peak_rss_bytes'] / 2**20:,.0f} MiB)")
    print(f"  bare Scrapy spider (download only)     {bare_rate:>8,.1f} pages/s  "
          f"(peak RSS {bare['peak_rss_bytes'] / 2**20:,.0f} MiB)")
    print(f"  ratio full / bare                      {full['pages_per_second'] / bare_rate:>8.0%}")
    if profile:
        import pstats

        print("  where the full crawl's time goes (cProfile, cumulative, top 25):")
        pstats.Stats(str(work / "crawl.prof")).sort_stats("tottime").print_stats(25)


def bench_memory(sizes: list[int], work: Path) -> None:
    print("memory: peak RSS of the full crawl by site size")
    for n in sizes:
        site = work / f"site-{n}"
        if not site.exists():
            generate(site, n)
        server = start_server(site, work)
        try:
            report = full_crawl(server, work, f"mem-{n}")
        finally:
            server.stop()
        shutil.rmtree(site, ignore_errors=True)
        print(f"  {n:>7,} articles  {report['records']:>7,} records  {report['pages_fetched']:>7,} pages  "
              f"peak RSS {report['peak_rss_bytes'] / 2**20:>6,.0f} MiB  {report['pages_per_second']:>7,.1f} pages/s")


def bench_workers(counts: list[int], n: int, work: Path, redis_url: str) -> None:
    import redis

    try:
        redis.Redis.from_url(redis_url).ping()
    except redis.ConnectionError:
        print(f"distributed: skipped, no Redis at {redis_url} (give one with --redis-url)")
        return
    site = work / f"site-{n}"
    if not site.exists():
        generate(site, n)
    server = start_server(site, work)
    print(f"distributed: workers on one Redis, {n:,} articles (this machine has {os.cpu_count()} cores)")
    try:
        for count in counts:
            prefix = f"bench-{uuid.uuid4().hex[:8]}"
            per_worker = str(CONCURRENCY // count)  # the same total concurrency against the server
            settings = {**FAST, "ARABTODAY_REDIS_URL": redis_url, "ARABTODAY_REDIS_PREFIX": prefix,
                        "ARABTODAY_REDIS_IDLE_SECONDS": "2", "CONCURRENT_REQUESTS_PER_DOMAIN": per_worker,
                        "CONCURRENT_REQUESTS": per_worker}
            procs = []
            t0 = time.monotonic()
            for i in range(count):
                role = "seed" if i == 0 else "worker"
                out = work / f"w{count}-{i}.jsonl"
                procs.append(subprocess.Popen(crawl_command(
                    server.base, out, f"role={role}",
                    settings={**settings, "ARABTODAY_STATE_DIR": str(work / f"w{count}-{i}-state")}), cwd=ROOT))
            for proc in procs:
                proc.wait()
            reports = [json.loads((work / f"w{count}-{i}.jsonl.report.json").read_text()) for i in range(count)]
            pages = sum(r["pages_fetched"] for r in reports)
            records = sum(sum(1 for _ in (work / f"w{count}-{i}.jsonl").open("rb")) for i in range(count))
            # the workers stay up ARABTODAY_REDIS_IDLE_SECONDS (+ the engine's 5 s idle tick) after the queue empties
            busy = max(r["duration_seconds"] for r in reports) - 2
            print(f"  {count} worker(s)  {pages:>6,} pages  {records:>6,} records  {pages / busy:>8,.1f} pages/s  "
                  f"(wall {time.monotonic() - t0:,.0f} s)")
    finally:
        server.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--articles", type=int, default=5000)
    ap.add_argument("--memory-sizes", default="", help="comma-separated site sizes, e.g. 5000,50000")
    ap.add_argument("--workers", default="", help="comma-separated worker counts, e.g. 1,2,4 (needs Redis)")
    ap.add_argument("--redis-url", default=os.environ.get("ARABTODAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/14"))
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="arabtoday-bench-") as tmp:
        work = Path(tmp)
        bench_crawl(args.articles, work, args.profile)
        if args.memory_sizes:
            bench_memory([int(x) for x in args.memory_sizes.split(",")], work)
        if args.workers:
            bench_workers([int(x) for x in args.workers.split(",")], args.articles, work, args.redis_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
