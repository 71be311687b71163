"""Distributed mode: workers, one real Redis, one crawl; the README's recipe as written
(seeder first, a worker a second later) on a site with slow and failing pages; a Redis that
dies mid-run; a Redis that may evict keys."""

from __future__ import annotations

import json
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from arabtoday.distributed.workers import BUSY_TTL_FACTOR, HEARTBEAT_SECONDS
from arabtoday.state.redis import ALIVE_KEY
from conftest import (
    FAST,
    ROOT,
    Server,
    article_path,
    copy_site,
    expected_records,
    free_port,
    read_jsonl,
    recipe,
    redis_binary,
    site_meta,
    start_redis,
    start_server,
    unavailable,
    wait_until,
    write_site_meta,
)
from devkit.launch import crawl_command
from devkit.sitegen import generate

pytestmark = [pytest.mark.e2e, pytest.mark.redis]
GENERATED_ARTICLES = 150


def slow_generated_site(root: Path, articles: int) -> Iterator[tuple[Server, dict[str, str]]]:
    """A generated site of ``articles`` whose every article page answers slowly, served; its article paths."""
    generate(root / "www", articles)
    paths = article_paths(root / "www")
    meta = site_meta(root / "www")
    meta["faults"] = {path: "slow" for path in paths.values()}
    write_site_meta(root / "www", meta)
    server = start_server(root / "www", root)
    yield server, paths
    server.stop()


def assert_report_adds_up(output: Path, status: int) -> dict[str, object]:
    """The report beside ``output``: its exit status, and an accounting that adds up on its own."""
    report = json.loads(output.with_name(output.name + ".report.json").read_text("utf-8"))
    assert report["exit_status"]["code"] == status, report["exit_status"]
    accounting = report["accounting"]
    assert accounting["difference"] == 0 and accounting["requested"] == accounting["sum"], accounting
    return report


def worker(base: str, redis_url: str, prefix: str, output: Path, role: str,
           **extra: str) -> subprocess.Popen[bytes]:
    settings = {**FAST, "ARABTODAY_REDIS_URL": redis_url, "ARABTODAY_REDIS_PREFIX": prefix,
                "ARABTODAY_REDIS_IDLE_SECONDS": "3", "DOWNLOAD_DELAY": "0.02", "CONCURRENT_REQUESTS_PER_DOMAIN": "2",
                "ARABTODAY_STATE_DIR": str(output.parent / f"unused-{role}"), **extra}
    return launch(crawl_command(base, output, f"role={role}", settings=settings), output)


def launch(cmd: list[str], output: Path) -> subprocess.Popen[bytes]:
    log = output.with_suffix(".log").open("wb")
    return subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)


def readme_recipe() -> list[list[str]]:
    """The distributed recipe's command lines (:func:`conftest.recipe`: the README, the docs, or the
    proposed text in docs/readme/distributed.md): the seeder's first, then the worker's."""
    block = recipe("distributed")
    lines = [shlex.split(line) for line in block.splitlines() if line.startswith("scrapy ")]
    assert len(lines) == 2, block
    return lines


def as_run_here(line: list[str], redis_url: str, base: str, output: Path, **settings: str) -> list[str]:
    """A recipe line run against the test's Redis and site: the recipe's own arguments and
    settings as written, the machine-specific parts replaced (the Redis address), and the test's
    output, key prefix and shortened politeness added."""
    assert line[:3] == ["scrapy", "crawl", "arabtoday"], line
    args = [arg.replace("redis://redis-host:6379/0", redis_url) for arg in line[3:]]
    extra = crawl_command(base, output, settings={**FAST, "ARABTODAY_STATE_DIR": str(output.parent / "unused"),
                                                  "CONCURRENT_REQUESTS_PER_DOMAIN": "2", **settings})
    return [sys.executable, "-m", "scrapy", "crawl", "arabtoday", *args, *extra[extra.index("-a"):]]


@pytest.fixture(scope="module")
def large_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, list[str]]]:
    """A generated site big enough that the shared queue is rarely empty (the snapshot's
    31 articles are gone before a second worker has started)."""
    root = tmp_path_factory.mktemp("large-site")
    ids = generate(root / "www", GENERATED_ARTICLES)
    server = start_server(root / "www", root)
    yield server, ids
    server.stop()


