"""Feed exporters (``arabtoday.export.exporters``): every format keeps the record's columns and tells
the state, through ``RECORDS_DURABLE``, exactly which records are on disk and when.

Driven with real files, pipes, ``/dev/full`` and a tiny tmpfs, and a crawler from Scrapy's
``get_crawler`` whose ``RECORDS_DURABLE`` and ``OUTPUT_OPENED`` signals are recorded (:class:`Announcements`)."""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import threading
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from scrapy.crawler import Crawler
from scrapy.utils.test import get_crawler

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
from conftest import read_jsonl
from devkit.site import article_pages, page_html, served_url

BASE = "http://exporters.test"


class Announcements:
    """What exporters announce on a crawler's signals: ``durable`` (``RECORDS_DURABLE``: the ids, path
    and offset of each announcement), ``opened`` (``OUTPUT_OPENED``); ``on_durable(path, offset)``, when
    set, runs at each announcement (to look at the file at that moment)."""

    def __init__(self, crawler: Crawler) -> None:
        self.durable: list[dict[str, Any]] = []
        self.opened: list[dict[str, Any]] = []
        self.on_durable: Any = None
        crawler.signals.connect(self._durable, signal=RECORDS_DURABLE)
        crawler.signals.connect(self._opened, signal=OUTPUT_OPENED)

    def _durable(self, records: list[Any], path: str | None, offset: int | None) -> None:
        self.durable.append({"ids": [r.id for r in records], "path": path, "offset": offset})
        if self.on_durable:
            self.on_durable(path, offset)

    def _opened(self, path: str, offset: int) -> None:
        self.opened.append({"path": path, "offset": offset})

    @property
    def announced(self) -> list[str]:
        return [i for batch in self.durable for i in batch["ids"]]


def exporter_crawler(**settings: Any) -> tuple[Crawler, Announcements]:
    """A crawler from Scrapy's ``get_crawler`` (its settings, signal manager and stats; never started,
    so an output error has no engine to stop), and what is announced on its signals."""
    crawler = get_crawler(settings_dict=settings)
    return crawler, Announcements(crawler)


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


