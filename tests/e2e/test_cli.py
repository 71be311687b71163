"""The helper command line as users run it: ``python -m arabtoday`` and the installed ``arabtoday`` command."""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from arabtoday.cli import build_parser
from arabtoday.run.report import build_report
from arabtoday.version import __version__
from conftest import BALANCED_STATS as BALANCED
from conftest import ROOT, CrawlResult

CONSOLE_SCRIPT = Path(sys.executable).parent / "arabtoday"
SERVE_TIMEOUT = 30


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "arabtoday", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The failure is said in one line, without a traceback."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_version_from_the_module_and_the_console_script() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"arabtoday {__version__}"
    assert CONSOLE_SCRIPT.exists(), "the arabtoday command is not installed: pip install -e ."
    script = subprocess.run([str(CONSOLE_SCRIPT), "--version"], capture_output=True, text=True, timeout=60,
                            check=False, cwd="/")  # from anywhere, not only the checkout
    assert script.returncode == 0, script.stderr
    assert script.stdout.strip() == f"arabtoday {__version__}"


def test_package_metadata_carries_the_code_version() -> None:
    from importlib.metadata import version

    assert version("arabtoday") == __version__


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    [action] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def test_every_command_and_argument_has_help() -> None:
    parser = build_parser()
    commands = _subparsers(parser)
    assert set(commands) == {"extract", "report", "merge", "export"}  # the dev tools are python -m devkit
    [sub_action] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert all(choice.help for choice in sub_action._choices_actions)
    for name, sub in commands.items():
        for action in sub._actions:
            assert action.help, f"{name} {action.dest}: no help text"
    for name in commands:
        result = run(name, "--help")
        assert result.returncode == 0 and "usage: arabtoday " + name in result.stdout, result.stderr


@pytest.mark.parametrize("args", [["nonsense"], ["extract"], ["serve"], ["extract", "a", "b", "--url", "http://x/"],
                                  [], ["export", "x.jsonl", "--out", "d", "--format", "xml"]])
def test_usage_errors_are_one_line_and_status_2(args: list[str]) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert one_line_error(result).startswith("arabtoday")


def test_report_of_a_missing_or_wrong_file_is_one_line(tmp_path: Path) -> None:
    result = run("report", str(tmp_path / "missing.report.json"))
    assert result.returncode == 1
    assert "missing.report.json: no such file" in one_line_error(result)
    (tmp_path / "bad.json").write_text("{not json")
    result = run("report", str(tmp_path / "bad.json"))
    assert result.returncode == 1 and "not JSON" in one_line_error(result)
    (tmp_path / "list.json").write_text("[1, 2]")
    result = run("report", str(tmp_path / "list.json"))
    assert result.returncode == 1 and "not a run report" in one_line_error(result)
    (tmp_path / "other.json").write_text('{"id": "en-1", "title": "a record, not a report"}')
    result = run("report", str(tmp_path / "other.json"))
    assert result.returncode == 1 and "not a run report" in one_line_error(result)


def test_report_prints_a_crawl_report(full_crawl: CrawlResult) -> None:
    report = full_crawl.output.with_name(full_crawl.output.name + ".report.json")
    result = run("report", str(report))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert re.search(rf"emitted\s+{len(full_crawl.records)}\b", result.stdout), result.stdout


def record(article_id: str, crawled_at: str, title: str = "t") -> str:
    return json.dumps({"id": article_id, "crawled_at": crawled_at, "title": title})


def test_merge_creates_a_missing_output_directory(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text(record("en-1", "2024-01-01", "old") + "\n" + record("en-2", "2024-01-01") + "\n")
    (tmp_path / "b.jsonl").write_text(record("en-1", "2024-02-01", "new") + "\n")
    out = tmp_path / "not" / "yet" / "merged.jsonl"
    result = run("merge", str(out), str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl"))
    assert result.returncode == 0, result.stderr
    merged = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["id"], r["title"]) for r in merged] == [("en-1", "new"), ("en-2", "t")]


def test_merge_of_a_json_array_says_so_once(tmp_path: Path) -> None:
    array = tmp_path / "array.json"
    array.write_text("[\n" + ",\n".join(record(f"en-{n}", "2024-01-01") for n in range(50)) + "\n]\n")
    (tmp_path / "good.jsonl").write_text(record("en-7", "2024-01-01") + "\n")
    out = tmp_path / "merged.jsonl"
    result = run("merge", str(out), str(array), str(tmp_path / "good.jsonl"))
    assert result.returncode == 1
    complaints = [line for line in result.stderr.splitlines() if "array.json" in line]
    assert complaints == [f"merge: {array}: is a JSON array, not JSON Lines (one record a line): left out"]
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["en-7"]


def test_report_command_runs_from_the_command_line(tmp_path: Path) -> None:
    saved = tmp_path / "x.report.json"
    saved.write_text(json.dumps(build_report(BALANCED, 3.0)), "utf-8")
    proc = subprocess.run([sys.executable, "-m", "arabtoday", "report", str(saved), "--html", str(tmp_path / "x.html")],
                          capture_output=True, text=True, check=False, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "arabtoday run report: exit 3" in proc.stdout
    assert (tmp_path / "x.html").exists()
