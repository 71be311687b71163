"""Issue 8: every article out or counted, and a failed run never looks like a success.

Each crawl is the real crawl (in process, or ``scrapy crawl`` where signals or
stdout are the point) against the project's dev server playing a
faulty copy of the snapshot; each test asserts what was requested (the server's
log), what was emitted (the output read back), what was counted (the report's
``stats`` and ``accounting``) and the exit status, with the names fixed in
``docs/CONTRACTS.md``. These are the crawl core's acceptance tests (marker
``acceptance``): a change that breaks a promise fails here.
"""

from __future__ import annotations

import csv
import itertools
import json
import signal
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import (
    Server,
    article_path,
    article_requests,
    assert_accounted,
    assert_exit,
    copy_site,
    crawl,
    expected_records,
    finish_crawl,
    free_port,
    plain_path,
    read_jsonl,
    site_meta,
    start_crawl,
    start_server,
    wait_until,
    write_site_meta,
)
from devkit.sitegen import generate

pytestmark = [pytest.mark.e2e, pytest.mark.acceptance]

FAILED = "arabtoday/articles/failed/"
RETRIES = 3  # RETRY_TIMES for the tests that count attempts
BACKOFF_BASE = 0.2  # FAST's ARABTODAY_RETRY_BACKOFF_BASE
SLOW_ARTICLE_SECONDS = 1.5
GARBAGE = b"\x00\xffnot a database\x13\x37" * 512
SQLITE_MAGIC = b"SQLite format 3\x00"
UNREACHABLE_SECONDS = 60
HELD_TIMEOUT = 2  # DOWNLOAD_TIMEOUT for the test with a page that never answers


def originals(base: str) -> dict[str, dict]:
    """What a correct crawl of the untouched snapshot emits (republished copies left out)."""
    return {k: v for k, v in expected_records(base).items() if not v["duplicate_of"]}


@contextmanager
def serving(root: Path, workdir: Path, meta_changes: dict) -> Iterator[Server]:
    """The dev server on a site copy whose ``_site.json`` got ``meta_changes``; stopped on exit."""
    meta = site_meta(root)
    meta.update(meta_changes)
    write_site_meta(root, meta)
    server = start_server(root, workdir)
    try:
        yield server
    finally:
        server.stop()


def assert_emitted_once(records: list[dict]) -> None:
    counts = Counter(r["id"] for r in records)
    assert not [i for i, n in counts.items() if n > 1], f"emitted more than once: {counts.most_common(3)}"


def assert_same_fields(got: dict, want: dict) -> None:
    for name, value in want.items():
        assert got[name] == value, (want["id"], name, got[name], value)


# -- 1. lower ids slow or failing ---------------------------------------------------------------------------------

@pytest.fixture
def failing_low_ids(tmp_path: Path) -> Iterator[tuple[Server, dict[str, str]]]:
    """The lowest ids of both editions answer 503 twice, one 500 always, one redirects in a
    loop, one redirects to another article id."""
    root = copy_site(tmp_path)
    paths = {name: article_path(root, lang, number) for name, lang, number in (
        ("503_en", "en", 103900), ("503_en2", "en", 103907), ("503_ar", "ar", 680100), ("500", "en", 103914),
        ("loop", "en", 103921), ("moved", "en", 103928), ("target", "en", 103935))}
    loop_b = "/en/sports/103921/loop-b"
    changes = {
        "faults": {paths["503_en"]: "503@2", paths["503_en2"]: "503@2", paths["503_ar"]: "503@2",
                   paths["500"]: "500"},
        "redirects": {paths["loop"]: {"status": 302, "to": "__BASE__" + loop_b},
                      loop_b: {"status": 302, "to": "__BASE__" + paths["loop"]},
                      paths["moved"]: {"status": 301, "to": "__BASE__" + paths["target"]}},
    }
    with serving(root, tmp_path, changes) as server:
        yield server, paths


