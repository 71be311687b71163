"""Benchmark: extraction quality on real pages of other publishers, against trafilatura, in one process.

    python benchmarks/bench_quality.py [--pages N] [--worst K] [--json PATH]

Why: the site's snapshot shows one layout, reconstructed by us; after a
redesign (or on archived pages of older generations) the fallback path is what
keeps the dataset alive. So it is measured on *real* markup it has never seen:
the pages under ``benchmarks/realpages/`` (news pages of many publishers with
hand-made or hand-checked expected bodies; see that folder's README for
sources and licences), each fed to :func:`arabtoday.extraction.extract_bytes`
under a site-shaped address (``/ar/politics/<n>`` for Arabic pages, ``/en/…``
for the rest), as if the site had been redesigned to that page's markup.
trafilatura runs on the same bytes in the same process with its default,
precision and recall settings.

Body quality uses the metric of the Zyte article-extraction benchmark
(scrapinghub/article-extraction-benchmark, ``evaluate.py``): word 4-gram
shingles (``\\w+`` tokens), per-page TP/FP/FN normalised by their sum,
precision averaged over pages with a prediction, recall over pages with an
expected body, F1 the harmonic mean of the two averages. Titles are compared
whitespace- and case-folded; a date counts as right when its day matches the
expected day (UTC or as the page wrote it).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import trafilatura  # noqa: E402

from arabtoday.extraction import EXTRACTOR_VERSION, NotAnArticle, extract_bytes  # noqa: E402

DATA = ROOT / "benchmarks" / "realpages"
SITE = "https://www.arabstoday.net"
RTL_LANGS = frozenset({"ar", "fa", "he", "ur"})
SHINGLE = 4  # the Zyte benchmark's n
FIRST_NUMBER = 900_001  # site-shaped article numbers given to the pages, in manifest order
_TOKEN = re.compile(r"\w+", re.UNICODE)
_DAY = re.compile(r"^(\d{4}-\d{2}-\d{2})")
GOAL_TIME_RATIO = 0.5  # issue 18
GOAL_F1 = 0.970


@dataclass(frozen=True, slots=True)
class RealPage:
    name: str
    lang: str
    body: bytes
    want_body: str
    want_title: str | None
    want_days: frozenset[str]  # the expected publication day, in UTC and as the page wrote it

    @property
    def url(self) -> str:
        """A site-shaped article address (edition by script direction)."""
        return f"{SITE}/{'ar' if self.lang in RTL_LANGS else 'en'}/politics/{self.number}"

    number: int = 0


@dataclass(slots=True)
class Output:
    body: str = ""
    title: str | None = None
    date: str | None = None  # YYYY-MM-DD
    extractor: str | None = None
    error: str | None = None


@dataclass(slots=True)
class Result:
    name: str
    outputs: list[Output] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)


def load_pages(limit: int | None = None) -> list[RealPage]:
    pages = []
    lines = (DATA / "manifest.jsonl").read_text("utf-8").splitlines()
    for i, line in enumerate(lines[:limit] if limit else lines):
        row = json.loads(line)
        pages.append(RealPage(
            name=Path(row["file"]).name.removesuffix(".html.gz"), lang=row["lang"],
            body=gzip.decompress((DATA / row["file"]).read_bytes()), want_body=row["body"],
            want_title=row.get("title"), want_days=expected_days(row.get("published_at")),
            number=FIRST_NUMBER + i,
        ))
    return pages


def expected_days(value: str | None) -> frozenset[str]:
    """The day as written and the UTC day: pages state local time, extractors differ on converting it."""
    if not value:
        return frozenset()
    from arabtoday.cleaning.dates import iso, parse_iso

    days = set()
    m = _DAY.match(value)
    if m:
        days.add(m[1])
    dt = parse_iso(value)
    if dt:
        days.add(iso(dt)[:10])
    return frozenset(days)


# --- the Zyte metric -------------------------------------------------------------------------------------------

def shingles(text: str) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text or "")
    return Counter(tuple(tokens[i:i + SHINGLE]) for i in range(max(1, len(tokens) - SHINGLE + 1))
                   if tokens[i:i + SHINGLE])


def tp_fp_fn(want: str, got: str) -> tuple[float, float, float]:
    w, g = shingles(want), shingles(got)
    tp = sum((w & g).values())
    fp = sum((g - w).values())
    fn = sum((w - g).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def precision(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fp == 0 else tp / (tp + fp)


def recall(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fn == 0 else tp / (tp + fn)


def body_scores(pages: list[RealPage], outputs: list[Output]) -> tuple[float, float, float]:
    counts = [tp_fp_fn(p.want_body, o.body) for p, o in zip(pages, outputs, strict=True)]
    p = statistics.mean(precision(*c) for c in counts if c[0] + c[1] > 0)
    r = statistics.mean(recall(*c) for c in counts if c[0] + c[2] > 0)
    return p, r, 2 * p * r / (p + r) if p + r else 0.0


def page_f1(page: RealPage, out: Output) -> float:
    c = tp_fp_fn(page.want_body, out.body)
    p, r = precision(*c), recall(*c)
    return 2 * p * r / (p + r) if p + r else 0.0


# --- the extractors --------------------------------------------------------------------------------------------

def run_project(page: RealPage) -> Output:
    try:
        record = extract_bytes(page.body, page.url)
    except NotAnArticle as exc:
        return Output(error=f"not an article: {exc}")
    return Output(body=record["body"], title=record["title"], date=(record["published_at"] or "")[:10] or None,
                  extractor=record["extractor"])


def trafilatura_runner(**options: bool) -> Callable[[RealPage], Output]:
    def run(page: RealPage) -> Output:
        doc = trafilatura.bare_extraction(page.body, url=page.url, with_metadata=True, **options)
        if doc is None:
            return Output()
        return Output(body=doc.text or "", title=doc.title, date=(doc.date or "")[:10] or None)
    return run


EXTRACTORS: dict[str, Callable[[RealPage], Output]] = {
    "arabtoday extract_bytes": run_project,
    "trafilatura default": trafilatura_runner(),
    "trafilatura precision": trafilatura_runner(favor_precision=True),
    "trafilatura recall": trafilatura_runner(favor_recall=True),
}


def measure(pages: list[RealPage], rounds: int) -> list[Result]:
    """Every extractor on every page, interleaved page by page (the order
    rotating), so that load from other processes falls on all of them alike;
    each page's time is the fastest of ``rounds`` runs."""
    names = list(EXTRACTORS)
    results = [Result(name) for name in names]
    for i, page in enumerate(pages):
        best = [float("inf")] * len(names)
        outputs: list[Output | None] = [None] * len(names)
        for r in range(rounds):
            for k in range(len(names)):
                j = (i + r + k) % len(names)
                t0 = time.perf_counter()
                out = EXTRACTORS[names[j]](page)
                best[j] = min(best[j], time.perf_counter() - t0)
                outputs[j] = outputs[j] or out
        for j, result in enumerate(results):
            result.seconds.append(best[j])
            result.outputs.append(outputs[j] or Output())
    return results


