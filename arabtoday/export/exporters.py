"""Feed exporters that survive a crash and tell the state what is on disk.

Every feed format the project registers (``FEED_EXPORTERS`` in
``arabtoday/settings.py``) writes the record's ``EXPORT_FIELDS`` only, and
announces the records it has made durable, so that the incremental state
advances the same way whatever the format:

============================  =================================  ==========================
format                        records announced                  ``path``, ``offset``
============================  =================================  ==========================
``jsonl``/``jsonlines``/      every ``ARABTODAY_FSYNC_EVERY``    the file, the byte offset
``jl`` to a regular file      records, after the fsync, and at   up to which whole records
                              close                              are committed
``jsonl`` to stdout or a      after each record's flush (there   ``None``, ``None``
pipe (``-o -:jsonl``)         is nothing to fsync)
``csv`` (a line format)       like JSON Lines (fsync every N,    ``None``, ``None``
                              or each flush on a pipe)
``json``, ``xml`` (whole      once, when the document is closed  ``None``, ``None``
documents)                    and fsynced
============================  =================================  ==========================

Signals (``arabtoday/signals.py``), the contract with the state:

* ``OUTPUT_OPENED(path: str, offset: int)``: only for JSON Lines written to a
  regular file the exporter can name. ``offset`` is where this run's records
  start. The state journals the file; on start-up, recovery reads it past its
  committed offset (JSON Lines only: that is why no other format is journalled).
* ``RECORDS_DURABLE(records: list[Receipt], path: str | None, offset: int | None)``:
  these records are on disk (or, for a stream, handed to the reader): mark
  them emitted. With a ``path``, also commit the journal up to ``offset``. With
  ``path=None`` there is no journal: records written after the last
  announcement and lost to a crash are simply emitted again by the next run.

A record is encoded in full before its single ``write`` (JSON Lines, CSV) and
flushed, so a process killed at any moment leaves whole lines only. The
exporter never asks a stream for what it cannot give: ``tell()`` and
``fsync()`` are used only on regular files.

A write or fsync error (disk full, read-only file, closed stream) is logged
once as an ERROR naming the output, counted once as ``arabtoday/errors/output``
(and marked as exit status 4, ``arabtoday.exitstatus.mark``), and the run is
closed (reason ``output_error``); nothing is raised (Scrapy calls exporters from
a signal handler that would only log a traceback per record). The exporter
then refuses further records and drops what the file buffered, and nothing
past the last announcement is announced, so what the state counts as emitted
stays whole on disk.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import stat
from dataclasses import dataclass
from typing import IO, Any

from itemadapter import ItemAdapter
from scrapy.exporters import BaseItemExporter, CsvItemExporter, JsonItemExporter, XmlItemExporter

from arabtoday.exitstatus import ExitStatus, mark
from arabtoday.items import EXPORT_FIELDS
from arabtoday.run.stopping import stop_run
from arabtoday.schema import LIVE, LIVE_ORIGIN
from arabtoday.signals import OUTPUT_OPENED, RECORDS_DURABLE
from arabtoday.stats import Stat

logger = logging.getLogger(__name__)

DEFAULT_FSYNC_EVERY = 200
OUTPUT_ERROR = "output_error"  # the run's close reason when an output cannot be written
# What a stream raises when it cannot do something (no fileno, not seekable) or is closed.
_STREAM_ERRORS = (OSError, ValueError, AttributeError, io.UnsupportedOperation)


class OutputError(OSError):
    """The output could not be written: the crawl must stop counting records as emitted."""

    def __init__(self, target: str, cause: BaseException) -> None:
        super().__init__(f"cannot write {target}: {cause}")
        self.target = target
        self.cause = cause


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the state needs of a line written (an article's record or a line of history): the same
    attribute names as the items, without the text, so that a whole-document export can hold a run's
    worth of them."""

    id: str
    lang: str
    content_hash: str | None
    crawled_at: str | None
    lastmod: str | None = None
    duplicate_of: str | None = None
    extractor_version: str | None = None
    requested_id: str | None = None
    change: str = "new"
    status: str = LIVE
    revision: int = 1
    url: str | None = None
    published_at: str | None = None
    removed_at: str | None = None
    origin: str = LIVE_ORIGIN  # live, or the archive a backfill read the page from

    @classmethod
    def of(cls, item: Any) -> Receipt:
        get = ItemAdapter(item).get
        internal = {name: getattr(item, name) for name in ("lastmod", "requested_id", "change")
                    if hasattr(item, name)}
        return cls(id=get("id"), lang=get("lang"), content_hash=get("content_hash"), crawled_at=get("crawled_at"),
                   duplicate_of=get("duplicate_of"), extractor_version=get("extractor_version"),
                   status=get("status") or LIVE, revision=int(get("revision") or 1), url=get("url"),
                   published_at=get("published_at"), removed_at=get("removed_at"),
                   origin=get("origin") or LIVE_ORIGIN, **internal)


