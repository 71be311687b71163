"""JSON Lines crawl outputs -> a dataset with a contract (Parquet, Hugging Face folder).

``run_export(inputs, out, formats)`` reads one or more JSON Lines files written
by the crawl (several runs, several workers, in any order), resolves the log
(:mod:`arabtoday.export.resolve`: one row per story, the original's latest
revision with its copies, removals kept; ``history=True``: one row per id and
revision), and writes

* ``parquet``: ``OUT/articles.parquet``;
* ``datasets``: ``OUT/datasets/``, a folder ``datasets.load_dataset`` reads with
  the right features: ``data/train-00000-of-00001.parquet`` and a dataset card
  (``README.md``: YAML header with languages, features, size, licence, source
  and crawl dates; body: how it was made, dedup rules, known limits).

Every file is written with the fixed Arrow schema of ``arabtoday/schema.py``,
so a field that is null in every record of a file (``modified_at``,
``duplicate_of``) is still a string or timestamp column, and files exported
from different crawls combine in pyarrow, pandas, polars, duckdb and
``datasets``; inferring the schema per file typed such columns as Null and
made them refuse to combine.

Bad input never stops the export: a line that is not JSON, not an object or
not a valid line (``arabtoday.export.validation``) is left out and reported in one
line; a torn last line (a crawl still writing, or killed) is left out with a
message. Records written before a field existed get the field's schema default
(``extractor_version`` = ``""``, ``status`` = ``live``, ``revision`` = 1). Outputs are written to temporary names and
renamed when complete, so a failed export never leaves a file that looks whole.

Exit statuses (the helper command's, ``arabtoday.exitstatus.ToolStatus``): 0 everything
exported; 1 some input had problems (the rest is written, each problem
reported); 2 bad argument (unknown format); 4 the output could not be written.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from arabtoday.exitstatus import ToolStatus
from arabtoday.export.resolve import Log
from arabtoday.files import atomic_file, atomic_write_text
from arabtoday.schema import EXPORT_FIELDS, REMOVED, TIMESTAMP_FIELDS, hf_features_yaml, markdown_table
from arabtoday.site.addresses import SITE_URL
from arabtoday.version import SCHEMA_VERSION, __version__

FORMATS = ("parquet", "datasets")
PARQUET_NAME = "articles.parquet"
DATASETS_DIR = "datasets"
DATASETS_SHARD = "data/train-00000-of-00001.parquet"
BATCH_ROWS = 2000  # records converted to Arrow at once: bounds memory whatever the input size
COMPRESSION = "zstd"
LICENSE_NOTE = "Copyright of Arab Today; for research, see the site's terms"

# Hugging Face size buckets (upper bounds, exclusive), as the Hub names them.
SIZE_CATEGORIES = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
                   (10_000_000, "1M<n<10M"))


@dataclass
class Summary:
    """What the card says about the data."""

    records: int = 0
    arrow_bytes: int = 0  # the data in memory, what the Hub calls num_bytes
    langs: Counter[str] = field(default_factory=Counter)
    crawled: list[str] = field(default_factory=list)  # min, max
    published: list[str] = field(default_factory=list)
    origins: Counter[str] = field(default_factory=Counter)  # scheme://host of the records' addresses
    removed: int = 0  # rows of articles the site took down

    def add(self, record: dict[str, Any]) -> None:
        self.records += 1
        self.removed += record["status"] == REMOVED
        self.langs[record["lang"]] += 1
        parts = urlsplit(record["url"])
        self.origins[f"{parts.scheme}://{parts.netloc}"] += 1
        _widen(self.crawled, record["crawled_at"])
        _widen(self.published, record["published_at"])


def _widen(bounds: list[str], value: str) -> None:
    """ISO 8601 UTC strings of one shape sort as times do."""
    if not bounds:
        bounds.extend([value, value])
    else:
        bounds[0], bounds[1] = min(bounds[0], value), max(bounds[1], value)


def run_export(inputs: list[Path], out: Path, formats: list[str], *, history: bool = False,
               stream: TextIO | None = None) -> int:
    """Export crawl outputs to ``out`` in ``formats`` (``parquet``, ``datasets``, or ``all``); an exit status.
    One row per story (:meth:`Log.stories`), or with ``history`` one per id and revision."""
    report = stream or sys.stderr
    wanted = list(FORMATS) if "all" in formats else list(dict.fromkeys(formats))
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown or not wanted:
        report.write(f"export: unknown format {', '.join(unknown) or '(none)'}; choose from {', '.join(FORMATS)}, "
                     "all\n")
        return ToolStatus.USAGE
    log = Log(inputs).read()
    rows = log.revisions() if history else log.stories()
    try:
        summary, written = _write_outputs(rows, log, out, wanted, history)
    except OSError as exc:
        report.writelines(problem + "\n" for problem in log.problems)
        report.write(f"export: cannot write to {out}: {exc}\n")
        return ToolStatus.OUTPUT_FAILED
    report.writelines(problem + "\n" for problem in log.problems)
    report.write(f"export: {len(inputs)} file(s), {log.counts.lines} lines -> {summary.records} "
                 f"{'revisions' if history else 'stories'} ({log.folded_said()}, {summary.removed} removed, "
                 f"{log.counts.upgraded} given new fields' defaults, {len(log.problems)} problem(s)) "
                 f"-> {', '.join(str(p) for p in written)}\n")
    return ToolStatus.INPUT_FAILED if log.problems else ToolStatus.OK


def _arrow_row(record: dict[str, Any]) -> dict[str, Any]:
    row = {name: record[name] for name in EXPORT_FIELDS}
    for name in TIMESTAMP_FIELDS:
        if row[name] is not None:  # validated: ISO_UTC_PATTERN; fromisoformat is C, strptime 10x slower
            row[name] = datetime.fromisoformat(row[name].replace("Z", "+00:00"))
    return row


def _write_outputs(rows: Iterator[dict[str, Any]], log: Log, out: Path, formats: list[str],
                   history: bool) -> tuple[Summary, list[Path]]:
    """Pass 2: the rows, in batches, to every Parquet target; then the card."""
    import pyarrow.parquet as pq

    from arabtoday.schema import arrow_schema

    schema = arrow_schema()
    targets = ([out / PARQUET_NAME] if "parquet" in formats else []) + (
        [out / DATASETS_DIR / DATASETS_SHARD] if "datasets" in formats else [])
    summary = Summary()
    with contextlib.ExitStack() as files:
        sinks = [files.enter_context(atomic_file(target)) for target in targets]
        writers = [pq.ParquetWriter(sink, schema, compression=COMPRESSION) for sink in sinks]
        try:
            batch: list[dict[str, Any]] = []
            for record in rows:
                batch.append(record)
                if len(batch) >= BATCH_ROWS:
                    _write_batch(writers, batch, schema, summary, log.problems)
                    batch = []
            _write_batch(writers, batch, schema, summary, log.problems)
        finally:
            for writer in writers:
                writer.close()
    written = [out / PARQUET_NAME] if "parquet" in formats else []
    if "datasets" in formats:
        card = out / DATASETS_DIR / "README.md"
        atomic_write_text(card, dataset_card(summary, (out / DATASETS_DIR / DATASETS_SHARD).stat().st_size,
                                             log.inputs, history))
        written.append(out / DATASETS_DIR)
    return summary, written


def _write_batch(writers: list[Any], records: list[dict[str, Any]], schema: Any, summary: Summary,
                 problems: list[str]) -> None:
    """Convert a batch to Arrow and write it to every output.

    Validation already caught what the schema can say; what Arrow alone refuses
    (a lone surrogate in a string) sends the batch through row by row, so that
    only the offending record is left out, with a problem line.
    """
    import pyarrow as pa

    try:
        table = pa.Table.from_pylist([_arrow_row(r) for r in records], schema=schema)
    except (pa.ArrowException, ValueError) as exc:  # UnicodeEncodeError is a ValueError
        if len(records) == 1:
            problems.append(f"record {records[0]['id']}: cannot be stored in Arrow ({exc}), left out")
            return
        for record in records:
            _write_batch(writers, [record], schema, summary, problems)
        return
    for record in records:
        summary.add(record)
    summary.arrow_bytes += table.nbytes
    if table.num_rows:
        for writer in writers:
            writer.write_table(table)


# -- the dataset card --------------------------------------------------------------------------------------------

def size_category(n: int) -> str:
    for bound, name in SIZE_CATEGORIES:
        if n < bound:
            return name
    return "n>10M"


def source_of(summary: Summary) -> str:
    """Where the records were crawled from: the site, or the copies of it they name (never assumed)."""
    origins = sorted(summary.origins, key=lambda o: -summary.origins[o]) or [SITE_URL]
    return ", ".join(origins)


POLITENESS_SETTINGS = ("ROBOTSTXT_OBEY", "CONCURRENT_REQUESTS_PER_DOMAIN", "DOWNLOAD_DELAY", "AUTOTHROTTLE_ENABLED",
                       "USER_AGENT")


def politeness(inputs: list[Path]) -> str:
    """How politely the inputs were crawled, as the run reports beside them say (never assumed)."""
    seen: dict[str, set[str]] = {name: set() for name in POLITENESS_SETTINGS}
    reports = 0
    for path in inputs:
        try:
            settings = json.loads(path.with_name(path.name + ".report.json").read_text("utf-8")).get("settings", {})
        except (OSError, ValueError, AttributeError):
            continue
        reports += 1
        for name in POLITENESS_SETTINGS:
            if name in settings:
                seen[name].add(str(settings[name]))
    if not reports:
        return "the settings of the crawl were not kept with its output (no run report beside it)"
    said = ", ".join(f"{name}={' or '.join(sorted(values))}" for name, values in seen.items() if values)
    return f"as the run reports of {reports} of the {len(inputs)} input file(s) say: {said}"


def dataset_card(summary: Summary, shard_bytes: int, inputs: list[Path] | None = None, history: bool = False) -> str:
    """README.md of the ``datasets`` folder: the Hub's YAML header, then the prose."""
    crawled = summary.crawled or ["", ""]
    published = summary.published or ["", ""]
    header = f"""---
pretty_name: Arab Today news articles
language:
- ar
- en
multilinguality: multilingual
license: other
license_name: arab-today-copyright
license_link: {SITE_URL}
license_details: {json.dumps(LICENSE_NOTE)}
size_categories:
- {size_category(summary.records)}
source_datasets:
- original
task_categories:
- text-generation
- text-classification
tags:
- news
- arabic
configs:
- config_name: default
  data_files:
  - split: train
    path: {DATASETS_SHARD}
dataset_info:
  features:
{hf_features_yaml("  ")}
  splits:
  - name: train
    num_bytes: {summary.arrow_bytes}
    num_examples: {summary.records}
  download_size: {shard_bytes}
  dataset_size: {summary.arrow_bytes}
crawl:
  source: {json.dumps(source_of(summary))}
  schema_version: {json.dumps(SCHEMA_VERSION)}
  crawled_from: {json.dumps(crawled[0])}
  crawled_to: {json.dumps(crawled[1])}
  published_from: {json.dumps(published[0])}
  published_to: {json.dumps(published[1])}
  records_by_language:
    ar: {summary.langs.get("ar", 0)}
    en: {summary.langs.get("en", 0)}
---
"""
    return header + _card_body(summary, crawled, published, politeness(inputs or []), history)


