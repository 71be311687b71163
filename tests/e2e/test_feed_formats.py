"""Feed formats in real crawls: ``scrapy crawl`` of the snapshot in every format, with the
durability signals the crawl really sends recorded (``SignalRecorder``, loaded into the crawl as an
extension); the state advances whatever the format; an unwritable output ends the crawl with status 4."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from arabtoday import settings as project_settings
from arabtoday.items import EXPORT_FIELDS
from arabtoday.signals import OUTPUT_OPENED, RECORDS_DURABLE
from conftest import FAST, ROOT, Server, expected_records, read_jsonl
from devkit.launch import crawl_command, crawl_in_process

# on the subprocess's path, with tests/ (for conftest): the recorder is loaded from this module
HERE = Path(__file__).resolve().parent


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
                "EXTENSIONS": json.dumps({**project_settings.EXTENSIONS, f"{__name__}.SignalRecorder": 0})}
    if fmt == "stdout":
        cmd = crawl_command(base, settings=settings, outputs=["-o", "-:jsonl"])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), str(HERE.parent),
                                                            os.environ.get("PYTHONPATH", "")])}
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
    status, log, output, signals = crawl_format(snapshot_server.base, tmp_path, fmt, tmp_path / "state")
    assert status == 0, log[-3000:]  # the snapshot crawled whole: nothing lost, in every format
    assert "Illegal seek" not in log
    lines = read_output(output)
    expected = {k for k, v in expected_records(snapshot_server.base).items() if not v["duplicate_of"]}
    copies = {k: v["duplicate_of"] for k, v in expected_records(snapshot_server.base).items() if v["duplicate_of"]}
    assert sorted(r["id"] for r in lines if r["status"] == "live") == sorted(expected)
    assert {r["id"]: r["duplicate_of"] for r in lines if r["status"] == "superseded"} == copies
    if fmt in ("jsonl", "stdout", "json"):  # a line of history has the fields of its status, in schema order
        assert all(list(r) == [f for f in EXPORT_FIELDS if f in r] for r in lines)
        assert all(list(r) == list(EXPORT_FIELDS) for r in lines if r["status"] == "live")
    elif fmt != "xml":  # XML has no empty element for null: the columns are the schema's in any case
        assert all(list(r) == list(EXPORT_FIELDS) for r in lines)
    durable = [s for s in signals if s["signal"] == "durable"]
    announced = [i for s in durable for i in s["ids"]]
    assert sorted(announced) == sorted(r["id"] for r in lines)  # each line announced once, none left out
    if fmt == "jsonl":
        assert [s["path"] for s in signals if s["signal"] == "opened"] == [str(output)]
        assert {s["path"] for s in durable} == {str(output)}
        assert durable[-1]["offset"] == output.stat().st_size
    else:
        assert not [s for s in signals if s["signal"] == "opened"]  # no journal to open
        assert {(s["path"], s["offset"]) for s in durable} == {(None, None)}
    if fmt in ("json", "xml"):
        assert len(durable) == 1 and sorted(durable[0]["parsed"]) == sorted(announced)  # whole when announced
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