def test_two_workers_share_one_crawl(redis_url: str, tmp_path: Path) -> None:
    """The snapshot, split between two workers: each article's record written once, and the outputs
    merged into one row per story (the original, whichever worker met which copy first). Article pages
    answer only once both workers are up, and then in 0.4 s each, so that the seeder cannot be done
    before the second has started, however slowly it starts, nor before it has taken its share."""
    root = copy_site(tmp_path)
    meta = site_meta(root)
    meta["faults"] = {"/*/*/[0-9]*/*": [f"gate:{gate_of(tmp_path)}", "slow:0.4"]}
    write_site_meta(root, meta)
    snapshot_server = start_server(root, tmp_path)
    prefix = f"arabtoday-test-{uuid.uuid4().hex[:8]}"
    r = redis.Redis.from_url(redis_url)
    try:
        seed = worker(snapshot_server.base, redis_url, prefix, tmp_path / "seed.jsonl", "seed")
        second = worker(snapshot_server.base, redis_url, prefix, tmp_path / "worker.jsonl", "worker")
        open_gate_when_both_up(r, prefix, second, gate_of(tmp_path))
        assert seed.wait(timeout=180) == 0, (tmp_path / "seed.log").read_text()[-3000:]
        assert second.wait(timeout=180) == 0, (tmp_path / "worker.log").read_text()[-3000:]
    finally:
        snapshot_server.stop()
    by_worker = {name: read_jsonl(tmp_path / f"{name}.jsonl") for name in ("seed", "worker")}
    reports = {name: json.loads((tmp_path / f"{name}.jsonl.report.json").read_text("utf-8")) for name in by_worker}
    emitted = {name: report["accounting"]["emitted"] for name, report in reports.items()}
    assert all(emitted.values()), emitted  # the second worker took articles from the shared queue too
    live = [rec for lines in by_worker.values() for rec in lines if rec["status"] == "live"]
    ids = [rec["id"] for rec in live]
    assert len(ids) == len(set(ids)), "an article was emitted by both workers"
    every = expected_records(snapshot_server.base)
    for rec in live:
        assert rec == {**rec, **every[rec["id"]], "duplicate_of": None}
    # the shared state knows every article, and the run merges into one row per story
    assert r.hlen(f"{prefix}:articles") >= len(every)
    merged = tmp_path / "merged.jsonl"
    result = subprocess.run([sys.executable, "-m", "arabtoday", "merge", str(merged), str(tmp_path / "seed.jsonl"),
                             str(tmp_path / "worker.jsonl")], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    stories = {rec["id"]: rec for rec in read_jsonl(merged)}
    assert set(stories) == {k for k, v in every.items() if not v["duplicate_of"]}
    for copy, original in ((k, v["duplicate_of"]) for k, v in every.items() if v["duplicate_of"]):
        assert copy in stories[original]["copies"]
    for key in r.scan_iter(f"{prefix}:*"):
        r.delete(key)


def test_copies_on_two_workers_keep_the_original(redis_url: str, tmp_path: Path) -> None:
    """The republished copy and its original answer slowly (each worker fetches one page at a time), so
    that while one worker holds one of them the other takes the other; the copy answers first. Whichever
    worker claims first, the shared index makes the one published first the original."""
    root = copy_site(tmp_path)
    original_path, copy_path = article_path(root, "en", 104306), article_path(root, "en", 104399)
    meta = site_meta(root)
    meta["faults"] = {copy_path: "slow:2", original_path: "slow:5"}
    write_site_meta(root, meta)
    server = start_server(root, tmp_path)
    prefix = f"arabtoday-test-{uuid.uuid4().hex[:8]}"
    one_at_a_time = {"CONCURRENT_REQUESTS_PER_DOMAIN": "1", "ARABTODAY_DEDUP_HOLD_SECONDS": "0.5"}
    try:
        procs = {name: worker(server.base, redis_url, prefix, tmp_path / f"{name}.jsonl", name,
                              USER_AGENT=f"arabtoday-test-{name}", **one_at_a_time) for name in ("seed", "worker")}
        for name, proc in procs.items():
            assert proc.wait(timeout=180) == 0, (tmp_path / f"{name}.log").read_text()[-3000:]
        fetched_by = {path: {r["ua"].removeprefix("arabtoday-test-") for r in server.requests() if r["path"] == path}
                      for path in (original_path, copy_path)}
    finally:
        server.stop()
    assert all(len(who) == 1 for who in fetched_by.values()), fetched_by  # each fetched once
    assert fetched_by[original_path] != fetched_by[copy_path], fetched_by  # by two workers: the case of this test
    lines = {name: read_jsonl(tmp_path / f"{name}.jsonl") for name in procs}
    original = next(rec for recs in lines.values() for rec in recs if rec["id"] == "en-104306")
    assert original["status"] == "live" and original["copies"] == ["en-104399"]
    assert any(rec["id"] == "en-104399" and rec["status"] == "live" for recs in lines.values() for rec in recs), \
        "the copy was not claimed first"
    corrections = [rec for recs in lines.values() for rec in recs if rec["status"] == "superseded"]
    assert [(c["id"], c["duplicate_of"]) for c in corrections] == [("en-104399", "en-104306")]
    merged = tmp_path / "merged.jsonl"
    result = subprocess.run([sys.executable, "-m", "arabtoday", "merge", str(merged),
                             *(str(tmp_path / f"{name}.jsonl") for name in ("worker", "seed"))],
                            cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    stories = {rec["id"]: rec for rec in read_jsonl(merged)}
    assert "en-104399" not in stories and stories["en-104306"]["copies"] == ["en-104399"]
    r = redis.Redis.from_url(redis_url)
    for key in r.scan_iter(f"{prefix}:*"):
        r.delete(key)


def test_two_workers_split_a_large_crawl(large_site: tuple[Server, list[str]], redis_url: str,
                                         tmp_path: Path) -> None:
    server, expected = large_site
    prefix = f"arabtoday-test-{uuid.uuid4().hex[:8]}"
    procs = [worker(server.base, redis_url, prefix, tmp_path / "seed.jsonl", "seed"),
             worker(server.base, redis_url, prefix, tmp_path / "worker.jsonl", "worker")]
    for proc, name in zip(procs, ("seed", "worker"), strict=True):
        assert proc.wait(timeout=300) == 0, (tmp_path / f"{name}.log").read_text()[-3000:]
    by_worker = {name: read_jsonl(tmp_path / f"{name}.jsonl") for name in ("seed", "worker")}
    assert all(len(v) > GENERATED_ARTICLES // 10 for v in by_worker.values()), {k: len(v) for k, v in by_worker.items()}
    ids = [rec["id"] for records in by_worker.values() for rec in records]
    assert len(ids) == len(set(ids)), "an article was emitted by both workers"
    assert sorted(ids) == expected
    article_fetches = [r["path"] for r in server.requests() if re.match(r"^/(en|ar)/[^/]+/\d+/", r["path"])]
    assert len(article_fetches) == len(set(article_fetches)) == len(expected)  # each page fetched once
    r = redis.Redis.from_url(redis_url)
    for key in r.scan_iter(f"{prefix}:*"):
        r.delete(key)


# -- the README's recipe, as written, on a site with slow and failing pages -------------------------------------

RECIPE_ARTICLES = 80
SLOW_PAGES = 6  # the dev server holds each for 1.5 s, longer than the others' calm (1 s)
RECOVERING_PAGES = 3  # 503 once, then fine: retried
BROKEN_PAGES = 1  # 500 every time: failed for good, the run exits 3
RECIPE = {"ARABTODAY_REDIS_IDLE_SECONDS": "1", "ARABTODAY_RETRY_BACKOFF_BASE": "0.1", "RETRY_TIMES": "2",
          "DOWNLOAD_DELAY": "0.05"}
BUCKETS = ("emitted", "skipped", "duplicate", "dropped", "failed", "unfinished")


def article_paths(www: Path) -> dict[str, str]:
    """Article id -> the address path the site serves it under (the generated tree: one folder each)."""
    paths = {}
    for page in sorted(www.glob("*/*/*/*/index.html")):
        lang, _section, number, _slug = page.parent.relative_to(www).parts
        paths[f"{lang}-{number}"] = "/" + urllib.parse.quote(str(page.parent.relative_to(www)), safe="/-")
    return paths


def accounting_of(report: dict[str, object]) -> tuple[int, int]:
    """(requested, sum of the buckets) from the report: its accounting once the report has one,
    else the raw stats."""
    accounting = report.get("accounting")
    if isinstance(accounting, dict):
        assert accounting["difference"] == 0, accounting
        return int(accounting["requested"]), int(accounting["sum"])
    stats = report["stats"]
    assert isinstance(stats, dict)
    settled = sum(int(v) for k, v in stats.items()
                  if k == "arabtoday/articles/emitted"
                  or any(k.startswith(f"arabtoday/articles/{b}/") for b in BUCKETS))
    return int(stats.get("arabtoday/articles/requested", 0)), settled


def gate_of(root: Path) -> Path:
    """The file that releases the faulty site's held article pages."""
    return root / "gate-open"


def open_gate_when_both_up(r: redis.Redis, prefix: str, second: subprocess.Popen[bytes], gate: Path) -> None:
    """Once two workers say they are alive in Redis, the site's held article pages answer: an event, so
    that a seeder cannot crawl the site alone however slowly the second worker starts."""
    alive = f"{prefix}:{ALIVE_KEY.format(worker='*')}"
    wait_until(lambda: len(list(r.scan_iter(alive))) >= 2, second, "the second worker joining")
    gate.touch()


@pytest.fixture(scope="module")
def faulty_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, str], set[str]]]:
    """A generated site where some article pages are slow, some fail once, one always fails, and the
    others are held until :func:`gate_of` the site exists (the test opens it once the worker is up)."""
    root = tmp_path_factory.mktemp("faulty-site")
    generate(root / "www", RECIPE_ARTICLES)
    paths = article_paths(root / "www")
    ids = sorted(paths)
    assert len(ids) == RECIPE_ARTICLES
    spread = ids[::len(ids) // (SLOW_PAGES + RECOVERING_PAGES + BROKEN_PAGES)]
    slow, recovering, broken = (spread[:SLOW_PAGES], spread[SLOW_PAGES:SLOW_PAGES + RECOVERING_PAGES],
                                spread[SLOW_PAGES + RECOVERING_PAGES:SLOW_PAGES + RECOVERING_PAGES + BROKEN_PAGES])
    meta = site_meta(root / "www")
    meta["faults"] = {**{paths[i]: f"gate:{gate_of(root)}" for i in ids},
                      **{paths[i]: "slow" for i in slow}, **{paths[i]: "503-once" for i in recovering},
                      **{paths[i]: "500" for i in broken}}
    write_site_meta(root / "www", meta)
    server = start_server(root / "www", root)
    yield server, paths, set(broken)
    server.stop()


def test_readme_recipe_seeder_then_worker(faulty_site: tuple[Server, dict[str, str], set[str]], redis_url: str,
                                          tmp_path: Path) -> None:
    """Seeder first, a worker one second later: both fetch article pages, the union is every
    article that does not fail, each once, each exits with its own right status, and each
    report's accounting adds up."""
    server, paths, broken = faulty_site
    prefix = f"arabtoday-test-{uuid.uuid4().hex[:8]}"
    before = len(server.requests())
    seed_line, worker_line = readme_recipe()
    assert "role=seed" in seed_line and "role=worker" in worker_line
    settings = {**RECIPE, "ARABTODAY_REDIS_PREFIX": prefix}
    seed = launch(as_run_here(seed_line, redis_url, server.base, tmp_path / "seed.jsonl", **settings),
                  tmp_path / "seed.jsonl")
    queue = redis.Redis.from_url(redis_url)
    wait_until(lambda: queue.zcard(f"{prefix}:requests") > 0, seed, "the seeder filling the shared queue")
    second = launch(as_run_here(worker_line, redis_url, server.base, tmp_path / "worker.jsonl", **settings),
                    tmp_path / "worker.jsonl")
    # the article pages wait for the worker: a seeder that started first cannot finish the run alone
    # however slowly the worker starts (a loaded CI took longer to start one than to crawl 80 pages)
    open_gate_when_both_up(queue, prefix, second, gate_of(server.root.parent))
    codes = {"seed": seed.wait(timeout=120), "worker": second.wait(timeout=120)}
    by_worker = {name: read_jsonl(tmp_path / f"{name}.jsonl") for name in codes}
    reports = {name: json.loads((tmp_path / f"{name}.jsonl.report.json").read_text("utf-8")) for name in codes}
    logs = {name: (tmp_path / f"{name}.log").read_text()[-3000:] for name in codes}
    assert all(by_worker.values()), ({k: len(v) for k, v in by_worker.items()}, logs)  # both did a share
    ids = [rec["id"] for records in by_worker.values() for rec in records]
    assert len(ids) == len(set(ids)), "an article was emitted by both workers"
    assert set(ids) == set(paths) - broken
    for name, report in reports.items():
        stats = report["stats"]
        failed = sum(v for k, v in stats.items() if k.startswith("arabtoday/articles/failed/"))
        assert codes[name] == (3 if failed else 0), (name, logs[name])
        requested, settled = accounting_of(report)
        assert requested == settled, (name, stats)
    assert sum(accounting_of(r)[0] for r in reports.values()) >= len(paths)
    fetched = [r["path"] for r in server.requests()[before:]]
    for article_id in broken:
        assert fetched.count(paths[article_id]) == 1 + int(RECIPE["RETRY_TIMES"])  # retried, then failed
    assert {codes["seed"], codes["worker"]} == {0, 3}
    r = redis.Redis.from_url(redis_url)
    assert not list(r.scan_iter(f"{prefix}:busy:*")) and not list(r.scan_iter(f"{prefix}:taken:*"))
    for key in r.scan_iter(f"{prefix}:*"):
        r.delete(key)


# -- Redis lost, Redis that may evict ----------------------------------------------------------------------------

REDIS_TIMEOUT = 3  # ARABTODAY_REDIS_TIMEOUT in the test
STOP_SLACK = 12  # heartbeat, one slow page in flight, closing the feed and the report


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    binary = redis_binary()
    if not binary:
        unavailable("no redis-server binary: this test must kill its own server")
    proc, url = start_redis(binary, tmp_path)
    yield proc, url
    if proc.poll() is None:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def slow_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, str]]]:
    """Every article page slow: a crawl of it is still running when its Redis dies."""
    yield from slow_generated_site(tmp_path_factory.mktemp("slow-site"), 40)