def schema_columns(kwargs: dict[str, Any]) -> dict[str, Any]:
    """A column format's exporter options: the schema's fields unless the feed names others, UTF-8."""
    return {**kwargs, "fields_to_export": kwargs.get("fields_to_export") or list(EXPORT_FIELDS), "encoding": "utf-8"}


def lines_of(item: Any) -> list[Any]:
    """What one item puts in the output: its record, then the lines of history it carries."""
    return [item, *getattr(item, "events", ())]


def receipts_of(item: Any) -> list[Receipt]:
    """What the state is told of the lines one item put in the output (``RECORDS_DURABLE``)."""
    return [Receipt.of(line) for line in lines_of(item)]


@dataclass(frozen=True, slots=True)
class Target:
    """What kind of thing the exporter writes to, decided once when it starts."""

    name: str  # for messages: the path, or "<stdout>"
    path: str | None  # absolute path of a regular file known by its name: can be journalled
    regular: bool  # a regular file: fsync and tell() work

    @classmethod
    def of(cls, file: Any) -> Target:
        name = getattr(file, "name", None)
        label = str(name) if name is not None else type(file).__name__
        try:
            st = os.fstat(file.fileno())
        except _STREAM_ERRORS:
            return cls(label, None, False)  # BytesIO and other in-memory streams
        if not stat.S_ISREG(st.st_mode):
            return cls(label, None, False)  # pipe, terminal, /dev/null, /dev/full
        return cls(label, _named_path(name, st), True)


def _named_path(name: Any, st: os.stat_result) -> str | None:
    """The file's path when its name really is this file ("<stdout>" redirected to a file is not)."""
    if not isinstance(name, str):
        return None
    try:
        on_disk = os.stat(name)
    except OSError:
        return None
    return os.path.abspath(name) if (on_disk.st_dev, on_disk.st_ino) == (st.st_dev, st.st_ino) else None


def encode_record(item: Any, fields: tuple[str, ...] = EXPORT_FIELDS) -> bytes:
    """One JSON Lines record: UTF-8, Arabic as written (no ``\\u`` escapes)."""
    adapter = ItemAdapter(item)
    present = set(adapter.field_names()) | set(adapter.keys())
    record = {name: adapter.get(name) for name in fields if name in present}
    return (json.dumps(record, ensure_ascii=False, separators=(", ", ": ")) + "\n").encode("utf-8")


