"""The dataset export: Parquet and a ``datasets`` folder with one fixed schema,
read back by the libraries people load it with, two files with different null
patterns combined; bad input reported, never a crash."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest
import yaml

from arabtoday.export.dataset import DATASETS_DIR, DATASETS_SHARD, PARQUET_NAME, run_export
from arabtoday.schema import EXPORT_FIELDS, TIMESTAMP_FIELDS, arrow_schema
from devkit.site import snapshot_records

SNAPSHOT_RECORDS = [dict(r, crawled_at="2024-01-01T00:00:00Z") for r in snapshot_records("http://schema.test")]
# One record per id, as a crawl writes them (the snapshot has an article under two addresses).
UNIQUE = list({r["id"]: r for r in SNAPSHOT_RECORDS}.values())


def all_null_file() -> list[dict[str, Any]]:
    """modified_at and duplicate_of null in every record: what used to come out typed Null."""
    return [dict(r, modified_at=None, duplicate_of=None) for r in UNIQUE[:12]]


def all_set_file() -> list[dict[str, Any]]:
    return [dict(r, modified_at="2024-01-15T10:30:00Z", duplicate_of="en-1", crawled_at="2024-02-01T00:00:00Z")
            for r in UNIQUE[12:]]


def write_jsonl(path: Path, records: list[dict[str, Any]], tail: str = "") -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records) + tail, "utf-8")
    return path


def export(inputs: list[Path], out: Path, formats: list[str] | None = None) -> tuple[int, str]:
    report = io.StringIO()
    status = run_export(inputs, out, formats or ["all"], stream=report)
    return status, report.getvalue()


@pytest.fixture(scope="module")
def two_exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Each file exported on its own, as two crawls' datasets would be."""
    tmp = tmp_path_factory.mktemp("two-exports")
    a = write_jsonl(tmp / "a.jsonl", all_null_file())
    b = write_jsonl(tmp / "b.jsonl", all_set_file())
    for name, src in (("a", a), ("b", b)):
        status, report = export([src], tmp / name)
        assert status == 0, report
    return {"a": tmp / "a" / PARQUET_NAME, "b": tmp / "b" / PARQUET_NAME,
            "hf_a": tmp / "a" / DATASETS_DIR / DATASETS_SHARD, "hf_b": tmp / "b" / DATASETS_DIR / DATASETS_SHARD,
            "folder": tmp / "a" / DATASETS_DIR, "records": all_null_file() + all_set_file()}


def iso(value: Any) -> str | None:
    """A timestamp read back, as the JSON Lines wrote it."""
    if value is None or (not isinstance(value, (list, str)) and pd.isna(value)):
        return None
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def as_jsonl_record(row: dict[str, Any]) -> dict[str, Any]:
    return {name: iso(row[name]) if name in TIMESTAMP_FIELDS else row[name] for name in EXPORT_FIELDS}


def test_the_fixture_reproduces_the_null_typed_columns() -> None:
    """Inferred from the data, the all-null columns are Null: the bug the fixed schema fixes."""
    inferred = pa.Table.from_pylist(all_null_file()).schema
    assert pa.types.is_null(inferred.field("modified_at").type)
    assert pa.types.is_null(inferred.field("duplicate_of").type)
    with pytest.raises(pl.exceptions.SchemaError):
        pl.concat([pl.DataFrame(all_null_file()), pl.DataFrame(all_set_file())]).select("modified_at")


def test_every_file_has_the_fixed_schema_whatever_its_nulls(two_exports: dict[str, Any]) -> None:
    expected = arrow_schema()
    for key in ("a", "b", "hf_a", "hf_b"):
        got = pq.read_schema(two_exports[key])
        assert got.names == expected.names
        assert [f.type for f in got] == [f.type for f in expected], key


def test_pyarrow_reads_both_files_as_one_table_with_every_value(two_exports: dict[str, Any]) -> None:
    table = pads.dataset([str(two_exports["a"]), str(two_exports["b"])], format="parquet").to_table()
    rows = sorted((as_jsonl_record(r) for r in table.to_pylist()), key=lambda r: r["id"])
    assert rows == sorted(two_exports["records"], key=lambda r: r["id"])  # nothing lost or changed on the way


def test_pandas_concatenates_both_files(two_exports: dict[str, Any]) -> None:
    frames = [pd.read_parquet(two_exports["a"]), pd.read_parquet(two_exports["b"])]
    assert list(frames[0].dtypes) == list(frames[1].dtypes)
    both = pd.concat(frames, ignore_index=True)
    assert len(both) == len(two_exports["records"])
    assert str(both["modified_at"].dtype).startswith("datetime64") and "UTC" in str(both["modified_at"].dtype)
    assert both["modified_at"].notna().sum() == len(all_set_file())
    first = two_exports["records"][0]
    assert list(both.loc[both["id"] == first["id"], "tags"].iloc[0]) == first["tags"]