def test_lost_redis_stops_a_worker_in_bounded_time(slow_site: tuple[Server, dict[str, str]],
                                                   own_redis: tuple[subprocess.Popen[bytes], str],
                                                   tmp_path: Path) -> None:
    server, paths = slow_site
    redis_proc, url = own_redis
    before = len(server.requests())
    proc = worker(server.base, url, "lost", tmp_path / "seed.jsonl", "seed",
                  ARABTODAY_REDIS_TIMEOUT=str(REDIS_TIMEOUT))
    article_paths_ = set(paths.values())
    wait_until(lambda: any(r["path"] in article_paths_ for r in server.requests()[before:]), proc,
               "the crawl's first article fetch", timeout=60)
    # the heartbeat goes on while every response is slow: the busy key keeps being refreshed
    busy = redis.Redis.from_url(url)
    busy_key = f"lost:busy:{socket.gethostname()}-{proc.pid}"
    watched_until = time.monotonic() + 3 * HEARTBEAT_SECONDS
    ttls = []
    while time.monotonic() < watched_until:  # watched throughout three heartbeats, not sampled after sleeps
        ttls.append(busy.pttl(busy_key))
    present = [ttl for ttl in ttls if ttl >= 0]  # the key is dropped while nothing is in flight
    assert len(present) > len(ttls) // 2, "the worker was not busy for most of three heartbeats"
    assert min(present) >= (BUSY_TTL_FACTOR - 1.5) * HEARTBEAT_SECONDS * 1000, min(present)
    redis_proc.send_signal(signal.SIGKILL)
    redis_proc.wait(timeout=10)
    killed = time.monotonic()
    try:
        code = proc.wait(timeout=REDIS_TIMEOUT + STOP_SLACK)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the worker hangs with its Redis gone:\n" + (tmp_path / "seed.log").read_text()[-3000:])
    elapsed = time.monotonic() - killed
    log = (tmp_path / "seed.log").read_text()
    assert code == 4, log[-3000:]
    assert elapsed <= REDIS_TIMEOUT + STOP_SLACK
    assert re.search(r"ERROR: Redis lost", log), log[-3000:]
    read_jsonl(tmp_path / "seed.jsonl")  # whole: no torn line
    assert_report_adds_up(tmp_path / "seed.jsonl", 4)


