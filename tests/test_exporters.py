"""Feed exporters: every format keeps the record's columns and tells the state,
through ``RECORDS_DURABLE``, exactly which records are on disk and when.

Unit tests drive the exporters with real files, pipes, ``/dev/full`` and a tiny
tmpfs, and a real Scrapy ``SignalManager``; end-to-end tests crawl the
snapshot with ``scrapy crawl`` in every format and record the signals the
crawl really sends (``SignalRecorder``, loaded into the crawl as an extension).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import subprocess
import threading
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from scrapy.settings import Settings
from scrapy.signalmanager import SignalManager
from scrapy.statscollectors import MemoryStatsCollector

from arabtoday import settings as project_settings
from arabtoday.cleaning.record import clean
from arabtoday.export.exporters import (
    DurableCsvExporter,
    DurableJsonExporter,
    DurableJsonLinesExporter,
    DurableXmlExporter,
)
from arabtoday.extraction import parse_page
from arabtoday.items import EXPORT_FIELDS, Article
from arabtoday.signals import OUTPUT_OPENED, RECORDS_DURABLE
from conftest import FAST, ROOT, Server, expected_records, read_jsonl
from devkit.launch import crawl_command, crawl_in_process
from devkit.site import article_pages, page_html, served_url

BASE = "http://exporters.test"


# -- helpers -----------------------------------------------------------------------------------------------------

class FakeCrawler:
    """Just what an exporter reads from a crawler: real settings, signal manager and stats."""

    def __init__(self, **settings: Any) -> None:
        self.settings = Settings(settings)
        self.signals = SignalManager()
        self.stats = MemoryStatsCollector(self)
        self.durable: list[dict[str, Any]] = []
        self.opened: list[dict[str, Any]] = []
        self.signals.connect(self._durable, signal=RECORDS_DURABLE)
        self.signals.connect(self._opened, signal=OUTPUT_OPENED)
        self.on_durable: Any = None
        self.engine = None  # never started: nothing to stop

    def _durable(self, records: list[Any], path: str | None, offset: int | None) -> None:
        self.durable.append({"ids": [r.id for r in records], "path": path, "offset": offset})
        if self.on_durable:
            self.on_durable(path, offset)

    def _opened(self, path: str, offset: int) -> None:
        self.opened.append({"path": path, "offset": offset})

    @property
    def announced(self) -> list[str]:
        return [i for batch in self.durable for i in batch["ids"]]


def snapshot_articles() -> list[Article]:
    """Real records: snapshot pages through the extraction and cleaning code."""
    articles = []
    for path in article_pages():
        article = clean(parse_page(page_html(path, BASE), served_url(path, BASE)))
        article.lastmod = "2017-10-01T00:00:00Z"  # internal attributes that must never be exported
        article.change = "updated"
        articles.append(article)
    return articles


ARTICLES = snapshot_articles()


def export(exporter: Any, items: list[Any]) -> None:
    exporter.start_exporting()
    for item in items:
        exporter.export_item(item)
    exporter.finish_exporting()


# -- line formats ------------------------------------------------------------------------------------------------

def test_jsonl_file_announces_after_each_fsync_with_the_committed_offset(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_bytes(b'{"id": "en-1"}\n')  # an earlier run's record: this run starts after it
    crawler = FakeCrawler()
    sizes: list[int] = []
    crawler.on_durable = lambda p, offset: sizes.append(path.stat().st_size)
    with path.open("ab") as fh:
        export(DurableJsonLinesExporter(fh, crawler=crawler, fsync_every=3), ARTICLES[:7])
    start = len(b'{"id": "en-1"}\n')
    assert crawler.opened == [{"path": str(path), "offset": start}]
    assert [len(b["ids"]) for b in crawler.durable] == [3, 3, 1]
    assert crawler.announced == [a.id for a in ARTICLES[:7]]
    data = path.read_bytes()
    for batch, size in zip(crawler.durable, sizes, strict=True):
        assert batch["path"] == str(path)
        assert batch["offset"] == size  # everything written so far is committed, nothing more
        committed = data[start:batch["offset"]]
        assert committed.endswith(b"\n")
        assert [json.loads(line)["id"] for line in committed.splitlines()][-len(batch["ids"]):] == batch["ids"]
    records = read_jsonl(path)[1:]
    assert all(list(r) == list(EXPORT_FIELDS) for r in records)  # the schema's columns, in order; no lastmod
    assert records[0]["title"] == ARTICLES[0].title


def test_jsonl_to_a_pipe_announces_each_record_without_seeking() -> None:
    read_fd, write_fd = os.pipe()
    received = bytearray()
    reader = threading.Thread(target=lambda: received.extend(_read_all(read_fd)))
    reader.start()
    crawler = FakeCrawler()
    with open(write_fd, "wb") as pipe:
        export(DurableJsonLinesExporter(pipe, crawler=crawler, fsync_every=200), ARTICLES[:5])
    reader.join(timeout=10)
    assert crawler.opened == []  # a pipe has no journal
    assert crawler.durable == [{"ids": [a.id], "path": None, "offset": None} for a in ARTICLES[:5]]
    assert [json.loads(line)["id"] for line in received.decode("utf-8").splitlines()] == crawler.announced


def _read_all(fd: int) -> bytes:
    with open(fd, "rb") as fh:
        return fh.read()


def test_jsonl_to_an_in_memory_stream_never_calls_tell_or_fsync() -> None:
    class NoSeek(io.BytesIO):
        def tell(self) -> int:
            raise OSError(29, "Illegal seek")

        def seekable(self) -> bool:
            return False

    crawler = FakeCrawler()
    stream = NoSeek()
    export(DurableJsonLinesExporter(stream, crawler=crawler), ARTICLES[:3])
    assert crawler.announced == [a.id for a in ARTICLES[:3]]
    assert len(stream.getvalue().splitlines()) == 3


def test_csv_has_the_schema_columns_and_json_encoded_lists(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    crawler = FakeCrawler()
    sample = sorted(ARTICLES, key=lambda a: -len(a.tags))[:6]  # lists of several tags, one and none
    with path.open("wb") as fh:
        export(DurableCsvExporter(fh, crawler=crawler, fsync_every=4, fields_to_export=list(EXPORT_FIELDS)), sample)
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    with path.open(encoding="utf-8", newline="") as fh:
        assert next(csv.reader(fh)) == list(EXPORT_FIELDS)
    assert [json.loads(r["tags"]) for r in rows] == [a.tags for a in sample]
    assert max(len(a.tags) for a in sample) > 1, "the sample should have multi-tag records"
    assert [r["body"] for r in rows] == [a.body for a in sample]  # blank lines inside bodies survive
    assert [len(b["ids"]) for b in crawler.durable] == [4, 2]
    assert {b["path"] for b in crawler.durable} == {None}  # CSV is not journalled: recovery reads JSON Lines
    assert crawler.opened == []


# -- whole documents ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("exporter_class", "parse"), [
    (DurableJsonExporter, lambda data: [r["id"] for r in json.loads(data)]),
    (DurableXmlExporter, lambda data: [e.findtext("id") for e in ET.fromstring(data)]),
], ids=["json", "xml"])
def test_whole_documents_are_announced_once_closed_and_whole_on_disk(
        tmp_path: Path, exporter_class: type, parse: Any) -> None:
    path = tmp_path / "out.doc"
    crawler = FakeCrawler()
    on_disk: list[list[str]] = []
    crawler.on_durable = lambda p, o: on_disk.append(parse(path.read_bytes()))  # must parse when announced
    with path.open("wb") as fh:
        exporter = exporter_class(fh, crawler=crawler, fsync_every=2, fields_to_export=list(EXPORT_FIELDS))
        exporter.start_exporting()
        for article in ARTICLES[:5]:
            exporter.export_item(article)
        assert crawler.durable == []  # an unclosed document is not output yet
        exporter.finish_exporting()
    ids = [a.id for a in ARTICLES[:5]]
    assert crawler.durable == [{"ids": ids, "path": None, "offset": None}]
    assert on_disk == [ids]


def test_json_keeps_lists_and_arabic_and_only_the_schema_fields(tmp_path: Path) -> None:
    path = tmp_path / "out.json"
    with path.open("wb") as fh:
        export(DurableJsonExporter(fh, crawler=FakeCrawler(), fields_to_export=list(EXPORT_FIELDS)), ARTICLES)
    records = json.loads(path.read_text("utf-8"))
    assert [list(r) for r in records] == [list(EXPORT_FIELDS)] * len(ARTICLES)
    assert [r["tags"] for r in records] == [a.tags for a in ARTICLES]
    arabic = next(a for a in ARTICLES if a.lang == "ar")
    assert arabic.title in path.read_text("utf-8")  # written as is, not \u escapes


# -- write errors ------------------------------------------------------------------------------------------------

def test_dev_full_is_logged_once_counted_and_stops_the_output(caplog: pytest.LogCaptureFixture) -> None:
    """No exception escapes (Scrapy would only log a traceback per record from its signal handler):
    one ERROR line, the cause of exit status 4, and nothing written or announced after it."""
    crawler = FakeCrawler()
    with open("/dev/full", "wb") as fh, caplog.at_level(logging.ERROR, logger="arabtoday.export.exporters"):
        exporter = DurableJsonLinesExporter(fh, crawler=crawler)
        exporter.start_exporting()
        exporter.export_item(ARTICLES[0])
        assert isinstance(exporter.failed, OSError)
        exporter.export_item(ARTICLES[1])  # refused, not written again
        exporter.finish_exporting()
        assert fh.closed  # the exporter dropped the buffer: closing the feed cannot fail again
        fh.close()
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "/dev/full" in errors[0].getMessage()
    assert crawler.durable == []
    assert crawler.stats.get_value("arabtoday/errors/output") == 1  # once per output, not per record
    assert crawler.stats.get_value("arabtoday/exit/write_failed") == 1


@pytest.mark.parametrize("exporter_class", [DurableJsonLinesExporter, DurableCsvExporter, DurableJsonExporter,
                                            DurableXmlExporter])
def test_a_closed_output_fails_once_and_announces_nothing(tmp_path: Path, exporter_class: type) -> None:
    fh = (tmp_path / "out").open("wb")
    crawler = FakeCrawler()
    exporter = exporter_class(fh, crawler=crawler, fields_to_export=list(EXPORT_FIELDS))
    exporter.start_exporting()
    fh.close()
    exporter.export_item(ARTICLES[0])
    exporter.export_item(ARTICLES[1])
    assert exporter.failed is not None
    assert crawler.durable == []
    assert crawler.stats.get_value("arabtoday/errors/output") == 1


def test_disk_full_keeps_every_committed_record_whole(tiny_tmpfs: Path) -> None:
    path = tiny_tmpfs / "out.jsonl"
    crawler = FakeCrawler()
    fh = path.open("ab")
    exporter = DurableJsonLinesExporter(fh, crawler=crawler, fsync_every=2)
    exporter.start_exporting()
    written = 0
    for n in range(10_000):
        exporter.export_item(ARTICLES[n % len(ARTICLES)])
        if exporter.failed is not None:
            break
        written += 1
    assert isinstance(exporter.failed, OSError), "the 64 KiB disk filled up"
    exporter.finish_exporting()
    assert written > 2 and crawler.durable, "the disk should hold a few records before filling up"
    committed = crawler.durable[-1]["offset"]
    data = path.read_bytes()
    assert len(data) >= committed
    whole = data[:committed]
    assert whole.endswith(b"\n")
    ids = [json.loads(line)["id"] for line in whole.splitlines()]  # every committed line parses
    assert ids == crawler.announced
    fh.close()  # already closed by the exporter: a no-op


# -- end to end: the signals a real crawl sends ------------------------------------------------------------------

class SignalRecorder:
    """A crawl extension (``-s EXTENSIONS=...``) that writes every durability signal
    to ``SIGNAL_RECORDER_LOG``, and whether the output parsed at that moment."""

    def __init__(self, crawler: Any) -> None:
        self.log = Path(crawler.settings["SIGNAL_RECORDER_LOG"])
        self.output = crawler.settings.get("SIGNAL_RECORDER_OUTPUT")
        crawler.signals.connect(self.durable, signal=RECORDS_DURABLE)
        crawler.signals.connect(self.opened, signal=OUTPUT_OPENED)

    @classmethod
    def from_crawler(cls, crawler: Any) -> SignalRecorder:
        return cls(crawler)

    def _write(self, entry: dict[str, Any]) -> None:
        with self.log.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry) + "\n")

    def durable(self, records: list[Any], path: str | None, offset: int | None) -> None:
        self._write({"signal": "durable", "ids": [r.id for r in records], "path": path, "offset": offset,
                     "parsed": self._parsed()})

    def opened(self, path: str, offset: int) -> None:
        self._write({"signal": "opened", "path": path, "offset": offset})

    def _parsed(self) -> list[str] | None:
        if not self.output or self.output == "-":
            return None
        return [r["id"] for r in read_output(Path(self.output))]


def read_output(path: Path) -> list[dict[str, Any]]:
    """Read an output back with the reader its format calls for; raises when it is not whole."""
    data = path.read_bytes()
    if path.suffix == ".jsonl":
        return read_jsonl(path)
    if path.suffix == ".json":
        return json.loads(data)
    if path.suffix == ".xml":
        return [{child.tag: child.text for child in item} for item in ET.fromstring(data)]
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def crawl_format(base: str, tmp: Path, fmt: str, state: Path) -> tuple[int, str, Path, list]:
    """``scrapy crawl`` to ``out.<fmt>`` (or stdout for ``stdout``, in a subprocess), with the recorder:
    its exit status, its log, the output and the signals recorded."""
    log = tmp / f"signals-{fmt}.jsonl"
    output = tmp / ("stdout.jsonl" if fmt == "stdout" else f"out.{fmt}")
    settings = {**FAST, "ARABTODAY_STATE_DIR": str(state), "SIGNAL_RECORDER_LOG": str(log),
                "SIGNAL_RECORDER_OUTPUT": "-" if fmt == "stdout" else str(output),
                "EXTENSIONS": json.dumps({**project_settings.EXTENSIONS, "test_exporters.SignalRecorder": 0})}
    if fmt == "stdout":
        cmd = crawl_command(base, settings=settings, outputs=["-o", "-:jsonl"])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), os.environ.get("PYTHONPATH", "")])}
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False, env=env)
        output.write_text(proc.stdout, "utf-8")
        status, text = proc.returncode, proc.stderr
    else:
        done = crawl_in_process(base, output, settings=settings, timeout=300)
        status, text = done.status, done.log + done.stderr
    signals = [json.loads(line) for line in log.read_text("utf-8").splitlines()] if log.exists() else []
    return status, text, output, signals


FORMATS = ["jsonl", "stdout", "json", "csv", "xml"]


@pytest.mark.e2e
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_announces_exactly_what_it_wrote(snapshot_server: Server, tmp_path: Path, fmt: str) -> None:
    _, log, output, signals = crawl_format(snapshot_server.base, tmp_path, fmt, tmp_path / "state")
    assert "Illegal seek" not in log
    records = read_output(output)
    expected = {k for k, v in expected_records(snapshot_server.base).items() if not v["duplicate_of"]}
    assert sorted(r["id"] for r in records) == sorted(expected)
    if fmt != "xml":  # XML has no empty element for null: the columns are the schema's in any case
        assert all(list(r) == list(EXPORT_FIELDS) for r in records)
    durable = [s for s in signals if s["signal"] == "durable"]
    announced = [i for s in durable for i in s["ids"]]
    assert sorted(announced) == sorted(expected)  # each record announced once, none left out
    if fmt == "jsonl":
        assert [s["path"] for s in signals if s["signal"] == "opened"] == [str(output)]
        assert {s["path"] for s in durable} == {str(output)}
        assert durable[-1]["offset"] == output.stat().st_size
    else:
        assert not [s for s in signals if s["signal"] == "opened"]  # no journal to open
        assert {(s["path"], s["offset"]) for s in durable} == {(None, None)}
    if fmt in ("json", "xml"):
        assert len(durable) == 1 and sorted(durable[0]["parsed"]) == sorted(expected)  # whole when announced
    elif fmt != "stdout":
        for s in durable:  # what is announced is in the file, whole, at that moment
            assert set(s["ids"]) <= set(s["parsed"])


@pytest.mark.e2e
@pytest.mark.parametrize("fmt", FORMATS)
def test_the_state_advances_in_every_format(snapshot_server: Server, tmp_path: Path, fmt: str) -> None:
    """First run in ``fmt``, second run with the same state: nothing is new, nothing is emitted."""
    state = tmp_path / "state"
    (tmp_path / "1").mkdir()
    status, log, output, _ = crawl_format(snapshot_server.base, tmp_path / "1", fmt, state)
    assert status == 0, log[-3000:]
    assert read_output(output)
    (tmp_path / "2").mkdir()
    status, log, output2, _ = crawl_format(snapshot_server.base, tmp_path / "2", "jsonl", state)
    assert status == 0, log[-3000:]
    assert read_output(output2) == []


@pytest.mark.e2e
def test_the_state_takes_unjournalled_announcements_without_error(snapshot_server: Server, tmp_path: Path) -> None:
    status, log, _, signals = crawl_format(snapshot_server.base, tmp_path, "csv", tmp_path / "state")
    assert status == 0
    assert [s for s in signals if s["signal"] == "durable"]
    assert "Error caught on signal handler" not in log, log[-3000:]


@pytest.mark.e2e
def test_an_unwritable_output_ends_the_crawl_with_status_4(snapshot_server: Server, tmp_path: Path) -> None:
    cmd = crawl_command(snapshot_server.base, Path("/dev/full:jsonl"), overwrite=False, settings={
        **FAST, "ARABTODAY_STATE_DIR": str(tmp_path / "state"), "ARABTODAY_REPORT_PATH": str(tmp_path / "report.json")})
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 4, proc.stderr[-3000:]
    assert proc.stderr.count("Output /dev/full cannot be written") == 1
    report = json.loads((tmp_path / "report.json").read_text("utf-8"))
    assert report["stats"]["arabtoday/errors/output"] == 1
