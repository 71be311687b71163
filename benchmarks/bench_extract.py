"""Benchmark: extraction speed and body quality, against trafilatura, in one process.

    python benchmarks/bench_extract.py [--rounds 20]

Every article page of the snapshot, as the bytes the server sends, goes
through (a) the project's ``extract_bytes`` (decode + parse + clean, the
selector path), (b) the same with the layout's class names renamed, so that
every page takes the fallback path (metadata + generic extraction +
cleaning), and (c) ``trafilatura.extract`` alone on the same bytes with its
defaults for news. The extractors take turns, one pass over the pages each
per round, and each one's fastest pass counts (the machine is shared: the
ratio is the figure to read). Quality: each body against its record in
``snapshot/expected.jsonl``, as the share of pages whose body is exact, and
word-level F1 (multiset of words; 1.0 is perfect).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import trafilatura  # noqa: E402

from arabtoday.cleaning.text import words  # noqa: E402
from arabtoday.extraction import extract_bytes  # noqa: E402
from devkit.site import BUNDLED_SITE, article_pages, expected_records, page_html, served_url  # noqa: E402

BASE = "http://bench.test"
GOAL_SPEEDUP = 10  # issue 18


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


def measure(extractors: dict[str, Callable[[bytes, str], str | None]], corpus: list[tuple[str, bytes, str]],
            rounds: int) -> list[dict[str, float | str]]:
    """Each extractor's fastest pass over the corpus, the extractors taking turns round by round."""
    outputs = {name: [fn(page, url) or "" for url, page, _ in corpus] for name, fn in extractors.items()}  # warm-up
    best = dict.fromkeys(extractors, float("inf"))
    for r in range(rounds):
        names = list(extractors)
        for name in names[r % len(names):] + names[:r % len(names)]:
            fn = extractors[name]
            t0 = time.perf_counter()
            for url, page, _ in corpus:
                fn(page, url)
            best[name] = min(best[name], time.perf_counter() - t0)
    results = []
    for name, texts in outputs.items():
        exact = sum(out == want for out, (_, _, want) in zip(texts, corpus, strict=True)) / len(corpus)
        quality = sum(f1(out, want) for out, (_, _, want) in zip(texts, corpus, strict=True)) / len(corpus)
        results.append({"name": name, "pages_per_s": len(corpus) / best[name],
                        "ms_per_page": 1000 * best[name] / len(corpus), "exact": exact, "f1": quality})
    return results


def renamed(html: bytes) -> bytes:
    return html.replace(b'class="article-', b'class="x-').replace(b'class="image-caption', b'class="x-cap')


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()
    corpus = [(url, html.encode("utf-8"), body) for url, html, body in pages()]
    fallback_corpus = [(url, renamed(html), body) for url, html, body in corpus]
    results = measure({
        "arabtoday extract_bytes (selectors)": lambda b, u: extract_bytes(b, u)["body"],
        "trafilatura.extract": lambda b, u: trafilatura.extract(b, url=u, include_comments=False,
                                                                 include_tables=False),
    }, corpus, args.rounds)
    results[1:1] = measure({"arabtoday extract_bytes (fallback path)": lambda b, u: extract_bytes(b, u)["body"]},
                           fallback_corpus, max(1, args.rounds // 4))
    print(f"{len(corpus)} article pages of the snapshot, same bytes, same process, best of {args.rounds} passes "
          f"(trafilatura {trafilatura.__version__})")
    print(f"{'extractor':<42}{'pages/s':>10}{'ms/page':>10}{'exact body':>12}{'word F1':>9}")
    for r in results:
        print(f"{r['name']:<42}{r['pages_per_s']:>10,.0f}{r['ms_per_page']:>10.3f}{r['exact']:>12.0%}{r['f1']:>9.3f}")
    ours, theirs = results[0], results[2]
    print(f"site pages, extract_bytes vs trafilatura.extract on the same bytes: {ours['ms_per_page']:.3f} vs "
          f"{theirs['ms_per_page']:.3f} ms/page: {theirs['ms_per_page'] / ours['ms_per_page']:.1f}x faster "
          f"(goal >= {GOAL_SPEEDUP}x), bodies exact {ours['exact']:.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
