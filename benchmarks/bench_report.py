"""What the run report costs a crawl: time per emitted record and per response
in the report's signal handlers, the memory its aggregates keep (flat in the
number of records), and rendering the HTML for an archive-sized run.

    .venv/bin/python benchmarks/bench_report.py [--records 200000]

Same-process comparison: the loop that hands records to the handler is timed
with a no-op handler first, so the numbers are the handler's own cost.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from arabtoday.items import Article
from arabtoday.run.report import Aggregates, build_report
from arabtoday.run.report_html import render_html

ARCHIVE_DAYS = 20 * 365  # the site's archive: about twenty years of daily news


def records(count: int, days: int) -> list[Article]:
    start = date(2006, 1, 1)
    return [Article(id=f"en-{n}", url=f"https://x/{n}", lang="en" if n % 4 else "ar", section="Politics", title="t",
                    published_at=f"{start + timedelta(days=n % days)}T06:49:00Z", modified_at=None,
                    dateline="Cairo - AFP" if n % 3 else None, author=None, source="AFP", image_url=None,
                    image_caption=None, body="b", tags=["x"] if n % 2 else [], word_count=1, content_hash="h",
                    extractor="article-v1" if n < count // 2 else "article-v2", crawled_at="2026-01-01T00:00:00Z")
            for n in range(count)]


def per_call(handler: Callable[[Any], None], items: list[Any]) -> float:
    started = time.perf_counter()
    for item in items:
        handler(item)
    return (time.perf_counter() - started) / len(items)


def kept_bytes(count: int, days: int) -> int:
    """Memory the aggregates hold after ``count`` records (measured with the records built beforehand)."""
    items = records(count, days)
    tracemalloc.start()
    agg = Aggregates()
    for item in items:
        agg.add_record(item)
        agg.add_latency(0.123)
    current, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return current


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=200_000)
    args = ap.parse_args()
    items = records(args.records, ARCHIVE_DAYS)

    def noop(_: Any) -> None:
        return None

    baseline = per_call(noop, items)
    agg = Aggregates()
    record_cost = per_call(agg.add_record, items) - baseline
    latencies = [0.01 * (n % 500) for n in range(args.records)]
    latency_cost = per_call(agg.add_latency, latencies) - baseline
    print(f"report handlers, {args.records:,} records over {ARCHIVE_DAYS:,} days (no-op loop subtracted):")
    print(f"  item_scraped      {record_cost * 1e6:6.2f} µs per record")
    print(f"  response_received {latency_cost * 1e6:6.2f} µs per response")
    print("aggregates kept in memory (tracemalloc):")
    for count in (args.records // 20, args.records):
        print(f"  {count:>9,} records  {kept_bytes(count, ARCHIVE_DAYS) / 2**20:6.2f} MiB")
    report = build_report({"item_scraped_count": args.records}, 3600.0, charts=agg.as_dict())
    started = time.perf_counter()
    page = render_html(report)
    print(f"HTML report for {len(report['charts']['published']):,} published days: "
          f"{(time.perf_counter() - started) * 1000:.0f} ms, {len(page.encode()) / 2**20:.2f} MiB")


if __name__ == "__main__":
    main()
