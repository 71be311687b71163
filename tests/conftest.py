"""Shared test helpers: the project's own snapshot served on loopback by the
project's dev server (a real HTTP server in a subprocess), and real crawls by
``scrapy crawl`` in a subprocess, read back from their JSON Lines output."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from arabtoday.commandline import NO_POLITENESS, crawl_command
from arabtoday.devserver import start_in_background

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = ROOT / "snapshot" / "www"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
EXPECTED = FIXTURES / "expected.jsonl"
FAST = {**NO_POLITENESS, "CONCURRENT_REQUESTS_PER_DOMAIN": "16", "LOG_LEVEL": "INFO"}


def expected_records(base: str) -> dict[str, dict[str, Any]]:
    records = {}
    for line in EXPECTED.read_text("utf-8").splitlines():
        record = json.loads(line.replace("__BASE__", base))
        records[record["id"]] = record
    return records


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every line must be a whole JSON object: a torn or invalid line fails here."""
    records = []
    with path.open("rb") as fh:
        data = fh.read()
    assert not data or data.endswith(b"\n"), f"{path}: last line is torn"
    for n, line in enumerate(data.decode("utf-8").splitlines(), 1):
        try:
            records.append(json.loads(line))
        except ValueError as exc:
            raise AssertionError(f"{path}:{n}: invalid JSON line: {exc}: {line[:120]!r}") from None
    return records


@dataclass
class Server:
    root: Path
    base: str
    log: Path
    proc: subprocess.Popen[bytes]

    def requests(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.read_text("utf-8").splitlines() if line.strip()]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(ready: Callable[[], bool], proc: subprocess.Popen[bytes], what: str, timeout: float = 30) -> None:
    """Poll ``ready`` until it answers; fail (and kill ``proc``) if the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.05)


def start_server(root: Path, workdir: Path) -> Server:
    log = workdir / f"server-{os.getpid()}-{time.monotonic_ns()}.log"
    proc, base = start_in_background(root, workdir, log)
    log.touch()
    return Server(root, base, log, proc)


def copy_site(dest: Path) -> Path:
    """A private copy of the snapshot that a test may alter (faults, redirects, edits)."""
    target = dest / "www"
    shutil.copytree(SNAPSHOT, target)
    return target


def site_meta(root: Path) -> dict[str, Any]:
    return json.loads((root / "_site.json").read_text("utf-8"))


def write_site_meta(root: Path, meta: dict[str, Any]) -> None:
    (root / "_site.json").write_text(json.dumps(meta, indent=1), "utf-8")


@dataclass
class CrawlResult:
    returncode: int
    output: Path
    log: str
    records: list[dict[str, Any]] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)  # what the server saw during this crawl

    @property
    def by_id(self) -> dict[str, dict[str, Any]]:
        return {r["id"]: r for r in self.records}


def crawl(base: str, output: Path, *args: str, settings: dict[str, str] | None = None,
          timeout: float = 300, env: dict[str, str] | None = None) -> CrawlResult:
    """``scrapy crawl arabtoday -a base_url=BASE -O OUTPUT`` in a subprocess."""
    isolated = {"ARABTODAY_STATE_DIR": str(output.parent / "state")}  # never the project's own state
    cmd = crawl_command(base, output, *args, settings={**FAST, **isolated, **(settings or {})})
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False,
                          env={**os.environ, **(env or {})})
    result = CrawlResult(proc.returncode, output, proc.stdout + proc.stderr)
    if output.exists():
        result.records = read_jsonl(output)
    report = output.with_name(output.name + ".report.json")
    if report.exists():
        result.report = json.loads(report.read_text("utf-8"))
    return result


@pytest.fixture(scope="session")
def snapshot_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("snapshot-server")
    server = start_server(SNAPSHOT, workdir)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def full_crawl(snapshot_server: Server, tmp_path_factory: pytest.TempPathFactory) -> CrawlResult:
    """One crawl of the whole snapshot, shared by the tests that only read it."""
    out = tmp_path_factory.mktemp("full-crawl") / "out.jsonl"
    state = out.parent / "state"
    before = len(snapshot_server.requests())
    result = crawl(snapshot_server.base, out, settings={"ARABTODAY_STATE_DIR": str(state)})
    assert result.returncode == 0, result.log[-3000:]
    result.requests = snapshot_server.requests()[before:]
    return result


def recipe(name: str) -> str:
    """The code block that follows ``<!-- recipe:NAME -->`` in the README (run by the recipe tests)."""
    text = (ROOT / "README.md").read_text("utf-8")
    found = re.search(rf"<!-- recipe:{name} -->\n```[a-z]*\n(.*?)\n```", text, re.S)
    assert found, f"README.md has no recipe {name}"
    return found.group(1)
