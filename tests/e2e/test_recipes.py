"""The README's recipes, run as written from a fresh checkout's point of view: the
paths and the site's address pointed at a copy on loopback, politeness delays off
(through ``SCRAPY_SETTINGS_MODULE``, never by editing the recipe)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, Server, read_jsonl, recipe, unavailable

pytestmark = pytest.mark.e2e
LIVE = "https://www.arabstoday.net"
RECIPE_SETTINGS = Path(__file__).resolve().parent / "recipes"  # recipe_settings.py: the politeness delays off


def fresh_checkout(dest: Path) -> Path:
    """What a clone has: the tracked tree, no outputs, no logs, no state (the venv is shared)."""
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for name in listed.splitlines():
        source = ROOT / name
        if source.is_file():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    (dest / ".venv").symlink_to(ROOT / ".venv")
    return dest


def run_shell(command: str, cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "recipe_settings",
           "PYTHONPATH": os.pathsep.join([str(RECIPE_SETTINGS), str(ROOT)])}
    return subprocess.run(["bash", "-c", command], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=env, check=False)


def test_cron_line_runs_incrementally_keeps_its_log_and_reports_failure(snapshot_server: Server,
                                                                        tmp_path: Path) -> None:
    home = fresh_checkout(tmp_path / "arabtoday")
    line = recipe("cron")
    command = line.split(None, 5)[5]  # the five schedule fields, then the command
    command = command.replace("/srv/arabtoday", str(home))
    first = run_shell(command.replace(LIVE, snapshot_server.base), cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "failed" not in first.stdout
    outputs = sorted((home / "output").glob("arabtoday-all-*.jsonl"))
    assert len(outputs) == 1 and len([r for r in read_jsonl(outputs[0]) if r["status"] == "live"]) == 30
    logs = list((home / "logs").glob("crawl-*.log"))
    assert logs and "Spider closed (finished)" in logs[0].read_text("utf-8")
    assert (home / "state").is_dir()
    # the raw pages kept: each record names its response record in the run's WARC file
    warcs = {p.name for p in (home / "warc").glob("*.warc.gz")}
    assert warcs and {r["warc_file"] for r in read_jsonl(outputs[0]) if r["status"] == "live"} <= warcs
    # the next hour: nothing new, so an empty increment (a new file: the minute differs or not, never overwritten)
    for log in logs:
        log.unlink()
    second = run_shell(command.replace(LIVE, snapshot_server.base), cwd=tmp_path)
    assert second.returncode == 0, second.stdout + second.stderr
    written = [r for out in (home / "output").glob("arabtoday-all-*.jsonl") for r in read_jsonl(out)]
    assert written == read_jsonl(outputs[0]), "the second run wrote nothing"
    # the site gone: cron's mail says so, with the status
    down = run_shell(command.replace(LIVE, "http://127.0.0.1:9"), cwd=tmp_path)
    assert "arabtoday crawl failed with exit status 6" in down.stdout


def test_systemd_units_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        unavailable("systemd-analyze is not on this machine (no systemd): the units are checked where it is")
    home = fresh_checkout(tmp_path / "arabtoday")
    units = tmp_path / "units"
    units.mkdir()
    (units / "arabtoday.service").write_text(recipe("systemd-service").replace("/srv/arabtoday", str(home)) + "\n")
    (units / "arabtoday.timer").write_text(recipe("systemd-timer") + "\n")
    result = subprocess.run([analyze, "verify", str(units / "arabtoday.service"), str(units / "arabtoday.timer")],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
