"""Benchmark: the dedup and state code on N synthetic articles (default 1,000,000).

    python benchmarks/bench_dedup.py [--n 1000000] [--compare 100000]

Feeds generated articles through exactly what a crawl runs per article:
fingerprint (MinHash), ``claim_index`` (exact + near-duplicate check and
insert), ``commit_emitted`` every 50 records (the exporter's fsync cadence),
and the incremental ``get`` lookup the spider makes per discovered address.
Prints articles per second for each, peak RSS, and bytes of state per article
on disk and in memory. For comparison, in the same process, the obvious
in-memory design (a dict of ids and datasketch's in-memory MinHashLSH) on
``--compare`` articles.
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from arabtoday.cleaning.text import content_hash
from arabtoday.dedup.fingerprints import Fingerprinter
from arabtoday.state.sqlite import SqliteStore
from arabtoday.state.store import Emitted

COMMIT_EVERY = 200  # ARABTODAY_FSYNC_EVERY's default
WORDS = [f"w{i}" for i in range(20_000)]  # a vocabulary large enough that stories differ
SENTENCE_WORDS = 12
SENTENCES = 6
COPY_EVERY = 20  # one article in 20 is a republished copy of an earlier one (one sentence changed)


def rss() -> int:
    return psutil.Process().memory_info().rss


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def articles(n: int, seed: int = 7):
    """(id, lang, body, original_id or None): deterministic, no storage of the corpus."""
    rng = random.Random(seed)
    recent: list[str] = []
    for i in range(n):
        lang = "ar" if i % 3 == 0 else "en"
        if i % COPY_EVERY == COPY_EVERY - 1 and recent:
            src_seed, src_id = rng.choice(recent).split("|")
            sentences = _story(random.Random(int(src_seed)))
            sentences[0] = " ".join(rng.choice(WORDS) for _ in range(SENTENCE_WORDS)) + "."
            yield f"{src_id.split('-')[0]}-{1_000_000 + i}", src_id.split("-")[0], " ".join(sentences), src_id
            continue
        story_seed = rng.randrange(1 << 30)
        article_id = f"{lang}-{1_000_000 + i}"
        recent.append(f"{story_seed}|{article_id}")
        if len(recent) > 1000:
            recent.pop(0)
        yield article_id, lang, " ".join(_story(random.Random(story_seed))), None


def _story(rng: random.Random) -> list[str]:
    return [" ".join(rng.choice(WORDS) for _ in range(SENTENCE_WORDS)) + "." for _ in range(SENTENCES)]


def bench_state(n: int, directory: Path, probes: int) -> dict[str, float]:
    fingerprinter = Fingerprinter()
    store = SqliteStore(directory, fingerprinter)
    gc.collect()
    rss_before = rss()
    t_fp = t_claim = t_commit = 0.0
    inserted = 0
    copies: list[tuple[str, object, str]] = []  # (id, fingerprint, original) kept for the lookup phase
    known: list[str] = []
    pending: list[Emitted] = []
    for article_id, lang, body, original in articles(n):
        t0 = time.perf_counter()
        fp = fingerprinter.fingerprint(lang, body, content_hash(body))
        t1 = time.perf_counter()
        t_fp += t1 - t0
        if original:
            if len(copies) < probes:
                copies.append((article_id, fp, original))
            continue
        match = store.claim_index(article_id, fp)
        t2 = time.perf_counter()
        t_claim += t2 - t1
        inserted += 1
        if match is None:
            pending.append(Emitted(article_id, lang, fp.content_hash, None, None))
            if len(known) < probes:
                known.append(article_id)
        if len(pending) >= COMMIT_EVERY:
            store.commit_emitted(pending, "bench.jsonl", 0)
            t_commit += time.perf_counter() - t2
            pending = []
    store.commit_emitted(pending, "bench.jsonl", 0)
    rss_after_insert = rss()
    # dedup lookups: republished copies (one sentence changed) of stored articles
    t0 = time.perf_counter()
    results = [store.claim_index(cid, fp) for cid, fp, _ in copies]
    t_dedup = time.perf_counter() - t0
    found = sum(r is not None and r[1] == original for r, (_, _, original) in zip(results, copies, strict=True))
    false_matches = sum(r is not None for r in results) - found
    # incremental lookups, as the spider makes them per discovered address: half known, half unknown
    rng = random.Random(3)
    ids = [rng.choice(known) if i % 2 else f"en-{9_000_000 + i}" for i in range(probes)]
    t0 = time.perf_counter()
    hits = sum(store.get(i) is not None for i in ids)
    t_get = time.perf_counter() - t0
    store.close()
    disk = sum(p.stat().st_size for p in directory.glob("state.sqlite3*"))
    return {
        "articles": inserted, "fingerprint_per_s": n / t_fp, "insert_per_s": inserted / t_claim,
        "commit_per_s": inserted / t_commit if t_commit else float("inf"),
        "insert_path_per_s": inserted / (t_fp * inserted / n + t_claim + t_commit),
        "dedup_lookup_per_s": len(copies) / t_dedup, "copies": len(copies), "copies_found": found,
        "false_matches": false_matches, "get_per_s": len(ids) / t_get, "known_probes": hits, "probes": len(ids),
        "disk_bytes_per_article": disk / inserted, "rss_growth_bytes_per_article": (rss_after_insert - rss_before)
        / inserted,
    }


def bench_in_memory(n: int) -> dict[str, float]:
    """The obvious design: everything in Python dicts and datasketch's in-memory LSH."""
    from datasketch import MinHash, MinHashLSH

    fingerprinter = Fingerprinter()
    lsh = MinHashLSH(threshold=fingerprinter.threshold, num_perm=fingerprinter.num_perm)
    seen: dict[str, str] = {}
    gc.collect()
    before = rss()
    template = MinHash(num_perm=fingerprinter.num_perm, seed=1)
    t0 = time.perf_counter()
    for article_id, _lang, body, _ in articles(n):
        sig = fingerprinter.signature(body)
        mh = MinHash(num_perm=fingerprinter.num_perm, seed=1, hashvalues=sig, scheme=template.scheme)
        if not lsh.query(mh):
            lsh.insert(article_id, mh)
        seen[article_id] = content_hash(body)
    elapsed = time.perf_counter() - t0
    return {"articles": n, "per_s": n / elapsed, "rss_growth_bytes_per_article": (rss() - before) / n}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--probes", type=int, default=100_000, help="lookups of each kind")
    ap.add_argument("--compare", type=int, default=100_000, help="articles for the in-memory comparison (0: skip)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        s = bench_state(args.n, Path(tmp) / "state", args.probes)
        total = time.perf_counter() - t0
    print(f"arabtoday state (SQLite): {s['articles']:,} synthetic articles stored ({total:.0f} s)")
    print(f"  fingerprint (MinHash, 64 perm)     {s['fingerprint_per_s']:>10,.0f} articles/s")
    print(f"  insert (dedup check + index)       {s['insert_per_s']:>10,.0f} articles/s")
    print(f"  commit (batches of {COMMIT_EVERY}, WAL)       {s['commit_per_s']:>10,.0f} articles/s")
    print(f"  whole insert path                  {s['insert_path_per_s']:>10,.0f} articles/s")
    print(f"  dedup lookup (near copy)           {s['dedup_lookup_per_s']:>10,.0f} lookups/s  "
          f"({s['copies_found']:,} of {s['copies']:,} copies found, {s['false_matches']} false matches)")
    print(f"  incremental lookup (id -> state)   {s['get_per_s']:>10,.0f} lookups/s  ({s['known_probes']:,} of "
          f"{s['probes']:,} known)")
    print(f"  state on disk                      {s['disk_bytes_per_article']:>10,.0f} bytes/article")
    print(f"  resident memory growth             {s['rss_growth_bytes_per_article']:>10,.1f} bytes/article")
    print(f"  peak RSS                           {peak_rss() / 2**20:>10,.0f} MiB")
    if args.compare:
        c = bench_in_memory(args.compare)
        print(f"comparison, same process: dict + datasketch in-memory MinHashLSH on {c['articles']:,} articles:")
        print(f"  lookup + insert                    {c['per_s']:>10,.0f} articles/s")
        print(f"  resident memory growth             {c['rss_growth_bytes_per_article']:>10,.0f} bytes/article")
        print(f"  peak RSS                           {peak_rss() / 2**20:>10,.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