def test_redis_that_may_evict_is_refused(snapshot_server: Server, tmp_path: Path) -> None:
    binary = redis_binary()
    if not binary:
        unavailable("no redis-server binary")
    proc, url = start_redis(binary, tmp_path, "--maxmemory", "100mb", "--maxmemory-policy", "allkeys-lru")
    before = len(snapshot_server.requests())
    try:
        result = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "arabtoday", "-a",
                                 f"base_url={snapshot_server.base}", "-O", str(tmp_path / "out.jsonl"),
                                 "-s", f"ARABTODAY_REDIS_URL={url}", "-s", "LOG_LEVEL=ERROR"],
                                cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert result.returncode == 7, result.stderr[-3000:]
    lines = [line for line in result.stderr.splitlines() if line.startswith("arabtoday:")]
    assert len(lines) == 1 and "maxmemory-policy allkeys-lru" in lines[0], result.stderr[-3000:]
    assert snapshot_server.requests()[before:] == [], "the site was asked for something before the refusal"
    assert assert_report_adds_up(tmp_path / "out.jsonl", 7)["accounting"]["requested"] == 0


# -- a worker that dies ------------------------------------------------------------------------------------------

DYING_ARTICLES = 20


def whole_lines(path: Path) -> list[dict[str, object]]:
    """A killed worker's file: its whole lines (the last may be torn by the kill)."""
    data = path.read_bytes() if path.exists() else b""
    return [json.loads(line) for line in data[:data.rfind(b"\n") + 1].decode("utf-8").splitlines()]