class DurableMixin:
    """Durability and announcements, shared by every format.

    Scrapy builds every exporter with :meth:`from_crawler`: the fsync cadence comes from
    ``ARABTODAY_FSYNC_EVERY`` unless the feed's options give one.

    ``whole_document``: records become valid output only when the document is
    closed (JSON array, XML), so they are announced then. ``journal``: the format
    can be replayed by recovery (JSON Lines), so its file is announced with
    ``OUTPUT_OPENED`` and every announcement carries the committed offset.
    """

    @classmethod
    def from_crawler(cls, crawler: Any, file: IO[bytes], **kwargs: Any) -> Any:
        return cls(file, crawler=crawler, fsync_every=_fsync_every(crawler, kwargs), **kwargs)  # type: ignore[call-arg]

    whole_document = False
    journal = False
    file: IO[bytes]

    def _init_durable(self, file: IO[bytes], crawler: Any, fsync_every: int) -> None:
        self.file = file
        self.crawler = crawler
        self.fsync_every = max(1, fsync_every)
        self.target = Target.of(file)
        self.pending: list[Receipt] = []
        self.failed: BaseException | None = None
        self.offset: int | None = None  # bytes of whole records in the file (journalled files only)

    @property
    def journal_path(self) -> str | None:
        return self.target.path if self.journal else None

    def _open_journal(self) -> None:
        if self.journal_path is None:
            return
        self._guard(self.file.flush)
        self.offset = self._guard(self.file.tell)
        self._send(OUTPUT_OPENED, path=self.journal_path, offset=self.offset)

    def _guard(self, operation: Any, *args: Any) -> Any:
        """Run one I/O operation. The first error is logged once (ERROR), counted, marks exit status 4,
        and stops the run; from then on this output takes nothing more and announces nothing.
        Nothing is raised: Scrapy runs exporters from a signal handler that would only log a
        traceback per record, and the records after the failure must not look written."""
        if self.failed is not None:
            return None
        try:
            return operation(*args)
        except _STREAM_ERRORS as exc:
            self._output_failed(exc)
            return None

    def _output_failed(self, exc: BaseException) -> None:
        self.failed = exc
        logger.error("Output %s cannot be written (%s): the run stops; records from here on are not emitted",
                     self.target.name, exc)
        with contextlib.suppress(*_STREAM_ERRORS):
            self.file.close()  # drop what is buffered, so closing the feed later cannot fail again
        crawler = self.crawler
        if crawler is not None and getattr(crawler, "stats", None) is not None:
            crawler.stats.inc_value(Stat.OUTPUT_ERROR)
            mark(crawler.stats, ExitStatus.WRITE_FAILED)
        if crawler is not None:
            stop_run(crawler, OUTPUT_ERROR)

    def _wrote(self, item: Any, size: int) -> None:
        """A record (and the lines it carries) is written and flushed: count it and announce when due."""
        if self.failed is not None:
            return
        self.pending.extend(receipts_of(item))
        if self.offset is not None:
            self.offset += size
        if self.whole_document:
            return
        if not self.target.regular or len(self.pending) >= self.fsync_every:
            self.sync()

    def sync(self) -> None:
        """Make everything written so far durable, then announce it."""
        self._guard(self.file.flush)
        if self.target.regular and self.failed is None:
            self._guard(os.fsync, self.file.fileno())
        if self.failed is not None:
            return  # nothing past the last announcement is announced
        done, self.pending = self.pending, []
        if done:
            self._send(RECORDS_DURABLE, records=done, path=self.journal_path,
                       offset=self.offset if self.journal_path else None)

    def _send(self, signal: object, **kwargs: Any) -> None:
        if self.crawler is not None:
            self.crawler.signals.send_catch_log(signal=signal, **kwargs)


def _fsync_every(crawler: Any, kwargs: dict[str, Any]) -> int:
    return kwargs.pop("fsync_every", None) or crawler.settings.getint("ARABTODAY_FSYNC_EVERY", DEFAULT_FSYNC_EVERY)


