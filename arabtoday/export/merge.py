"""``arabtoday merge``: JSON Lines outputs (workers, runs) into one JSON Lines file, the log resolved.

The same rows as ``arabtoday export`` (:mod:`arabtoday.export.resolve`): one per
story, or with ``--history`` one per id and revision; in any order of the
inputs, the same file. A repair tool: it keeps any line with an ``id``
(``arabtoday export`` is the one that validates every line against the schema).
"""

from __future__ import annotations

import sys
from pathlib import Path

from arabtoday.exitstatus import ToolStatus
from arabtoday.export.exporters import encode_record
from arabtoday.export.resolve import Log
from arabtoday.files import atomic_file


def merge_command(output: Path, inputs: list[Path], *, history: bool = False) -> int:
    """Merge output files into one. The output's directory is created when missing, as
    ``scrapy crawl -O`` does. The exit status: 0, 1 when some input had problems, 4 when
    ``output`` cannot be written."""
    log = Log(inputs, strict=False).read()
    written = 0
    try:
        with atomic_file(output) as out:
            for row in log.revisions() if history else log.stories():
                out.write(encode_record(row))
                written += 1
    except OSError as exc:
        print(f"merge: cannot write {output}: {exc.strerror or exc}", file=sys.stderr)
        return ToolStatus.OUTPUT_FAILED
    for problem in log.problems:
        print(f"merge: {problem}", file=sys.stderr)
    print(f"merge: {len(inputs)} file(s), {log.counts.lines} line(s), {written} "
          f"{'revision' if history else 'story'} row(s) written to {output} ({log.folded_said()}, "
          f"{len(log.problems)} problem(s))", file=sys.stderr)
    return ToolStatus.INPUT_FAILED if log.problems else ToolStatus.OK