def test_polars_reads_and_concatenates_both_files(two_exports: dict[str, Any]) -> None:
    a, b = pl.read_parquet(two_exports["a"]), pl.read_parquet(two_exports["b"])
    assert a.schema == b.schema
    assert a.schema["modified_at"] == pl.Datetime("ms", "UTC")
    assert a.schema["duplicate_of"] == pl.String
    both = pl.concat([a, b])  # strict: fails on String vs Null
    assert both.height == len(two_exports["records"])
    assert both["duplicate_of"].null_count() == len(all_null_file())
    scanned = pl.read_parquet([str(two_exports["a"]), str(two_exports["b"])])
    assert scanned.height == both.height


def test_duckdb_queries_both_files(two_exports: dict[str, Any]) -> None:
    files = [str(two_exports["a"]), str(two_exports["b"])]
    con = duckdb.connect()
    count, modified, first = con.execute(
        "SELECT count(*), count(modified_at), min(published_at) FROM read_parquet($files)", {"files": files}).fetchone()
    assert (count, modified) == (len(two_exports["records"]), len(all_set_file()))
    assert iso(first) == min(r["published_at"] for r in two_exports["records"])
    described = {row[0]: row[1] for row in con.execute("DESCRIBE SELECT * FROM read_parquet($files)",
                                                       {"files": files}).fetchall()}
    assert described["modified_at"] == "TIMESTAMP WITH TIME ZONE"
    assert described["tags"] == "VARCHAR[]"


HF_SCRIPT = """
import json, sys
import datasets
folder, a, b = sys.argv[1:4]
ds = datasets.load_dataset(folder)
both = datasets.load_dataset("parquet", data_files=[a, b])
print(json.dumps({"splits": list(ds), "rows": ds["train"].num_rows, "features": ds["train"].features.to_dict(),
                  "both_rows": both["train"].num_rows, "both_features": both["train"].features.to_dict(),
                  "first": ds["train"][0]["id"]}))
"""


