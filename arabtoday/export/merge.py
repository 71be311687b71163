"""``arabtoday merge``: JSON Lines outputs (workers, runs) into one file, one record per article.

A repair tool: it keeps any line with an ``id`` (``arabtoday export`` is the
one that validates every record against the schema).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from arabtoday.exitstatus import ToolStatus
from arabtoday.export.exporters import encode_record
from arabtoday.files import atomic_file


def _json_lines(path: Path) -> tuple[list[bytes], list[str]]:
    """The lines of one output file, and what is wrong with it (a whole-file problem is one line)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return [], [f"{path}: cannot read: {exc.strerror or exc}"]
    if data.lstrip()[:1] == b"[":
        return [], [f"{path}: is a JSON array, not JSON Lines (one record a line): left out"]
    problems = []
    if data and not data.endswith(b"\n"):
        problems.append(f"{path}: last line is torn (an interrupted run): left out")
        data = data[: data.rfind(b"\n") + 1]
    return data.splitlines(), problems


def merge_command(output: Path, inputs: list[Path]) -> int:
    """Merge output files (workers, runs) into one: one record per id, the newest
    ``crawled_at`` winning (an update replaces the version it updates). The
    output's directory is created when missing, as ``scrapy crawl -O`` does.
    The exit status: 0, 1 when some input had problems, 4 when ``output`` cannot be written."""
    latest: dict[str, dict] = {}
    read = invalid = 0
    for path in inputs:
        lines, problems = _json_lines(path)
        for problem in problems:
            print(f"merge: {problem}", file=sys.stderr)
        invalid += len(problems)
        for n, line in enumerate(lines, 1):
            try:
                record = json.loads(line)
                article_id = record["id"]
            except (ValueError, KeyError, TypeError):
                print(f"merge: {path}:{n}: not a record: left out", file=sys.stderr)
                invalid += 1
                continue
            read += 1
            if article_id not in latest or record.get("crawled_at", "") >= latest[article_id].get("crawled_at", ""):
                latest[article_id] = record
    try:
        with atomic_file(output) as out:
            for record in sorted(latest.values(), key=lambda r: r["id"]):
                out.write(encode_record(record))
    except OSError as exc:
        print(f"merge: cannot write {output}: {exc.strerror or exc}", file=sys.stderr)
        return ToolStatus.OUTPUT_FAILED
    print(f"merge: {len(inputs)} file(s), {read} record(s), {len(latest)} article(s) written to {output}"
          f" ({read - len(latest)} older version(s) replaced, {invalid} problem(s))", file=sys.stderr)
    return ToolStatus.INPUT_FAILED if invalid else ToolStatus.OK