def test_lower_ids_slow_or_failing_every_other_article_once(failing_low_ids, tmp_path: Path) -> None:
    server, paths = failing_low_ids
    result = crawl(server.base, tmp_path / "out.jsonl", settings={"RETRY_TIMES": str(RETRIES)}, server=server)
    want = originals(server.base)
    lost = {"en-103914", "en-103921", "en-103928"}  # 500 always, redirect loop, moved to en-103935
    assert_emitted_once(result.records)
    assert set(result.by_id) == set(want) - lost
    for article_id in set(want) - lost:
        assert_same_fields(result.by_id[article_id], want[article_id])
    # the id-changing redirect: the record is the final article's, under its canonical address
    assert result.by_id["en-103935"]["url"] == server.base + paths["target"]
    assert not [r for r in result.records if "103928" in r["url"] or "103921" in r["url"]]

    paths_seen = Counter(plain_path(r) for r in result.requests)
    for name in ("503_en", "503_en2", "503_ar"):
        assert paths_seen[paths[name]] == 3, (name, paths_seen[paths[name]])  # 503, 503, 200
    assert paths_seen[paths["500"]] == 1 + RETRIES
    # the backoff is real: retries of one address are spaced by at least the base delay
    times = [r["t"] for r in result.requests if plain_path(r) == paths["500"]]
    assert min(b - a for a, b in itertools.pairwise(times)) >= BACKOFF_BASE * 0.75, times

    stats = result.stats
    assert stats.get(FAILED + "http_500") == 1, result.stats_under(FAILED)
    assert sum(v for k, v in stats.items() if k.startswith(FAILED + "redirect/")) == 1, result.stats_under(FAILED)
    assert stats.get("arabtoday/articles/emitted") == len(result.records)
    assert_accounted(result)
    assert_exit(result, 3)


# -- 2. incremental: sitemap lastmod after a listing, feed dates are not lastmods ---------------------------------

EDITED = "en-104330"


def test_lastmod_arriving_after_a_listing_still_triggers_the_update(tmp_path: Path) -> None:
    root = copy_site(tmp_path)
    path = article_path(root, "en", 104330)
    # listings answer at once, feeds after 2 s, the sitemaps after 4 s: in both runs the article
    # is reached by a listing first (no date), then by a feed (a publication date), then by its sitemap
    changes = {"faults": {"/sitemap.xml": "slow:4", "/en/rss": "slow:2", "/*/rss.xml": "slow:2"}}
    state = {"ARABTODAY_STATE_DIR": str(tmp_path / "state")}
    with serving(root, tmp_path, changes) as server:
        first = crawl(server.base, tmp_path / "run1.jsonl", "lang=en", settings=state, server=server)
        assert first.returncode == 0, first.tail()
        assert EDITED in first.by_id
        # the article is edited; its new lastmod is *older* than the first run's fetch time
        page = root / path.lstrip("/") / "index.html"
        page.write_text(page.read_text("utf-8").replace(
            "<p>The electoral commission extended", "<p>Corrected: The electoral commission extended", 1), "utf-8")
        sitemap = root / "sitemaps" / "en-2017-10.xml"
        old_entry = "railway-link</loc><lastmod>2017-10-09T00:30:00+00:00"
        assert old_entry in sitemap.read_text("utf-8")
        sitemap.write_text(sitemap.read_text("utf-8").replace(
            old_entry, "railway-link</loc><lastmod>2020-01-01T00:00:00+00:00"), "utf-8")
        second = crawl(server.base, tmp_path / "run2.jsonl", "lang=en", settings=state, server=server)
    assert article_requests(second.requests) == [EDITED], "only the edited article is fetched, once"
    assert [r["id"] for r in second.records] == [EDITED]
    record = second.records[0]
    assert record["body"].startswith("Corrected: ")
    assert record["content_hash"] != first.by_id[EDITED]["content_hash"]
    assert second.stats.get("arabtoday/emitted/updated") == 1
    assert not second.stats.get("arabtoday/emitted/new")
    assert_accounted(second)
    assert_exit(second, 0)


# -- 3. responses cut short ---------------------------------------------------------------------------------------

def middle_of_body(root: Path, path: str) -> float:
    """Where (as a share of the page) the middle of the article's text is: a cut there is mid-article."""
    html = (root / path.lstrip("/") / "index.html").read_text("utf-8")
    start = html.index('<div class="article-body">')
    end = html.index('<p class="article-source">', start) if '<p class="article-source">' in html[start:] \
        else html.index("</div>", start)
    return round((start + end) / 2 / len(html), 3)