def test_jsonl_file_announces_after_each_fsync_with_the_committed_offset(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_bytes(b'{"id": "en-1"}\n')  # an earlier run's record: this run starts after it
    crawler, sent = exporter_crawler()
    sizes: list[int] = []
    sent.on_durable = lambda p, offset: sizes.append(path.stat().st_size)
    with path.open("ab") as fh:
        export(DurableJsonLinesExporter(fh, crawler=crawler, fsync_every=3), ARTICLES[:7])
    start = len(b'{"id": "en-1"}\n')
    assert sent.opened == [{"path": str(path), "offset": start}]
    assert [len(b["ids"]) for b in sent.durable] == [3, 3, 1]
    assert sent.announced == [a.id for a in ARTICLES[:7]]
    data = path.read_bytes()
    for batch, size in zip(sent.durable, sizes, strict=True):
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
    crawler, sent = exporter_crawler()
    with open(write_fd, "wb") as pipe:
        export(DurableJsonLinesExporter(pipe, crawler=crawler, fsync_every=200), ARTICLES[:5])
    reader.join(timeout=10)
    assert sent.opened == []  # a pipe has no journal
    assert sent.durable == [{"ids": [a.id], "path": None, "offset": None} for a in ARTICLES[:5]]
    assert [json.loads(line)["id"] for line in received.decode("utf-8").splitlines()] == sent.announced


def _read_all(fd: int) -> bytes:
    with open(fd, "rb") as fh:
        return fh.read()


def test_jsonl_to_an_in_memory_stream_never_calls_tell_or_fsync() -> None:
    class NoSeek(io.BytesIO):
        def tell(self) -> int:
            raise OSError(29, "Illegal seek")

        def seekable(self) -> bool:
            return False

    crawler, sent = exporter_crawler()
    stream = NoSeek()
    export(DurableJsonLinesExporter(stream, crawler=crawler), ARTICLES[:3])
    assert sent.announced == [a.id for a in ARTICLES[:3]]
    assert len(stream.getvalue().splitlines()) == 3


def test_csv_has_the_schema_columns_and_json_encoded_lists(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    crawler, sent = exporter_crawler()
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
    assert [len(b["ids"]) for b in sent.durable] == [4, 2]
    assert {b["path"] for b in sent.durable} == {None}  # CSV is not journalled: recovery reads JSON Lines
    assert sent.opened == []


@pytest.mark.parametrize(("exporter_class", "parse"), [
    (DurableJsonExporter, lambda data: [r["id"] for r in json.loads(data)]),
    (DurableXmlExporter, lambda data: [e.findtext("id") for e in ET.fromstring(data)]),
], ids=["json", "xml"])
def test_whole_documents_are_announced_once_closed_and_whole_on_disk(
        tmp_path: Path, exporter_class: type, parse: Any) -> None:
    path = tmp_path / "out.doc"
    crawler, sent = exporter_crawler()
    on_disk: list[list[str]] = []
    sent.on_durable = lambda p, o: on_disk.append(parse(path.read_bytes()))  # must parse when announced
    with path.open("wb") as fh:
        exporter = exporter_class(fh, crawler=crawler, fsync_every=2, fields_to_export=list(EXPORT_FIELDS))
        exporter.start_exporting()
        for article in ARTICLES[:5]:
            exporter.export_item(article)
        assert sent.durable == []  # an unclosed document is not output yet
        exporter.finish_exporting()
    ids = [a.id for a in ARTICLES[:5]]
    assert sent.durable == [{"ids": ids, "path": None, "offset": None}]
    assert on_disk == [ids]


def test_json_keeps_lists_and_arabic_and_only_the_schema_fields(tmp_path: Path) -> None:
    path = tmp_path / "out.json"
    with path.open("wb") as fh:
        export(DurableJsonExporter(fh, crawler=exporter_crawler()[0], fields_to_export=list(EXPORT_FIELDS)), ARTICLES)
    records = json.loads(path.read_text("utf-8"))
    assert [list(r) for r in records] == [list(EXPORT_FIELDS)] * len(ARTICLES)
    assert [r["tags"] for r in records] == [a.tags for a in ARTICLES]
    arabic = next(a for a in ARTICLES if a.lang == "ar")
    assert arabic.title in path.read_text("utf-8")  # written as is, not \u escapes


def test_dev_full_is_logged_once_counted_and_stops_the_output(caplog: pytest.LogCaptureFixture) -> None:
    """No exception escapes (Scrapy would only log a traceback per record from its signal handler):
    one ERROR line, the cause of exit status 4, and nothing written or announced after it."""
    crawler, sent = exporter_crawler()
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
    assert sent.durable == []
    assert crawler.stats.get_value("arabtoday/errors/output") == 1  # once per output, not per record
    assert crawler.stats.get_value("arabtoday/exit/write_failed") == 1


@pytest.mark.parametrize("exporter_class", [DurableJsonLinesExporter, DurableCsvExporter, DurableJsonExporter,
                                            DurableXmlExporter])
def test_a_closed_output_fails_once_and_announces_nothing(tmp_path: Path, exporter_class: type) -> None:
    fh = (tmp_path / "out").open("wb")
    crawler, sent = exporter_crawler()
    exporter = exporter_class(fh, crawler=crawler, fields_to_export=list(EXPORT_FIELDS))
    exporter.start_exporting()
    fh.close()
    exporter.export_item(ARTICLES[0])
    exporter.export_item(ARTICLES[1])
    assert exporter.failed is not None
    assert sent.durable == []
    assert crawler.stats.get_value("arabtoday/errors/output") == 1


def test_disk_full_keeps_every_committed_record_whole(tiny_tmpfs: Path) -> None:
    path = tiny_tmpfs / "out.jsonl"
    crawler, sent = exporter_crawler()
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
    assert written > 2 and sent.durable, "the disk should hold a few records before filling up"
    committed = sent.durable[-1]["offset"]
    data = path.read_bytes()
    assert len(data) >= committed
    whole = data[:committed]
    assert whole.endswith(b"\n")
    ids = [json.loads(line)["id"] for line in whole.splitlines()]  # every committed line parses
    assert ids == sent.announced
    fh.close()  # already closed by the exporter: a no-op


# -- built as Scrapy's feed exports build them ---------------------------------------------------------------------

@pytest.mark.parametrize("exporter_class", [DurableJsonLinesExporter, DurableCsvExporter, DurableJsonExporter,
                                            DurableXmlExporter])
def test_from_crawler_takes_the_fsync_cadence_from_the_settings_unless_the_feed_gives_one(
        tmp_path: Path, exporter_class: type) -> None:
    crawler = get_crawler(settings_dict={"ARABTODAY_FSYNC_EVERY": 7})
    with (tmp_path / "a").open("wb") as a, (tmp_path / "b").open("wb") as b:  # one exporter per file, as Scrapy
        assert exporter_class.from_crawler(crawler, a).fsync_every == 7
        assert exporter_class.from_crawler(crawler, b, fsync_every=3).fsync_every == 3


def test_with_the_project_s_settings_the_state_takes_each_announcement(tmp_path: Path) -> None:
    """The exporters' contract with the state, end to end through the crawler's signals: what is
    announced is emitted in the state, with the file's committed offset."""
    from arabtoday.state.extension import StateExtension
    from arabtoday.state.store import Status
    from conftest import project_crawler

    crawler = project_crawler(ARABTODAY_FSYNC_EVERY=2)
    store = crawler.get_extension(StateExtension).store
    path = tmp_path / "out.jsonl"
    with path.open("ab") as fh:
        exporter = DurableJsonLinesExporter.from_crawler(crawler, fh)
        exporter.start_exporting()
        for article in ARTICLES[:3]:
            exporter.export_item(article)
        assert [store.get(a.id) is not None for a in ARTICLES[:3]] == [True, True, False]  # two synced, one pending
        exporter.finish_exporting()
    assert all(store.get(a.id).status is Status.EMITTED for a in ARTICLES[:3])
    assert store.outputs()[0][:2] == (str(path), path.stat().st_size)