class DurableJsonLinesExporter(DurableMixin, BaseItemExporter):
    """JSON Lines, journalled: the format crash recovery can replay."""

    journal = True

    def __init__(self, file: IO[bytes], *, fsync_every: int = DEFAULT_FSYNC_EVERY, crawler: Any = None,
                 **kwargs: Any) -> None:
        if not kwargs.get("fields_to_export"):
            kwargs["fields_to_export"] = list(EXPORT_FIELDS)
        kwargs.pop("encoding", None)  # always UTF-8: the SPEC says so
        kwargs.pop("indent", None)
        super().__init__(dont_fail=True, **kwargs)
        self._init_durable(file, crawler, fsync_every)

    def start_exporting(self) -> None:
        self._open_journal()

    def export_item(self, item: Any) -> None:
        fields = tuple(self.fields_to_export or EXPORT_FIELDS)
        data = b"".join(encode_record(line, fields) for line in lines_of(item))  # one write: whole lines only
        self._guard(self.file.write, data)
        self._guard(self.file.flush)
        self._wrote(item, len(data))

    def finish_exporting(self) -> None:
        if self.failed is None:
            self.sync()


def _json_list(value: Any) -> Any:
    """CSV cells hold text: a list becomes its JSON (``["a", "b"]``), not ``a,b``."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (list, tuple)) else value


class DurableCsvExporter(DurableMixin, CsvItemExporter):
    """CSV with the schema's columns; lists JSON-encoded; one write per row."""

    def __init__(self, file: IO[bytes], *, fsync_every: int = DEFAULT_FSYNC_EVERY, crawler: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(file, **schema_columns(kwargs))
        self._init_durable(file, crawler, fsync_every)

    def serialize_field(self, field: Any, name: str, value: Any) -> Any:
        return field.get("serializer", _json_list)(value)

    def export_item(self, item: Any) -> None:
        for line in lines_of(item):
            self._guard(super().export_item, line)  # csv.writer hands the whole row to one write
        self._guard(self.file.flush)
        self._wrote(item, 0)

    def finish_exporting(self) -> None:
        if self.failed is None:
            self._guard(self.stream.flush)
            self.sync()
        self.stream.detach()  # leave the file to Scrapy's storage, which closes it


class _DocumentMixin(DurableMixin):
    """Whole documents: valid only once closed, so announced only then."""

    whole_document = True

    def _finish_document(self, close: Any) -> None:
        if self.failed is None:
            self._guard(close)
            self.sync()


class DurableJsonExporter(_DocumentMixin, JsonItemExporter):
    """A JSON array of records, announced when the closing ``]`` is on disk."""

    def __init__(self, file: IO[bytes], *, fsync_every: int = DEFAULT_FSYNC_EVERY, crawler: Any = None,
                 **kwargs: Any) -> None:
        if not kwargs.get("fields_to_export"):
            kwargs["fields_to_export"] = list(EXPORT_FIELDS)
        kwargs["encoding"] = "utf-8"  # Arabic as written, like the JSON Lines
        super().__init__(file, **kwargs)
        self._init_durable(file, crawler, fsync_every)

    def start_exporting(self) -> None:
        self._guard(super().start_exporting)

    def export_item(self, item: Any) -> None:
        for line in lines_of(item):
            data = self.encoder.encode(dict(self.get_serialized_fields(line))).encode("utf-8")
            separator = b"" if self.first_item else b",\n"
            self.first_item = False
            self._guard(self.file.write, separator + data)
        self._wrote(item, 0)

    def finish_exporting(self) -> None:
        self._finish_document(super().finish_exporting)


class DurableXmlExporter(_DocumentMixin, XmlItemExporter):
    """XML (``<items><item>…``), announced when ``</items>`` is on disk."""

    def __init__(self, file: IO[bytes], *, fsync_every: int = DEFAULT_FSYNC_EVERY, crawler: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(file, **schema_columns(kwargs))
        self._init_durable(file, crawler, fsync_every)

    def start_exporting(self) -> None:
        self._guard(super().start_exporting)

    def export_item(self, item: Any) -> None:
        for line in lines_of(item):
            self._guard(super().export_item, line)
        self._wrote(item, 0)

    def finish_exporting(self) -> None:
        if self.failed is None:
            self._finish_document(super().finish_exporting)
        else:
            self.stream.detach()
