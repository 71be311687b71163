"""The Redis state store against a real redis-server: claims are leases (a dead worker's
pass on, a live or settled one's hold), a server that may evict keys or cannot be reached is
refused at start with the right exit status, and the run bookkeeping is not the store's."""

from __future__ import annotations

import logging
import os
import signal
import time
import uuid
from pathlib import Path

import pytest
import redis

from arabtoday.dedup.fingerprints import Fingerprinter
from arabtoday.exitstatus import ExitStatus, StartError
from arabtoday.state.redis import ALIVE_KEY, RedisStore, check_eviction_policy
from arabtoday.state.store import Emitted, StateStore
from conftest import redis_binary, start_redis, unavailable

pytestmark = [pytest.mark.redis]
FINGERPRINTER = Fingerprinter()


@pytest.fixture
def server(redis_url: str) -> str:
    return redis_url


def store_as(url: str, prefix: str, worker: str) -> RedisStore:
    """A store that claims under ``worker``'s name, as that worker's process would."""
    store = RedisStore(url, FINGERPRINTER, prefix, timeout=2)
    store.worker = worker
    return store


def alive(url: str, prefix: str, worker: str) -> None:
    redis.Redis.from_url(url).set(f"{prefix}:{ALIVE_KEY.format(worker=worker)}", 1, ex=60)


def test_a_live_workers_claim_holds(server: str) -> None:
    prefix = f"t-{uuid.uuid4().hex[:8]}"
    a, b = store_as(server, prefix, "host-1"), store_as(server, prefix, "host-2")
    alive(server, prefix, "host-1")
    assert a.claim_run("en-1") is True
    assert a.claim_run("en-1") is False  # the same article reached twice by one worker
    assert b.claim_run("en-1") is False
    assert a.taken_over == b.taken_over == 0


def test_a_dead_workers_claim_is_taken_over_once(server: str) -> None:
    prefix = f"t-{uuid.uuid4().hex[:8]}"
    a, b, c = (store_as(server, prefix, f"host-{n}") for n in (1, 2, 3))
    alive(server, prefix, "host-2")
    alive(server, prefix, "host-3")
    assert a.claim_run("en-1") is True  # host-1 has no alive key: it is gone
    assert b.claim_run("en-1") is True
    assert b.taken_over == 1
    assert c.claim_run("en-1") is False  # host-2 lives: its claim holds
    assert c.taken_over == 0


def test_a_committed_claim_is_final_even_when_its_worker_is_gone(server: str) -> None:
    prefix = f"t-{uuid.uuid4().hex[:8]}"
    a, b = store_as(server, prefix, "host-1"), store_as(server, prefix, "host-2")
    assert a.claim_run("en-1") is True
    a.commit_emitted([Emitted("en-1", "en", "hash", None, None)], None, None)
    assert b.claim_run("en-1") is False  # emitted by host-1: taking it over would emit it twice
    assert b.taken_over == 0


def test_an_older_runs_recovered_records_do_not_settle_this_runs_claims(server: str) -> None:
    prefix = f"t-{uuid.uuid4().hex[:8]}"
    a, recovering = store_as(server, prefix, "host-1"), store_as(server, prefix, "host-9")
    assert a.claim_run("en-1") is True
    recovering.commit_emitted([Emitted("en-1", "en", "hash", None, None)], None, None)
    assert store_as(server, prefix, "host-2").claim_run("en-1") is True  # host-1 is gone, never committed


@pytest.mark.parametrize(("policy", "refused"), [("noeviction", False), ("allkeys-lru", True),
                                                 ("volatile-lru", True), ("allkeys-random", True)])
def test_only_noeviction_is_accepted(tmp_path: Path, policy: str, refused: bool) -> None:
    binary = redis_binary()
    if not binary:
        unavailable("no redis-server binary")
    proc, url = start_redis(binary, tmp_path, "--maxmemory-policy", policy)
    try:
        if refused:
            with pytest.raises(StartError) as caught:
                RedisStore(url, FINGERPRINTER, "t", timeout=2)
            assert caught.value.status is ExitStatus.STATE_UNUSABLE
            assert f"maxmemory-policy {policy}" in str(caught.value)
        else:
            RedisStore(url, FINGERPRINTER, "t", timeout=2).close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_hidden_config_command_warns_and_goes_on(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Managed Redis often renames CONFIG away: only its operator can tell the policy."""
    binary = redis_binary()
    if not binary:
        unavailable("no redis-server binary")
    proc, url = start_redis(binary, tmp_path, "--rename-command", "CONFIG", "")
    try:
        with caplog.at_level(logging.WARNING):
            check_eviction_policy(redis.Redis.from_url(url), "managed")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert "cannot read maxmemory-policy of managed" in caplog.text


def test_an_unreachable_server_is_a_start_error_with_status_4(tmp_path: Path) -> None:
    binary = redis_binary()
    if not binary:
        unavailable("no redis-server binary")
    proc, url = start_redis(binary, tmp_path)
    proc.terminate()
    proc.wait(timeout=10)
    with pytest.raises(StartError) as caught:
        RedisStore(url, FINGERPRINTER, "t", timeout=2)
    assert caught.value.status is ExitStatus.WRITE_FAILED
    assert "unreachable" in str(caught.value)


def test_the_store_has_only_the_state_interface() -> None:
    """The run's bookkeeping lives in arabtoday.distributed.addon; the store is any backend's interface."""
    extra = {name for name in vars(RedisStore) if not name.startswith("_") and callable(getattr(RedisStore, name))}
    assert extra - set(dir(StateStore)) <= {"key", "use_timeout"}  # naming keys, bounding calls: no bookkeeping
    for name in ("reset_run", "touch", "seconds_since_activity", "queue_length"):
        assert not hasattr(RedisStore, name)


def test_a_stopped_server_fails_fast_not_forever(tmp_path: Path) -> None:
    """A call to a server that stopped answering (SIGSTOP: the socket stays open) gives up after the
    store's timeout instead of hanging."""
    binary = redis_binary()
    if not binary:
        unavailable("no redis-server binary")
    proc, url = start_redis(binary, tmp_path)
    store = RedisStore(url, FINGERPRINTER, "t", timeout=1)
    os.kill(proc.pid, signal.SIGSTOP)
    try:
        with pytest.raises(redis.TimeoutError):
            store.get("en-1")
    finally:
        os.kill(proc.pid, signal.SIGCONT)
        proc.terminate()
        proc.wait(timeout=10)


def test_a_bound_given_after_opening_applies_to_later_calls(tmp_path: Path) -> None:
    binary = redis_binary()
    if not binary:
        unavailable("no redis-server binary")
    proc, url = start_redis(binary, tmp_path)
    store = RedisStore(url, FINGERPRINTER, "t", timeout=30)
    store.use_timeout(1)
    os.kill(proc.pid, signal.SIGSTOP)
    started = time.monotonic()
    try:
        with pytest.raises(redis.TimeoutError):
            store.get("en-1")
    finally:
        os.kill(proc.pid, signal.SIGCONT)
        proc.terminate()
        proc.wait(timeout=10)
    assert time.monotonic() - started < 5