def test_cut_or_held_responses_are_retried_then_failed_but_an_unclosed_old_page_is_emitted(tmp_path: Path) -> None:
    root = copy_site(tmp_path)
    cut = article_path(root, "en", 104312)  # no Content-Length, connection closed mid-article, every time
    short = article_path(root, "en", 104318)  # Content-Length larger than what is sent, every time
    old = article_path(root, "en", 104315)  # whole page, no Content-Length, no closing </body></html>
    held = article_path(root, "en", 104321)  # never answers: held until the client times out
    changes = {"faults": {cut: f"cut:{middle_of_body(root, cut)}", short: "truncate",
                          old: ["no-length", "unclosed"], held: "hang"}}
    settings = {"RETRY_TIMES": str(RETRIES), "DOWNLOAD_TIMEOUT": str(HELD_TIMEOUT)}
    with serving(root, tmp_path, changes) as server:
        result = crawl(server.base, tmp_path / "out.jsonl", "lang=en", settings=settings, server=server)
    seen = Counter(plain_path(r) for r in result.requests)
    assert (seen[cut], seen[short], seen[held]) == (1 + RETRIES,) * 3, (seen[cut], seen[short], seen[held])
    failed = {"en-104312", "en-104318", "en-104321"}
    assert not failed & set(result.by_id)
    assert result.stats.get(FAILED + "truncated") == 2, result.stats_under(FAILED)
    assert result.stats.get(FAILED + "timeout") == 1, result.stats_under(FAILED)
    want = originals(server.base)
    assert_same_fields(result.by_id["en-104315"], want["en-104315"])
    assert set(result.by_id) == {k for k in want if k.startswith("en-")} - failed
    assert_accounted(result)
    assert_exit(result, 3)


# -- 4. bad configuration, unreachable site, stdout ---------------------------------------------------------------

@pytest.mark.parametrize(("setting", "value", "status"), [
    ("ARABTODAY_NEAR_DUP_THRESHOLD", "2", 2),
    ("ARABTODAY_INCREMENTAL", "maybe", 2),
    ("ARABTODAY_STAET_DIR", "x", 2),  # misspelled ARABTODAY_STATE_DIR
    ("ARABTODAY_STATE_DIR", "<a file>", 7),
])
def test_bad_configuration_stops_before_any_request(snapshot_server: Server, tmp_path: Path, setting: str,
                                                    value: str, status: int) -> None:
    if value == "<a file>":
        blocker = tmp_path / "not-a-directory"
        blocker.write_text("a file where the state directory should be\n")
        value = str(blocker)
    result = crawl(snapshot_server.base, tmp_path / "out.jsonl", settings={setting: value}, server=snapshot_server,
                   timeout=120)
    assert result.returncode == status, f"exit {result.returncode}, want {status}:\n{result.tail()}"
    assert result.requests == [], "nothing may be requested with a bad configuration"
    assert "Traceback" not in result.log, result.tail()
    naming = [line for line in result.stderr.splitlines() if setting in line]
    assert naming, f"no line of stderr names {setting}:\n{result.stderr[-2000:]}"


@pytest.mark.parametrize("base", ["http://127.0.0.1:{closed}", "http://arabtoday.invalid"])
def test_unreachable_site_exits_6_quickly(tmp_path: Path, base: str) -> None:
    closed = free_port()  # nothing listens there
    result = crawl(base.format(closed=closed), tmp_path / "out.jsonl", timeout=UNREACHABLE_SECONDS * 2)
    assert result.seconds < UNREACHABLE_SECONDS, f"took {result.seconds:.1f} s"
    assert result.records == []
    assert_exit(result, 6)


