"""Crash recovery: records that reached an output file but not the state are committed at start.

Crash safety is a two-phase scheme: (1) the exporter writes a record and,
every few records, fsyncs the file; (2) only then are those records committed
here as emitted, with the file's new committed offset. On start-up,
:func:`recover` reads every journalled output past its committed offset:
whole records there are durable, so they are committed now; a torn last line
(the process died mid-write) is cut off. Whatever the moment of a kill, every
record in the outputs is in the state exactly once and no file ends torn.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from arabtoday.schema import LIVE, LIVE_ORIGIN
from arabtoday.state.store import Emitted, StateStore

logger = logging.getLogger(__name__)


def recover(store: StateStore) -> int:
    """Commit records that reached an output file but not the state; cut torn tails."""
    recovered = 0
    for path_str, offset, writer in store.outputs():
        path = Path(path_str)
        if not path.exists() or (writer != os.getpid() and _alive(writer)):
            continue  # gone, or still being written by a live crawl (another worker on this host)
        size = path.stat().st_size
        if size <= offset:
            continue
        with path.open("rb+") as fh:
            fh.seek(offset)
            tail = fh.read()
            end = tail.rfind(b"\n") + 1
            if end < len(tail):
                logger.warning("%s: cutting a torn last line (%d bytes) left by an interrupted run", path,
                               len(tail) - end)
                fh.truncate(offset + end)
                fh.flush()
                os.fsync(fh.fileno())
        records = []
        for line in tail[:end].splitlines():
            try:
                data = json.loads(line)
            except ValueError:
                logger.warning("%s: skipping an invalid line during recovery", path)
                continue
            if isinstance(data, dict) and data.get("id"):
                records.append(emitted_from_record(data))
                if data.get("status", LIVE) == LIVE and not data.get("duplicate_of") and data.get("body"):
                    fp = store.fingerprinter.fingerprint(data.get("lang", ""), data.get("body", ""),
                                                         data.get("content_hash", ""))
                    store.claim_index(data["id"], fp, data.get("published_at"))
        store.commit_emitted(records, path_str, offset + end)
        recovered += len(records)
        logger.warning("%s: recovered %d record(s) written by an interrupted run", path, len(records))
    return recovered


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def emitted_from_record(record: dict[str, Any], lastmod: str | None = None) -> Emitted:
    """What the state keeps of a line of the dataset (an article's record or an event line)."""
    return Emitted(record["id"], record.get("lang", ""), record.get("content_hash"),
                   lastmod if lastmod is not None else record.get("lastmod"), record.get("duplicate_of"),
                   record.get("crawled_at"), record.get("extractor_version"), record.get("status", LIVE),
                   int(record.get("revision") or 1), record.get("url"), record.get("published_at"),
                   record.get("removed_at"), record.get("origin") or LIVE_ORIGIN)
