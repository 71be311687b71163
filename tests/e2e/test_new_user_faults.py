"""What a new user typed and hit (issue "faults a new user hit"), each as the command line they ran:
a state damaged inside, a bad value for one of Scrapy's own settings, ``scrapy parse`` of a copy's
address without ``base_url``, ``scrapy check`` when the site does not answer, a stop against a site
that answers in 20 s, and the live site crawled with the default User-Agent."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from arabtoday import settings as project_settings
from arabtoday.exitstatus import ExitStatus
from arabtoday.site.addresses import SITE_URL
from conftest import (
    ROOT,
    SNAPSHOT,
    CrawlResult,
    Server,
    article_id_of,
    assert_accounted,
    assert_exit,
    copy_site,
    crawl,
    finish_crawl,
    free_port,
    run_scrapy,
    site_meta,
    start_crawl,
    start_server,
    wait_until,
    write_site_meta,
)
from devkit.probes import ON_BUILD
from devkit.probes import SETTING as SIGNAL_SETTING

pytestmark = [pytest.mark.e2e, pytest.mark.acceptance]
SQLITE_PAGE = 4096  # the state's page size (SQLite's default)
ANSWER_SECONDS = 20  # a site that slow: far beyond the few seconds a stop may take
STOP_SECONDS = 5  # docker stop gives 10 s before SIGKILL
ARTICLE = f"/en/middle-east/103928/{next((SNAPSHOT / 'en' / 'middle-east' / '103928').iterdir()).name}"


def test_a_state_damaged_inside_is_one_line_and_exit_7(snapshot_server: Server, tmp_path: Path) -> None:
    """The header intact, one page in the middle overwritten with bytes: found at open, never a traceback."""
    state = {"ARABTODAY_STATE_DIR": str(tmp_path / "state")}
    assert_exit(crawl(snapshot_server.base, tmp_path / "run1.jsonl", settings=state), 0)
    database = tmp_path / "state" / "state.sqlite3"
    pages = database.stat().st_size // SQLITE_PAGE
    assert pages >= 4, "the state is too small to damage inside"
    with database.open("r+b") as fh:
        fh.seek(SQLITE_PAGE * (pages // 2))
        fh.write(b"\xde\xad\xbe\xef" * (SQLITE_PAGE // 4))
    second = crawl(snapshot_server.base, tmp_path / "run2.jsonl", settings=state, server=snapshot_server)
    assert "Traceback" not in second.log and "DatabaseError" not in second.stderr, second.tail()
    [line] = [x for x in second.stderr.splitlines() if x.strip()]
    assert "state" in line and str(tmp_path / "state") in line, line
    assert second.requests == []
    assert_exit(second, 7)


@pytest.mark.parametrize(("setting", "value"), [("DOWNLOAD_DELAY", "abc"), ("CONCURRENT_REQUESTS", "many"),
                                                ("AUTOTHROTTLE_ENABLED", "perhaps"), ("RETRY_HTTP_CODES", "abc"),
                                                ("LOG_LEVEL", "LOUD")])
def test_a_bad_value_of_a_scrapy_setting_is_one_line_and_exit_2(snapshot_server: Server, tmp_path: Path,
                                                                setting: str, value: str) -> None:
    result = crawl(snapshot_server.base, tmp_path / "out.jsonl", settings={setting: value}, server=snapshot_server,
                   process=True)
    assert result.returncode == ExitStatus.BAD_CONFIG, result.tail()
    assert "Traceback" not in result.stderr
    [line] = [x for x in result.stderr.splitlines() if x.startswith("arabtoday:")]
    assert f"{setting}={value!r}" in line or f"{setting}={value}" in line, line
    assert result.requests == []


def test_scrapy_parse_reads_the_address_named_without_base_url(snapshot_server: Server) -> None:
    """``scrapy parse --spider arabtoday URL`` on a copy: the spider's site is the address's own, and what
    is printed is the record the dataset would hold (cleaned), not the page object's raw reading."""
    result = run_scrapy("parse", "--spider", "arabtoday", f"{snapshot_server.base}{ARTICLE}", "-s", "LOG_LEVEL=WARNING")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "'title': '381,463 migrants in Libya'" in result.stdout
    assert "'content_hash':" in result.stdout and "'blocks':" not in result.stdout  # the record, cleaned
    assert "offsite" not in result.stderr


def test_scrapy_parse_of_an_address_that_reads_nothing_exits_3(snapshot_server: Server) -> None:
    result = run_scrapy("parse", "--spider", "arabtoday", f"{snapshot_server.base}/en/politics/999999/no-such-story")
    assert result.returncode == ExitStatus.ARTICLES_FAILED, result.stderr[-2000:]


def test_scrapy_check_says_in_one_line_that_the_site_does_not_answer() -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    result = run_scrapy("check", "-s", f"ARABTODAY_BASE_URL={closed}", "arabtoday")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    said = [x for x in result.stderr.splitlines() if x.startswith("arabtoday:")]
    assert len(said) == 1 and closed in said[0] and "ARABTODAY_BASE_URL" in said[0], result.stderr[-2000:]


@pytest.mark.parametrize(("sig", "status"), [(signal.SIGTERM, ExitStatus.INTERRUPTED_TERM),
                                              (signal.SIGINT, ExitStatus.INTERRUPTED_INT)])