def test_stdout_output_yields_records_and_no_seek_error(snapshot_server: Server, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    result = crawl(snapshot_server.base, tmp_path / "unused.jsonl", "lang=ar", outputs=["-o", "-:jsonl"],
                   report=report)
    assert "Illegal seek" not in result.log, result.tail()
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert {r["id"] for r in records} == {k for k in originals(snapshot_server.base) if k.startswith("ar-")}
    assert_emitted_once(records)
    assert_exit(result, 0)


# -- 5. errors after extraction -----------------------------------------------------------------------------------

def test_output_not_writable_exits_4_with_report(snapshot_server: Server, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    result = crawl(snapshot_server.base, tmp_path / "unused.jsonl", "lang=ar", outputs=["-O", "/dev/full:jsonl"],
                   report=report)
    assert report.exists(), "the report is written even when the output is not"
    assert result.stats.get("arabtoday/errors/output", 0) >= 1, result.stats
    assert "Traceback" not in result.log, result.tail()
    assert_exit(result, 4)


def garble_sqlite_files(directory: Path) -> list[Path]:
    """Overwrite every SQLite database under ``directory`` with garbage bytes (same size or more)."""
    garbled = []
    for path in directory.rglob("*"):
        if path.is_file() and path.read_bytes()[:len(SQLITE_MAGIC)] == SQLITE_MAGIC:
            path.write_bytes(GARBAGE)
            garbled.append(path)
    return garbled


def test_corrupt_state_exits_7_with_one_clear_line(snapshot_server: Server, tmp_path: Path) -> None:
    state = {"ARABTODAY_STATE_DIR": str(tmp_path / "state")}
    first = crawl(snapshot_server.base, tmp_path / "run1.jsonl", "lang=ar", settings=state)
    assert first.returncode == 0, first.tail()
    assert garble_sqlite_files(tmp_path / "state"), "the first run left no SQLite state to corrupt"
    second = crawl(snapshot_server.base, tmp_path / "run2.jsonl", "lang=ar", settings=state,
                   server=snapshot_server)
    assert "Traceback" not in second.log, second.tail()
    assert [line for line in second.stderr.splitlines() if "state" in line.lower()], second.stderr[-2000:]
    assert article_requests(second.requests) == []
    assert second.returncode == 7, f"exit {second.returncode}:\n{second.tail()}"


@pytest.fixture(scope="module")
def slow_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The snapshot with every article page answering after a delay: crawls that last."""
    workdir = tmp_path_factory.mktemp("slow-site")
    root = copy_site(workdir)
    with serving(root, workdir, {"faults": {"/*/*/[0-9]*": f"slow:{SLOW_ARTICLE_SECONDS}"}}) as server:
        yield server


# both: against a slow first byte, Scrapy 2.19 lets more than CONCURRENT_REQUESTS_PER_DOMAIN run at once
SLOW_SETTINGS = {"CONCURRENT_REQUESTS": "2", "CONCURRENT_REQUESTS_PER_DOMAIN": "2"}


def wait_for_article_requests(server: Server, before: int, count: int, proc) -> None:
    wait_until(lambda: len(article_requests(server.requests()[before:])) >= count, proc,
               f"a crawl reaching {count} article requests", timeout=60)


def test_second_run_on_the_same_state_refuses_to_start(slow_site: Server, tmp_path: Path) -> None:
    settings = {**SLOW_SETTINGS, "ARABTODAY_STATE_DIR": str(tmp_path / "state")}
    before = len(slow_site.requests())
    started = time.monotonic()
    first = start_crawl(slow_site.base, tmp_path / "run1.jsonl", "lang=ar", settings=settings)
    wait_for_article_requests(slow_site, before, 1, first)
    second = crawl(slow_site.base, tmp_path / "run2.jsonl", "lang=ar", settings=settings, timeout=60)
    still_running = first.poll() is None
    first_result = finish_crawl(first, tmp_path / "run1.jsonl", timeout=120, started=started)
    assert second.returncode == 7, f"exit {second.returncode}:\n{second.tail()}"
    assert "Traceback" not in second.log, second.tail()
    assert second.records == []
    assert still_running, "the first run should still have been crawling (the site is slow)"
    assert first_result.returncode == 0, first_result.tail()
    assert len(first_result.records) == 8


def test_sigterm_exits_143_with_whole_output_and_report(slow_site: Server, tmp_path: Path) -> None:
    settings = {**SLOW_SETTINGS, "ARABTODAY_STATE_DIR": str(tmp_path / "state")}
    output = tmp_path / "out.jsonl"
    before = len(slow_site.requests())
    started = time.monotonic()
    proc = start_crawl(slow_site.base, output, "lang=en", settings=settings)
    wait_for_article_requests(slow_site, before, 4, proc)
    proc.send_signal(signal.SIGTERM)
    result = finish_crawl(proc, output, timeout=90, started=started)
    assert result.returncode == 143, f"exit {result.returncode}:\n{result.tail()}"
    assert output.exists(), "the output file is whole, even if empty"
    assert len(result.records) < len({k for k in originals(slow_site.base) if k.startswith("en-")})
    assert_emitted_once(read_jsonl(output))
    assert result.report, "the report is written on SIGTERM"
    assert_accounted(result)
    assert_exit(result, 143)


# -- 6. blocked -----------------------------------------------------------------------------------------------------

BLOCKED_WINDOW = 6
BLOCKED_SITE_ARTICLES = 300


@pytest.mark.parametrize("block", ["403", "block-page"])
def test_blocking_site_stops_the_run_early(tmp_path: Path, block: str) -> None:
    root = tmp_path / "www"
    total = len(generate(root, BLOCKED_SITE_ARTICLES))  # an archive worth stopping early in
    with serving(root, tmp_path, {"faults": {"/*/*/[0-9]*": block}}) as server:
        result = crawl(server.base, tmp_path / "out.jsonl", server=server, settings={
            "ARABTODAY_BLOCKED_WINDOW": str(BLOCKED_WINDOW), "ARABTODAY_BLOCKED_RATIO": "0.8",
            "CONCURRENT_REQUESTS": "2", "CONCURRENT_REQUESTS_PER_DOMAIN": "2"})
    fetched = set(article_requests(result.requests))
    assert fetched, "the crawl never reached an article"
    assert len(fetched) < total // 4, f"{len(fetched)} of {total} articles requested: the run did not stop early"
    assert result.records == []
    assert result.stats.get(FAILED + "blocked", 0) >= BLOCKED_WINDOW * 0.8, result.stats_under(FAILED)
    assert result.stats.get("arabtoday/articles/unfinished/blocked", 0) >= 1, result.stats_under("arabtoday/articles/")
    assert_accounted(result)
    assert_exit(result, 5)


# -- 7. every output format keeps the state -------------------------------------------------------------------------

def read_ids(path: Path) -> list[str]:
    """The record ids of a feed file, whatever its format (csv, json or jsonl)."""
    if path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as fh:
            return [row["id"] for row in csv.DictReader(fh)]
    if path.suffix == ".json":
        return [r["id"] for r in json.loads(path.read_text("utf-8"))]
    return [r["id"] for r in read_jsonl(path)]


@pytest.mark.parametrize(("first_feeds", "second_feed"), [
    (["x.csv"], "y.json"),
    (["y.json"], "x.csv"),
    (["a.jsonl", "b.csv"], "c.json"),
])
def test_every_output_format_advances_the_state(snapshot_server: Server, tmp_path: Path, first_feeds: list[str],
                                                 second_feed: str) -> None:
    settings = {"ARABTODAY_STATE_DIR": str(tmp_path / "state")}
    arabic = {k for k in originals(snapshot_server.base) if k.startswith("ar-")}
    outputs = [opt for name in first_feeds for opt in ("-o", str(tmp_path / name))]
    first = crawl(snapshot_server.base, tmp_path / "r1", "lang=ar", outputs=outputs, settings=settings,
                  report=tmp_path / "r1.json")
    assert first.returncode == 0, first.tail()
    for name in first_feeds:
        assert sorted(read_ids(tmp_path / name)) == sorted(arabic), name
    second = crawl(snapshot_server.base, tmp_path / "r2", "lang=ar", outputs=["-o", str(tmp_path / second_feed)],
                   settings=settings, server=snapshot_server, report=tmp_path / "r2.json")
    assert second.returncode == 0, second.tail()
    assert article_requests(second.requests) == [], "the first run's state said every article is done"
    assert read_ids(tmp_path / second_feed) == []
    assert_accounted(second)
    assert_exit(second, 0)
