"""Distributed mode: two workers, one real Redis, one crawl of the snapshot."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from benchmarks.generate_site import generate
from conftest import FAST, ROOT, Server, expected_records, free_port, read_jsonl, start_server, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.redis]
GENERATED_ARTICLES = 300


def _answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url).ping())
    except redis.ConnectionError:
        return False


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A redis-server of our own on a free port; else the machine's on 6379; else skip, saying why."""
    binary = shutil.which("redis-server") or next(
        (p for p in ("/usr/bin/redis-server", "/usr/local/bin/redis-server") if os.path.exists(p)), None)
    if binary:
        port = free_port()
        workdir = tmp_path_factory.mktemp("redis")
        proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                 "--appendonly", "no", "--dir", str(workdir)], stdout=subprocess.DEVNULL)
        url = f"redis://127.0.0.1:{port}/0"
        wait_until(lambda: _answers(url), proc, "redis-server", timeout=10)
        yield url
        proc.terminate()
        proc.wait(timeout=10)
        return
    url = os.environ.get("ARABTODAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    if not _answers(url):
        pytest.skip("no Redis: neither redis-server on PATH nor a server at " + url +
                    " (make test installs Debian's redis-server when it can)")
    yield url


def worker(base: str, redis_url: str, prefix: str, output: Path, role: str) -> subprocess.Popen[bytes]:
    settings = {**FAST, "ARABTODAY_REDIS_URL": redis_url, "ARABTODAY_REDIS_PREFIX": prefix,
                "ARABTODAY_REDIS_IDLE_SECONDS": "3", "DOWNLOAD_DELAY": "0.02", "CONCURRENT_REQUESTS_PER_DOMAIN": "2",
                "ARABTODAY_STATE_DIR": str(output.parent / f"unused-{role}")}
    cmd = [sys.executable, "-m", "scrapy", "crawl", "arabtoday", "-a", f"base_url={base}", "-a", f"role={role}",
           "-O", str(output)]
    for name, value in settings.items():
        cmd += ["-s", f"{name}={value}"]
    log = output.with_suffix(".log").open("wb")
    return subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)


@pytest.fixture(scope="module")
def large_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, list[str]]]:
    """A generated site big enough that the shared queue is rarely empty (the snapshot's
    31 articles are gone before a second worker has started)."""
    root = tmp_path_factory.mktemp("large-site")
    ids = generate(root / "www", GENERATED_ARTICLES)
    server = start_server(root / "www", root)
    yield server, ids
    server.stop()


def test_two_workers_share_one_crawl(snapshot_server: Server, redis_url: str, tmp_path: Path) -> None:
    """The snapshot: exactly expected.jsonl, however the two workers split it."""
    prefix = f"arabtoday-test-{uuid.uuid4().hex[:8]}"
    r = redis.Redis.from_url(redis_url)
    seed = worker(snapshot_server.base, redis_url, prefix, tmp_path / "seed.jsonl", "seed")
    second = worker(snapshot_server.base, redis_url, prefix, tmp_path / "worker.jsonl", "worker")
    assert seed.wait(timeout=180) == 0, (tmp_path / "seed.log").read_text()[-3000:]
    assert second.wait(timeout=180) == 0, (tmp_path / "worker.log").read_text()[-3000:]
    by_worker = {name: read_jsonl(tmp_path / f"{name}.jsonl") for name in ("seed", "worker")}
    ids = [rec["id"] for records in by_worker.values() for rec in records]
    assert len(ids) == len(set(ids)), "an article was emitted by both workers"
    expected = {k: v for k, v in expected_records(snapshot_server.base).items() if not v["duplicate_of"]}
    assert set(ids) == set(expected)
    for records in by_worker.values():
        for rec in records:
            assert rec == {**rec, **expected[rec["id"]]}
    # the shared state knows every emitted article, and the run can be merged and verified
    assert r.hlen(f"{prefix}:articles") >= len(expected)
    merged = tmp_path / "merged.jsonl"
    result = subprocess.run([sys.executable, "-m", "arabtoday", "merge", str(merged), str(tmp_path / "seed.jsonl"),
                             str(tmp_path / "worker.jsonl")], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert sorted(rec["id"] for rec in read_jsonl(merged)) == sorted(expected)
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