def test_datasets_loads_the_folder_and_both_files_offline(two_exports: dict[str, Any], tmp_path: Path) -> None:
    import datasets

    env = {**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"),
           "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}  # any network try fails fast
    done = subprocess.run([sys.executable, "-c", HF_SCRIPT, str(two_exports["folder"]), str(two_exports["hf_a"]),
                           str(two_exports["hf_b"])], capture_output=True, text=True, env=env, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    want = datasets.Features.from_arrow_schema(arrow_schema()).to_dict()
    assert got["splits"] == ["train"]
    assert got["rows"] == len(all_null_file())
    assert got["features"] == want == got["both_features"]
    assert got["both_rows"] == len(two_exports["records"])


def test_dataset_card_describes_the_data(two_exports: dict[str, Any]) -> None:
    text = (two_exports["folder"] / "README.md").read_text("utf-8")
    assert text.startswith("---\n")
    header = yaml.safe_load(text.split("---\n")[1])
    body = text.split("---\n", 2)[2]
    records = all_null_file()
    assert header["language"] == ["ar", "en"]
    assert header["license"] == "other"
    assert "Copyright of Arab Today" in header["license_details"]
    assert [f["name"] for f in header["dataset_info"]["features"]] == list(EXPORT_FIELDS)
    assert header["dataset_info"]["splits"][0]["num_examples"] == len(records)
    assert header["size_categories"] == ["n<1K"]
    crawl = header["crawl"]
    assert crawl["source"] == "http://schema.test"  # where the records say they came from, not the live site
    assert crawl["published_from"] == min(r["published_at"] for r in records)
    assert crawl["published_to"] == max(r["published_at"] for r in records)
    assert crawl["crawled_from"] == crawl["crawled_to"] == "2024-01-01T00:00:00Z"
    assert crawl["records_by_language"] == {lang: sum(r["lang"] == lang for r in records) for lang in ("ar", "en")}
    for section in ("## Licence", "## How it was made", "## Rows and history", "## Fields", "## Known limits"):
        assert section in body
    assert "| `extractor_version` |" in body


# -- several inputs, bad input -----------------------------------------------------------------------------------

def test_one_record_per_id_and_the_newest_crawl_wins(tmp_path: Path) -> None:
    old = dict(UNIQUE[0], title="old headline", crawled_at="2024-01-01T00:00:00Z")
    new = dict(UNIQUE[0], title="new headline", crawled_at="2024-03-01T00:00:00Z")
    a = write_jsonl(tmp_path / "a.jsonl", [new, UNIQUE[1]])
    b = write_jsonl(tmp_path / "b.jsonl", [old, UNIQUE[2]])
    status, report = export([a, b], tmp_path / "out", ["parquet"])
    assert status == 0, report
    rows = {r["id"]: r for r in pq.read_table(tmp_path / "out" / PARQUET_NAME).to_pylist()}
    assert sorted(rows) == sorted(r["id"] for r in UNIQUE[:3])
    assert rows[UNIQUE[0]["id"]]["title"] == "new headline"
    assert "4 lines -> 3 stories" in report
    assert not (tmp_path / "out" / DATASETS_DIR).exists()  # only the format asked for


def test_bad_lines_are_reported_one_line_each_and_the_rest_is_exported(tmp_path: Path) -> None:
    broken = dict(UNIQUE[3], word_count="many")
    good = write_jsonl(tmp_path / "good.jsonl", UNIQUE[:3])
    bad = write_jsonl(tmp_path / "bad.jsonl", [UNIQUE[4], broken], tail='{not json\n[1, 2]\n\n{"id": "en-9", "ti')
    status, report = export([good, bad, tmp_path / "missing.jsonl"], tmp_path / "out")
    assert status == 1
    lines = report.strip().splitlines()
    problems = [line for line in lines if not line.startswith("export:")]
    assert len(problems) == 6, report
    assert f"{bad}: line 2 ({broken['id']}): invalid: word_count: must be integer" in problems[0]
    assert problems[1].startswith(f"{bad}: line 3: not JSON")
    assert problems[2] == f"{bad}: line 4: not a JSON object"
    assert problems[3] == f"{bad}: line 5: empty line"
    assert problems[4].startswith(f"{bad}: line 6: torn last line")
    assert problems[5].startswith(f"{tmp_path / 'missing.jsonl'}: cannot read")
    ids = pq.read_table(tmp_path / "out" / PARQUET_NAME, columns=["id"]).column("id").to_pylist()
    assert sorted(ids) == sorted(r["id"] for r in [*UNIQUE[:3], UNIQUE[4]])
    assert "6 problem(s)" in lines[-1]


def test_records_from_before_a_field_existed_get_its_default(tmp_path: Path) -> None:
    older = [{k: v for k, v in r.items() if k != "extractor_version"} for r in UNIQUE[:2]]
    status, report = export([write_jsonl(tmp_path / "old.jsonl", older)], tmp_path / "out", ["parquet"])
    assert status == 0, report
    assert pq.read_table(tmp_path / "out" / PARQUET_NAME).column("extractor_version").to_pylist() == ["", ""]
    assert "2 given new fields' defaults" in report


def test_unknown_format_and_unwritable_output_have_their_statuses(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "a.jsonl", UNIQUE[:1])
    assert export([src], tmp_path / "out", ["orc"])[0] == 2
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    status, report = export([src], blocker / "out", ["parquet"])
    assert status == 4 and "cannot write" in report


def test_a_record_arrow_cannot_store_is_left_out_alone(tmp_path: Path) -> None:
    lone_surrogate = dict(UNIQUE[1], title="broken \ud800 text")  # valid JSON, valid to the schema, not UTF-8
    src = tmp_path / "a.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in [UNIQUE[0], lone_surrogate, UNIQUE[2]]), "ascii")
    status, report = export([src], tmp_path / "out", ["parquet"])
    assert status == 1
    assert f"record {UNIQUE[1]['id']}: cannot be stored in Arrow" in report
    ids = pq.read_table(tmp_path / "out" / PARQUET_NAME).column("id").to_pylist()
    assert ids == [UNIQUE[0]["id"], UNIQUE[2]["id"]]


def test_a_full_disk_is_status_4_and_leaves_no_file_that_looks_whole(tmp_path: Path, tiny_tmpfs: Path) -> None:
    many = [dict(r, id=f"en-{n}", lang="en") for n, r in enumerate(UNIQUE * 20, 1)]  # ~1.6 MB of text
    status, report = export([write_jsonl(tmp_path / "big.jsonl", many)], tiny_tmpfs / "out")
    assert status == 4, report
    assert "cannot write" in report
    assert [p.name for p in (tiny_tmpfs / "out").rglob("*") if p.is_file()] == []


def test_an_empty_input_gives_empty_typed_outputs(tmp_path: Path) -> None:
    status, _ = export([write_jsonl(tmp_path / "empty.jsonl", [])], tmp_path / "out")
    assert status == 0
    table = pq.read_table(tmp_path / "out" / PARQUET_NAME)
    assert table.num_rows == 0 and [f.type for f in table.schema] == [f.type for f in arrow_schema()]


def test_timestamps_are_utc_instants(two_exports: dict[str, Any]) -> None:
    row = pq.read_table(two_exports["b"]).slice(0, 1).to_pylist()[0]
    assert row["modified_at"] == datetime(2024, 1, 15, 10, 30, tzinfo=timezone.utc)