def _source_words(summary: Summary) -> str:
    source = source_of(summary)
    return "the site itself" if source == SITE_URL else f"a copy of the site served at {source}"


def _card_body(summary: Summary, crawled: list[str], published: list[str], polite: str, history: bool) -> str:
    rows = ("one row per article and revision of its text" if history else
            "one row per story: the latest text of the original")
    return f"""
# Arab Today news articles

News articles of [Arab Today]({SITE_URL}), English (`/en/`) and Arabic
(`/ar/`) editions, crawled from {_source_words(summary)}: {summary.records} articles
({summary.langs.get("en", 0)} English, {summary.langs.get("ar", 0)} Arabic), published
{published[0] or "-"} to {published[1] or "-"}, crawled {crawled[0] or "-"} to {crawled[1] or "-"}.
Record schema version {SCHEMA_VERSION}.

## Licence

The articles are the publisher's: **{LICENSE_NOTE}.** The `license: other`
field above says exactly that; nothing here grants rights the publisher has
not. The licence of the crawler's code is separate and does not cover the data.

## How it was made

The arabtoday Scrapy crawler (version {__version__}) reads the site's
sitemaps, feeds and section listings, fetches each article page with the
politeness settings its run reports record ({polite}), extracts the
article with per-layout selectors (a metadata + trafilatura fallback when the
layout changes; the `extractor` field says which), strips boilerplate
(datelines, source lines, captions, "Read also" links, ads) and writes one JSON
Lines record per article. `arabtoday export` turned those files into
this folder: every record validated against the JSON Schema shipped with the
crawler, typed with one fixed Arrow schema.

## Rows and history

This dataset has {rows} ({summary.records} rows, {summary.removed} of them
`removed`). The crawl writes a log and never rewrites a line; `arabtoday export`
resolved it (any order of its input files gives the same rows):

* One article per id (`en-104257`), whatever address it was reached by.
* **Originals first.** Republished copies (the same text under a new id or
  headline, verbatim or near: MinHash of word 5-grams, estimated Jaccard
  similarity 0.5 or more, within an edition) belong to the story of the one
  published first (`published_at`; the lower id on a tie), whatever order the
  crawl met them in. The original's row lists them in `copies`; a copy is
  {"a row of its own, `status` `superseded`, `duplicate_of` naming the original" if history else
   "not a row of its own"}.
* **Revisions.** `revision` counts the site's edits of an article's text (1 for
  the first); `previous_hash` is the `content_hash` of the one before.
  {"Every revision is a row." if history else "A story's row is its latest revision."}
  An upgrade of the extractor is not a revision.
* **Removals.** An article the site took down (its address answers 404 or 410,
  or it left every sitemap and its address no longer serves it) keeps its last
  text, with `status` `removed`, `removed_at` and `removed_reason`.

## Fields

{markdown_table()}
Timestamps are UTC (Arrow `timestamp[ms, tz=UTC]`; the crawl records whole
seconds). Text is Unicode NFC with whitespace folded; Arabic letters,
diacritics and digits are as the site wrote them.

## Known limits

* `author` is only known when a dateline names a reporter; agency copy has none.
* `modified_at` is only set when the page's metadata gives an edit time.
* `section` and `tags` are the site's own labels, not a curated taxonomy.
* Near-duplicate detection is by text similarity within an edition; a story
  translated between the editions is two articles.
* Extraction is heuristic: a redesign of the site may leave some chrome in
  `body` (records made by the `fallback` extractor deserve a look).
* `extractor_version` is empty in records crawled before it was recorded.
"""