def test_a_stop_takes_effect_in_seconds_against_a_site_that_answers_in_20(tmp_path: Path, sig: signal.Signals,
                                                                          status: int) -> None:
    result, took = stop_a_crawl(tmp_path, {"/*/*/[0-9]*": f"slow:{ANSWER_SECONDS}"}, sig,
                                "a request for an article page", lambda r: "/103" in r["path"] or "/104" in r["path"])
    assert took < STOP_SECONDS, f"the stop took {took:.1f} s"
    assert_exit(result, status)
    accounting = assert_accounted(result)  # what was in flight is unfinished, for the next run
    assert sum(accounting["unfinished"].values()) >= 1, accounting
    assert "waiting" in result.stderr.lower() or "stopping" in result.stderr.lower(), result.tail()


@pytest.mark.parametrize(("sig", "status"), [(signal.SIGTERM, ExitStatus.INTERRUPTED_TERM),
                                              (signal.SIGINT, ExitStatus.INTERRUPTED_INT)])
def test_a_stop_while_robots_txt_is_in_flight_ends_the_run(tmp_path: Path, sig: signal.Signals, status: int) -> None:
    """robots.txt is downloaded by the engine itself, not through the scheduler: a stop that cut it
    short once handed it straight back to the download, which the stop cut again, for ever (a new
    user's ``docker stop`` in the first seconds of a run, or on a slow site, spun until SIGKILL)."""
    result, took = stop_a_crawl(tmp_path, {"/robots.txt": f"gate:{tmp_path / 'never-opened'}"}, sig,
                                "the request for robots.txt", lambda r: r["fault"] == "gate-held")
    assert took < STOP_SECONDS, f"the stop took {took:.1f} s"
    assert_exit(result, status)
    assert_accounted(result)
    assert result.lines == [] and result.report, result.tail()


@pytest.mark.parametrize("moment", [SIGNAL_SETTING, ON_BUILD])
@pytest.mark.parametrize(("sig", "status"), [(signal.SIGTERM, ExitStatus.INTERRUPTED_TERM),
                                              (signal.SIGINT, ExitStatus.INTERRUPTED_INT)])
def test_a_signal_the_instant_the_spider_opens_stops_the_run_with_its_status_and_report(
        snapshot_server: Server, tmp_path: Path, sig: signal.Signals, status: int, moment: str) -> None:
    """A trial's Ctrl-C just after "Spider opened" reached Scrapy's handler alone (the project's was
    installed a loop turn later): exit 1 and no report, or exit 0 with every article unfinished. One
    while the crawler was built stopped the run before its components could hear it (it fetched on),
    and a SIGINT then ended as SIGTERM (a closure read the loop's last signal)."""
    probes = {"EXTENSIONS": json.dumps({**project_settings.EXTENSIONS, "devkit.probes.SignalOnOpen": 999}),
              "ADDONS": json.dumps({**project_settings.ADDONS, "devkit.probes.SignalOnBuild": 999})}
    before = len(snapshot_server.requests())
    proc = start_crawl(snapshot_server.base, tmp_path / "out.jsonl", "lang=en", settings={**probes, moment: sig.name})
    result = finish_crawl(proc, tmp_path / "out.jsonl", timeout=60)
    assert_exit(result, status)
    assert_accounted(result)
    assert result.report["stats"].get("finish_reason") == "shutdown", result.tail()
    articles = [r for r in snapshot_server.requests()[before:] if article_id_of(r["path"])]
    assert articles == [], "an article was requested after the stop"


def stop_a_crawl(tmp_path: Path, faults: dict[str, str], sig: signal.Signals, what: str,
                 seen: Callable[[dict[str, Any]], bool]) -> tuple[CrawlResult, float]:
    """A crawl of a copy of the site playing ``faults``, sent ``sig`` once the server has logged a request
    ``seen`` picks (``what``, for the failure): the crawl's result, and the seconds it took to end."""
    root = copy_site(tmp_path)
    meta = site_meta(root)
    meta["faults"] = faults
    write_site_meta(root, meta)
    server = start_server(root, tmp_path)
    output = tmp_path / "out.jsonl"
    try:
        proc = start_crawl(server.base, output, "lang=en", settings={"ARABTODAY_STATE_DIR": str(tmp_path / "s")})
        wait_until(lambda: any(seen(r) for r in server.requests()), proc, what, timeout=60)
        proc.send_signal(sig)
        stopped = time.monotonic()
        result = finish_crawl(proc, output, timeout=ANSWER_SECONDS * 3)
        return result, time.monotonic() - stopped
    finally:
        server.stop()


def test_crawling_the_live_site_with_the_default_user_agent_warns() -> None:
    """The warning comes before any request; the site asked for is the live one, but nothing is fetched:
    the crawl is refused at once by an output that cannot be written."""
    result = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "arabtoday", "-a", f"base_url={SITE_URL}",
                             "-s", "LOG_LEVEL=WARNING", "-s", "CLOSESPIDER_TIMEOUT=0.01", "-s",
                             f"ARABTODAY_REPORT_PATH={ROOT / 'output' / 'ua-test.report.json'}",
                             "-s", "ROBOTSTXT_OBEY=False", "-s", "DOWNLOAD_HANDLERS={\"https\": null, \"http\": null}",
                             "-O", "/dev/null:jsonl"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    for leftover in (ROOT / "output").glob("ua-test.report.*"):
        leftover.unlink()
    assert "crawling the live site with the default User-Agent" in result.stderr, result.stderr[-2000:]
