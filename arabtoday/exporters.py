"""Feed exporters: JSON Lines that survive a crash.

``DurableJsonLinesExporter`` is registered for the ``jsonl``/``jsonlines``
formats, so ``FEEDS`` and ``-O file.jsonl`` both use it. Each record is
encoded in full and written with a single ``write`` and a flush, so a process
killed at any moment leaves whole lines only; the file is fsynced every
``ARABTODAY_FSYNC_EVERY`` records and when the feed closes. After each fsync
the exporter tells listeners (the incremental state) which records are now
durable: a record is never marked as emitted before it is on disk.
"""

from __future__ import annotations

import json
import os
from typing import IO, Any

from itemadapter import ItemAdapter
from scrapy.exporters import BaseItemExporter

from arabtoday.items import EXPORT_FIELDS
from arabtoday.stats import OUTPUT_OPENED, RECORDS_DURABLE

DEFAULT_FSYNC_EVERY = 200


def encode_record(item: Any, fields: tuple[str, ...] = EXPORT_FIELDS) -> bytes:
    """One JSON Lines record: UTF-8, Arabic as written (no ``\\u`` escapes)."""
    adapter = ItemAdapter(item)
    present = set(adapter.field_names()) | set(adapter.keys())
    record = {name: adapter.get(name) for name in fields if name in present}
    return (json.dumps(record, ensure_ascii=False, separators=(", ", ": ")) + "\n").encode("utf-8")


class DurableJsonLinesExporter(BaseItemExporter):
    def __init__(self, file: IO[bytes], *, fsync_every: int = DEFAULT_FSYNC_EVERY, crawler: Any = None,
                 **kwargs: Any) -> None:
        if not kwargs.get("fields_to_export"):
            kwargs["fields_to_export"] = list(EXPORT_FIELDS)
        kwargs.pop("encoding", None)  # always UTF-8: the SPEC says so
        kwargs.pop("indent", None)
        super().__init__(dont_fail=True, **kwargs)
        self.file = file
        self.fsync_every = max(1, fsync_every)
        self.crawler = crawler
        self.pending: list[dict[str, Any]] = []
        self.path = getattr(file, "name", None)

    @classmethod
    def from_crawler(cls, crawler: Any, file: IO[bytes], **kwargs: Any) -> DurableJsonLinesExporter:
        kwargs.setdefault("fsync_every", crawler.settings.getint("ARABTODAY_FSYNC_EVERY", DEFAULT_FSYNC_EVERY))
        return cls(file, crawler=crawler, **kwargs)

    def start_exporting(self) -> None:
        if self.path and self.crawler is not None:
            self.file.flush()
            self.crawler.signals.send_catch_log(signal=OUTPUT_OPENED, path=str(self.path), offset=self.file.tell())

    def export_item(self, item: Any) -> None:
        line = encode_record(item, tuple(self.fields_to_export or EXPORT_FIELDS))
        self.file.write(line)
        self.file.flush()
        self.pending.append(item)
        if len(self.pending) >= self.fsync_every:
            self.sync()

    def sync(self) -> None:
        """Make everything written so far durable, then announce it."""
        self.file.flush()
        try:
            os.fsync(self.file.fileno())
        except (OSError, ValueError, AttributeError):
            return  # stdout, pipes: nothing to fsync, and no state to advance either
        done, self.pending = self.pending, []
        if done and self.path and self.crawler is not None:
            self.crawler.signals.send_catch_log(signal=RECORDS_DURABLE, records=done, path=str(self.path),
                                                offset=self.file.tell())

    def finish_exporting(self) -> None:
        self.sync()
