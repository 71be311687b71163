"""``devkit.launch.crawl_in_process``, what most end-to-end tests crawl with, held to the command: the
same refusal of a bad argument before any request, and a timeout that stops the crawl as Ctrl-C does
(report written, status 130) rather than leaving it running."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import (
    FAST,
    ROOT,
    Server,
    article_requests,
    copy_site,
    free_port,
    site_meta,
    start_server,
    write_site_meta,
)
from devkit.launch import crawl_command, crawl_in_process

HANG_SECONDS = 60  # far beyond the timeout below: the crawl can only end by being stopped


def test_a_bad_argument_is_refused_before_any_request(snapshot_server: Server, tmp_path: Path) -> None:
    before = len(snapshot_server.requests())
    done = crawl_in_process(snapshot_server.base, tmp_path / "out.jsonl", "lang=xx", settings=FAST)
    assert done.status == 2
    assert len(done.complaints) == 1 and "lang" in done.complaints[0]
    assert snapshot_server.requests()[before:] == []
    assert not (tmp_path / "out.jsonl").exists()


@pytest.fixture
def hanging_site(tmp_path: Path) -> Iterator[Server]:
    """The snapshot with every article page held open far longer than the test waits."""
    root = copy_site(tmp_path)
    meta = site_meta(root)
    meta["faults"] = {"/*/*/[0-9]*": f"hang:{HANG_SECONDS}"}
    write_site_meta(root, meta)
    server = start_server(root, tmp_path)
    yield server
    server.stop()


def test_a_timeout_stops_the_crawl_as_an_interrupt_does(hanging_site: Server, tmp_path: Path) -> None:
    output, report = tmp_path / "out.jsonl", tmp_path / "report.json"
    done = crawl_in_process(hanging_site.base, output, "lang=en", timeout=4, settings={
        **FAST, "DOWNLOAD_TIMEOUT": "3",  # a stopped crawl still waits for what is in flight
        "ARABTODAY_STATE_DIR": str(tmp_path / "state"), "ARABTODAY_REPORT_PATH": str(report)})
    assert done.timed_out
    assert article_requests(hanging_site.requests()), "the crawl reached the held articles"
    assert done.status == 130
    assert json.loads(report.read_text("utf-8"))["exit_status"]["code"] == 130
    assert output.read_bytes() == b""  # nothing was finished, and nothing torn was written
    assert "Spider closed" in done.log


@pytest.mark.parametrize("options", [["-O", "{dir}/out.jsonl"], ["-o", "{dir}/a.csv", "-o", "{dir}/b.json"],
                                     ["-O", "{dir}/records-%(lang)s.jsonl"]])
def test_the_in_process_crawl_writes_the_files_scrapy_crawl_writes(tmp_path: Path, options: list[str]) -> None:
    """The same output options through ``scrapy crawl`` (a process) and the in-process runner, against a
    port where nothing listens (exit 6 at once): the same files, reports beside them included."""
    closed = f"http://127.0.0.1:{free_port()}"
    written = {}
    for way in ("command", "in-process"):
        where = tmp_path / way
        where.mkdir()
        outputs = [o.format(dir=where) for o in options]
        if way == "command":
            status = subprocess.run(crawl_command(closed, None, settings=FAST, outputs=outputs), cwd=ROOT,
                                    capture_output=True, timeout=120, check=False).returncode
        else:
            status = crawl_in_process(closed, None, settings=FAST, outputs=outputs, timeout=120).status
        assert status == 6, way
        written[way] = sorted(p.name for p in where.iterdir())
    assert written["command"] == written["in-process"]
    assert any(name.endswith(".report.json") for name in written["command"])
