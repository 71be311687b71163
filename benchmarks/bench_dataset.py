"""Benchmark: record validation (the crawl's hot path) and the dataset export.

    python benchmarks/bench_dataset.py [--validate 100000] [--export 50000]

Validation: ``arabtoday.export.validation.validate`` on the snapshot's records (real
extraction output), microseconds per record, valid and invalid; next to it,
in the same process, the reference validator ``jsonschema`` (what spidermon's
item validation runs) on the same records and the same schema.

Export: ``run_export`` of N generated records (the snapshot's, with new ids)
in two JSON Lines files to Parquet + a ``datasets`` folder: records per second
and peak RSS; next to it, each in its own process, the naive conversion
(``pyarrow.json.read_json`` + ``write_table``, types inferred per file: the
one that typed all-null columns as Null).
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BASE = "http://bench.test"


def snapshot_records() -> list[dict[str, Any]]:
    from devkit.site import snapshot_records as records

    return [dict(r, crawled_at="2024-01-01T00:00:00Z") for r in records(BASE)]


def per_record_us(check: Any, records: list[dict[str, Any]], n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        check(records[i % len(records)])
    return (time.perf_counter() - start) / n * 1e6


def bench_validation(n: int) -> None:
    import jsonschema

    from arabtoday.export.validation import validate
    from arabtoday.schema import json_schema

    valid = snapshot_records()
    invalid = [dict(r, word_count="many", lang="xx") for r in valid]
    reference = jsonschema.Draft7Validator(json_schema())
    assert all(not validate(r) for r in valid) and all(validate(r) for r in invalid)
    rows = [
        ("arabtoday.export.validation.validate", "valid", per_record_us(validate, valid, n)),
        ("arabtoday.export.validation.validate", "invalid", per_record_us(validate, invalid, n // 10)),
        ("jsonschema Draft7 iter_errors", "valid", per_record_us(lambda r: list(reference.iter_errors(r)), valid,
                                                                  n // 10)),
        ("jsonschema Draft7 iter_errors", "invalid", per_record_us(lambda r: list(reference.iter_errors(r)), invalid,
                                                                    n // 10)),
    ]
    print(f"validation of {len(valid)} snapshot records, cycled")
    for name, kind, us in rows:
        print(f"  {name:32} {kind:8} {us:8.1f} µs/record")
    print(f"  speed-up on valid records: {rows[2][2] / rows[0][2]:.1f}x")


def generate(path: Path, records: list[dict[str, Any]], start: int, n: int, null_modified: bool) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            r = dict(records[i % len(records)], id=f"en-{start + i}", lang="en")
            r["modified_at"] = None if null_modified else "2024-01-15T10:30:00Z"
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")


def child(variant: str, inputs: list[str], out: str) -> None:
    """One export in this process; prints seconds and peak RSS as JSON."""
    start = time.perf_counter()
    if variant == "run_export":
        from arabtoday.export.dataset import run_export

        status = run_export([Path(p) for p in inputs], Path(out), ["all"], stream=io.StringIO())
        assert status == 0
    else:
        import pyarrow.json as pj
        import pyarrow.parquet as pq

        for i, path in enumerate(inputs):
            pq.write_table(pj.read_json(path), Path(out) / f"naive-{i}.parquet", compression="zstd")
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def bench_export(n: int) -> None:
    records = snapshot_records()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        a, b = tmp / "a.jsonl", tmp / "b.jsonl"
        generate(a, records, 1, n // 2, null_modified=True)
        generate(b, records, n // 2 + 1, n - n // 2, null_modified=False)
        size = (a.stat().st_size + b.stat().st_size) / 2**20
        print(f"export of {n} records ({size:.0f} MiB of JSON Lines in 2 files), each run in its own process")
        for variant in ("run_export", "naive"):
            out = tmp / variant
            out.mkdir()
            done = subprocess.run([sys.executable, __file__, "--child", variant, str(out), str(a), str(b)],
                                  capture_output=True, text=True, check=True)
            result = json.loads(done.stdout.strip().splitlines()[-1])
            label = ("run_export (validate, newest per id, fixed schema, 2 outputs)" if variant == "run_export"
                     else "naive pyarrow.json + write_table (inferred types, 1 output)")
            print(f"  {label:66} {n / result['seconds']:9.0f} records/s  peak RSS {result['rss_mib']:6.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--validate", type=int, default=100_000, help="validations to time")
    parser.add_argument("--export", type=int, default=50_000, help="records to export")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        variant, out, *inputs = args.child
        child(variant, inputs, out)
        return
    bench_validation(args.validate)
    bench_export(args.export)


if __name__ == "__main__":
    main()
