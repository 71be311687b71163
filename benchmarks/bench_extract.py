"""Benchmark: extraction speed and body quality, against trafilatura, in one process.

    python benchmarks/bench_extract.py [--rounds 20]

Every article page of the snapshot goes through (a) the project's
``extract`` (parse + clean, the selector path), (b) the same with the layout's
class names renamed, so that every page takes the fallback path (metadata +
trafilatura + cleaning), and (c) ``trafilatura.extract`` alone with its
defaults for news. Quality: each body against its record in
``snapshot/expected.jsonl``, as the share of pages whose body is exact,
and word-level F1 (multiset of words; 1.0 is perfect).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import trafilatura  # noqa: E402

from arabtoday.cleaning.text import words  # noqa: E402
from arabtoday.extraction import extract  # noqa: E402
from devkit.site import BUNDLED_SITE, article_pages, expected_records, page_html, served_url  # noqa: E402

BASE = "http://bench.test"


def pages() -> list[tuple[str, str, str]]:
    """(url, html, expected body) for every article page of the snapshot."""
    expected = {key: record["body"] for key, record in expected_records(BASE).items()}
    found = []
    for path in article_pages():
        lang, _, number = path.parent.relative_to(BUNDLED_SITE).parts[:3]
        found.append((served_url(path, BASE), page_html(path, BASE), expected[f"{lang}-{number}"]))
    return found


def f1(got: str, want: str) -> float:
    g, w = Counter(words(got.lower())), Counter(words(want.lower()))
    common = sum((g & w).values())
    if not common:
        return 0.0
    precision, recall = common / sum(g.values()), common / sum(w.values())
    return 2 * precision * recall / (precision + recall)


def run(name: str, fn, corpus: list[tuple[str, str, str]], rounds: int) -> dict[str, float]:
    outputs = [fn(html, url) or "" for url, html, _ in corpus]  # warm-up, and the texts for quality
    t0 = time.perf_counter()
    for _ in range(rounds):
        for url, html, _ in corpus:
            fn(html, url)
    elapsed = time.perf_counter() - t0
    n = rounds * len(corpus)
    exact = sum(out == want for out, (_, _, want) in zip(outputs, corpus, strict=True)) / len(corpus)
    quality = sum(f1(out, want) for out, (_, _, want) in zip(outputs, corpus, strict=True)) / len(corpus)
    return {"name": name, "pages_per_s": n / elapsed, "ms_per_page": 1000 * elapsed / n, "exact": exact, "f1": quality}


def renamed(html: str) -> str:
    return html.replace('class="article-', 'class="x-').replace('class="image-caption', 'class="x-cap')


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()
    corpus = pages()
    results = [
        run("arabtoday extract (selectors)", lambda h, u: extract(h, u)["body"], corpus, args.rounds),
        run("arabtoday extract (fallback path)", lambda h, u: extract(renamed(h), u)["body"], corpus,
            max(1, args.rounds // 4)),
        run("trafilatura.extract", lambda h, u: trafilatura.extract(h, url=u, include_comments=False,
                                                                    include_tables=False), corpus,
            max(1, args.rounds // 4)),
    ]
    print(f"{len(corpus)} article pages of the snapshot, same process (trafilatura {trafilatura.__version__})")
    print(f"{'extractor':<36}{'pages/s':>10}{'ms/page':>10}{'exact body':>12}{'word F1':>9}")
    for r in results:
        print(f"{r['name']:<36}{r['pages_per_s']:>10,.0f}{r['ms_per_page']:>10.2f}{r['exact']:>12.0%}{r['f1']:>9.3f}")
    ours, theirs = results[0], results[2]
    print(f"speed-up over trafilatura: {ours['pages_per_s'] / theirs['pages_per_s']:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