@pytest.fixture(scope="module")
def all_slow_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, str]]]:
    yield from slow_generated_site(tmp_path_factory.mktemp("all-slow-site"), DYING_ARTICLES)


def test_a_killed_workers_requests_come_back(all_slow_site: tuple[Server, dict[str, str]], redis_url: str,
                                             tmp_path: Path) -> None:
    """SIGKILL a worker while it holds requests: once its alive key expires the seeder puts them
    back in the queue and fetches them; the union of outputs is complete."""
    server, paths = all_slow_site
    prefix = f"arabtoday-test-{uuid.uuid4().hex[:8]}"
    r = redis.Redis.from_url(redis_url)
    seed = worker(server.base, redis_url, prefix, tmp_path / "seed.jsonl", "seed", ARABTODAY_REDIS_IDLE_SECONDS="1")
    wait_until(lambda: r.zcard(f"{prefix}:requests") > 0, seed, "the seeder filling the shared queue")
    doomed = worker(server.base, redis_url, prefix, tmp_path / "worker.jsonl", "worker",
                    ARABTODAY_REDIS_IDLE_SECONDS="1")
    doomed_taken = f"{prefix}:taken:{socket.gethostname()}-{doomed.pid}"
    wait_until(lambda: r.hlen(doomed_taken) > 0, doomed, "the worker taking requests", timeout=60)
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=10)
    held = r.hlen(doomed_taken)
    assert held > 0
    assert seed.wait(timeout=120) == 0, (tmp_path / "seed.log").read_text()[-3000:]
    report = assert_report_adds_up(tmp_path / "seed.jsonl", 0)
    assert report["stats"].get("arabtoday/distributed/requests_requeued", 0) >= held
    seeded = read_jsonl(tmp_path / "seed.jsonl")
    ids = {rec["id"] for rec in seeded} | {str(rec["id"]) for rec in whole_lines(tmp_path / "worker.jsonl")}
    assert ids == set(paths)
    assert len(seeded) == len({rec["id"] for rec in seeded})
    assert not list(r.scan_iter(f"{prefix}:taken:*"))
    for key in r.scan_iter(f"{prefix}:*"):
        r.delete(key)


