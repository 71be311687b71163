"""``devkit.launch.crawl_in_process``, what most end-to-end tests crawl with, held to the command: the
same refusal of a bad argument before any request, and a timeout that stops the crawl as Ctrl-C does
(report written, status 130) rather than leaving it running."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import FAST, Server, article_requests, copy_site, site_meta, start_server, write_site_meta
from devkit.launch import crawl_in_process

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
