"""Scrapy's own commands do what a Scrapy user expects: ``parse`` and ``check`` read the
real site copy on loopback and leave nothing behind; ``crawl -O`` never silently
replaces a dataset with an increment; exports without a state are full crawls."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import ROOT, SNAPSHOT, Server, crawl, run_scrapy, start_server

pytestmark = pytest.mark.e2e
ARTICLE = next((SNAPSHOT / "en" / "middle-east" / "103928").iterdir()).name
ARTICLE_PATH = f"/en/middle-east/103928/{ARTICLE}"


def project_litter() -> set[Path]:
    """What a command could leave in the project: outputs, reports, state."""
    return {p for p in (ROOT / "output").iterdir()} | {p for p in ROOT.glob(".arabtoday/**/*")}


def test_scrapy_parse_reads_an_article_and_leaves_nothing_behind(snapshot_server: Server) -> None:
    before = project_litter()
    result = run_scrapy("parse", "--spider", "arabtoday", "-a", f"base_url={snapshot_server.base}",
                    f"{snapshot_server.base}{ARTICLE_PATH}", "-s", "LOG_LEVEL=WARNING")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "'title': '381,463 migrants in Libya'" in result.stdout
    assert "parse callback is not defined" not in result.stderr
    assert project_litter() == before


def test_scrapy_parse_as_the_readme_types_it_prints_the_page_and_its_links_once_without_a_run_report(
        snapshot_server: Server) -> None:
    """``scrapy parse URL`` alone (spider and site from the address): the record, each article the
    page links to once and never the page itself, and no crawl's run report saying "emitted 0"."""
    page = f"{snapshot_server.base}{ARTICLE_PATH}"
    result = run_scrapy("parse", page)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "'title': '381,463 migrants in Libya'" in result.stdout
    asked = re.findall(r"<GET (\S+)>", result.stdout.split("# Requests", 1)[1])
    assert asked and page not in asked and len(asked) == len(set(asked)), asked
    assert "run report" not in result.stderr and "articles done" not in result.stderr
    missing = run_scrapy("parse", f"{snapshot_server.base}/en/politics/999/no-such-article")
    assert missing.returncode == 3 and "nothing was read from" in missing.stderr


def test_scrapy_check_runs_the_article_contracts_against_the_copy_it_is_given(snapshot_server: Server,
                                                                            tmp_path: Path) -> None:
    before = project_litter()
    ok = run_scrapy("check", "-s", f"ARABTODAY_BASE_URL={snapshot_server.base}", "arabtoday")
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert "Ran 3 contracts" in ok.stderr and "OK" in ok.stderr
    # against a copy where the sample page is gone, the same contracts fail
    empty = tmp_path / "www"
    empty.mkdir()
    (empty / "robots.txt").write_text("User-agent: *\n", "utf-8")
    server = start_server(empty, tmp_path)
    try:
        failed = run_scrapy("check", "-s", f"ARABTODAY_BASE_URL={server.base}", "arabtoday")
    finally:
        server.stop()
    assert failed.returncode != 0
    assert project_litter() == before


def test_overwrite_with_an_incremental_state_is_refused_not_silently_emptied(snapshot_server: Server,
                                                                           tmp_path: Path) -> None:
    out = tmp_path / "dataset.jsonl"
    state = {"ARABTODAY_STATE_DIR": str(tmp_path / "state")}
    first = crawl(snapshot_server.base, out, settings=state)
    assert first.returncode == 0 and len(first.records) == 30
    again = crawl(snapshot_server.base, out, settings=state)
    assert again.returncode == 2
    assert "-O " in again.log and "would replace its records" in again.log and "Traceback" not in again.log
    assert len(again.records) == 30  # the file is untouched
    full = crawl(snapshot_server.base, out, settings={**state, "ARABTODAY_INCREMENTAL": "False"})
    assert full.returncode == 0 and len(full.records) == 30


def test_without_a_state_every_run_is_a_full_crawl(snapshot_server: Server, tmp_path: Path) -> None:
    out = tmp_path / "again.jsonl"
    for _ in range(2):
        result = crawl(snapshot_server.base, out, settings={"ARABTODAY_STATE_DIR": ""})
        assert result.returncode == 0
        assert len(result.records) == 30


@pytest.mark.parametrize(("option", "status"), [(("-a", "lang=fr"), 2), (("-s", "DOWNLOAD_DELAY=abc"), 2),
                                                (("-s", "CONCURRENT_REQUESTS=x"), 2), (("-O", "/proc/x.jsonl"), 4),
                                                (("-s", "ARABTODAY_STATE_DIR=/etc/passwd"), 7)])
def test_a_crawl_that_cannot_start_says_so_in_one_line_and_nothing_else(tmp_path: Path, option: tuple[str, str],
                                                                        status: int) -> None:
    """As typed, without a log file: the refusal comes before Scrapy logs its banner, so stderr is
    the one line the README promises, with its status, naming what is wrong."""
    output = () if option[0] == "-O" else ("-O", str(tmp_path / "out.jsonl"))
    nowhere = ("-a", "base_url=http://127.0.0.1:9")  # were it to start anyway: a closed port, never the live site
    result = run_scrapy("crawl", "arabtoday", *option, *output, *(nowhere if option[0] != "-a" else ()))
    assert result.returncode == status, result.stderr[-2000:]
    [line] = result.stderr.splitlines()
    assert line.startswith("arabtoday: could not start:") and option[1].split("=")[0] in line, line


def test_a_run_that_cannot_start_reports_beside_the_default_output(tmp_path: Path) -> None:
    """Without -o/-O the output is named from placeholders (%(lang)s, %(time)s); a run that could not
    start still leaves its report beside the file it would have written, as the docs promise."""
    default = tmp_path / "arabtoday-%(lang)s-%(time)s.jsonl"
    result = run_scrapy("crawl", "arabtoday", "-a", "lang=english", "-s", f"ARABTODAY_DEFAULT_FEED={default}")
    assert result.returncode == 2, result.stderr[-2000:]
    [report] = tmp_path.glob("arabtoday-english-*.jsonl.report.json")
    assert json.loads(report.read_text("utf-8"))["exit_status"]["code"] == 2
    assert report.with_suffix(".html").exists() and not list(tmp_path.glob("*.jsonl"))