# --- the table -------------------------------------------------------------------------------------------------

def fold(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


def summary(pages: list[RealPage], result: Result) -> dict[str, float | int | str]:
    p, r, f1 = body_scores(pages, result.outputs)
    with_title = [(pg, o) for pg, o in zip(pages, result.outputs, strict=True) if pg.want_title]
    with_date = [(pg, o) for pg, o in zip(pages, result.outputs, strict=True) if pg.want_days]
    return {
        "name": result.name, "f1": f1, "precision": p, "recall": r,
        "empty": sum(not o.body.strip() for o in result.outputs),
        "title_ok": sum(fold(o.title) == fold(pg.want_title) for pg, o in with_title), "titles": len(with_title),
        "date_ok": sum(o.date in pg.want_days for pg, o in with_date), "dates": len(with_date),
        "with_date": sum(bool(o.date) for o in result.outputs),
        "ms": 1000 * statistics.mean(result.seconds),
        "ms_median": 1000 * statistics.median(result.seconds),
    }


def print_table(pages: list[RealPage], rows: list[dict], results: list[Result]) -> None:
    rtl = sum(p.lang in RTL_LANGS for p in pages)
    print(f"{len(pages)} real pages ({rtl} right-to-left), same process; trafilatura {trafilatura.__version__}, "
          f"extractor version {EXTRACTOR_VERSION}")
    head = (f"{'extractor':<26}{'F1':>7}{'P':>7}{'R':>7}{'empty':>7}{'title ok':>11}{'date ok':>11}"
            f"{'dated':>7}{'ms/page':>9}{'median':>8}")
    print(head)
    print("-" * len(head))
    for row in rows:
        print(f"{row['name']:<26}{row['f1']:>7.3f}{row['precision']:>7.3f}{row['recall']:>7.3f}{row['empty']:>7}"
              f"{row['title_ok']:>6}/{row['titles']:<4}{row['date_ok']:>6}/{row['dates']:<4}{row['with_date']:>7}"
              f"{row['ms']:>9.1f}{row['ms_median']:>8.1f}")
    ours, trafs = rows[0], rows[1:]
    best = max(trafs, key=lambda r: r["f1"])
    default = rows[1]
    ours_out, default_out = results[0].outputs, results[1].outputs
    empty_where_traf = [p.name for p, o, t in zip(pages, ours_out, default_out, strict=True)
                        if not o.body.strip() and t.body.strip()]
    print()
    print(f"body F1 vs trafilatura's best setting ({best['name']}): {ours['f1'] - best['f1']:+.3f}")
    print(f"pages empty here but not for trafilatura default: {len(empty_where_traf)} {empty_where_traf[:8]}")
    print(f"real pages through the fallback path vs trafilatura default: {ours['ms']:.1f} vs {default['ms']:.1f} "
          f"ms/page: {ours['ms'] / default['ms']:.2f}x its time (goal <= {GOAL_TIME_RATIO}x), F1 {ours['f1']:.3f} vs "
          f"{default['f1']:.3f} (goal >= {GOAL_F1})")
    by_extractor = Counter(o.extractor or f"(none: {o.error or 'empty'})" for o in ours_out)
    print("records by extractor: " + ", ".join(f"{k} {v}" for k, v in by_extractor.most_common()))


def print_worst(pages: list[RealPage], results: list[Result], k: int) -> None:
    """Where the project loses most to trafilatura's default: the pages to look at."""
    ours, default = results[0].outputs, results[1].outputs
    gaps = sorted(((page_f1(p, t) - page_f1(p, o), p, o) for p, o, t in zip(pages, ours, default, strict=True)),
                  key=lambda g: g[0], reverse=True)
    print("\npages where trafilatura default beats the project most (F1 gap, extractor, page):")
    for gap, page, out in gaps[:k]:
        print(f"  {gap:+.3f}  {out.extractor or out.error or '-':<22} {page.name}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=None, help="only the first N pages of the manifest")
    ap.add_argument("--worst", type=int, default=0, help="list the K pages where the project loses most")
    ap.add_argument("--rounds", type=int, default=1, help="runs per page and extractor; the fastest counts")
    ap.add_argument("--json", type=Path, default=None, help="also write the table as JSON")
    args = ap.parse_args()
    pages = load_pages(args.pages)
    for page in pages[:3]:  # warm-up: imports, caches, dateparser's tables
        for fn in EXTRACTORS.values():
            fn(page)
    results = measure(pages, args.rounds)
    rows = [summary(pages, r) for r in results]
    print_table(pages, rows, results)
    if args.worst:
        print_worst(pages, results, args.worst)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