def test_unreachable_redis_at_start_is_one_line_and_status_4(snapshot_server: Server, tmp_path: Path) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    result = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "arabtoday", "-a",
                             f"base_url={snapshot_server.base}", "-O", str(tmp_path / "out.jsonl"),
                             "-s", f"ARABTODAY_REDIS_URL={url}", "-s", "LOG_LEVEL=ERROR"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 4, result.stderr[-3000:]
    lines = [line for line in result.stderr.splitlines() if line.startswith("arabtoday:")]
    assert len(lines) == 1 and "unreachable" in lines[0], result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert assert_report_adds_up(tmp_path / "out.jsonl", 4)["accounting"]["requested"] == 0


def test_the_default_output_is_one_file_per_worker(snapshot_server: Server, redis_url: str, tmp_path: Path) -> None:
    """Two workers on one host started in the same second must not share the default output file."""
    prefix = f"arabtoday-test-{uuid.uuid4().hex[:8]}"
    settings = {**FAST, "ARABTODAY_REDIS_URL": redis_url, "ARABTODAY_REDIS_PREFIX": prefix,
                "ARABTODAY_REDIS_IDLE_SECONDS": "1", "ARABTODAY_STATE_DIR": str(tmp_path / "unused"),
                "ARABTODAY_DEFAULT_FEED": str(tmp_path / "out-%(lang)s.jsonl")}
    proc = launch(crawl_command(snapshot_server.base, None, "role=seed", settings=settings), tmp_path / "seed.jsonl")
    assert proc.wait(timeout=120) == 0, (tmp_path / "seed.log").read_text()[-3000:]
    written = [p.name for p in tmp_path.glob("out-*.jsonl")]
    assert written == [f"out-all-{socket.gethostname()}-{proc.pid}.jsonl"], written
    r = redis.Redis.from_url(redis_url)
    for key in r.scan_iter(f"{prefix}:*"):
        r.delete(key)
