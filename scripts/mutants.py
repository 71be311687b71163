"""Does the suite bite? Named mutants: each is one deliberate fault in the code, and the tests that must
catch it. Each runs in a copy of the committed tree (``git archive HEAD``), never in this one.

    .venv/bin/python scripts/mutants.py            # every mutant; exit 1 if one survives
    .venv/bin/python scripts/mutants.py delay_zero # some of them

A mutant is *caught* when its tests fail; *survived* when they pass with the fault in (the suite
does not check what it claims); *stale* when its text is no longer in the code (update this table).
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POLITENESS_TESTS = ("tests/e2e/test_politeness.py",)
NEW_USER_TESTS = "tests/e2e/test_new_user_faults.py"


@dataclass(frozen=True)
class Mutant:
    name: str
    file: str
    original: str
    mutated: str
    tests: tuple[str, ...]
    why: str


MUTANTS = (
    Mutant("per_host_cap_16", "arabtoday/settings.py", "CONCURRENT_REQUESTS_PER_DOMAIN = 2",
           "CONCURRENT_REQUESTS_PER_DOMAIN = 16", POLITENESS_TESTS, "the site sees 16 requests at once"),
    Mutant("delay_zero", "arabtoday/settings.py", "DOWNLOAD_DELAY = 0.5", "DOWNLOAD_DELAY = 0",
           POLITENESS_TESTS, "requests are no longer spaced"),
    Mutant("autothrottle_off", "arabtoday/settings.py", "AUTOTHROTTLE_ENABLED = True", "AUTOTHROTTLE_ENABLED = False",
           POLITENESS_TESTS, "a slow site is not given more time"),
    Mutant("politeness_gate_open", "arabtoday/middlewares.py",
           "places = self.places[key] = asyncio.Semaphore(max(1, self.per_slot.get(key, self.default)))",
           "places = self.places[key] = asyncio.Semaphore(1000)", POLITENESS_TESTS,
           "Scrapy's downloader alone lets a burst through"),
    Mutant("drop_uncounted", "arabtoday/run/ledger.py",
           "            self.close(article_key(item), exception.bucket, exception.reason)",
           "            pass", ("tests/unit/test_run_ledger.py", "tests/e2e/test_crawl_snapshot.py"),
           "a dropped item closes no account"),
    Mutant("copy_over_original", "arabtoday/state/store.py", "    return key_a < key_b", "    return key_a > key_b",
           ("tests/unit/test_state_originals.py", "tests/e2e/test_history.py"),
           "the later copy is taken for the original"),
    Mutant("copy_over_original_redis", "arabtoday/state/redis.py",
           "if a_time < b_time or (a_time == b_time and a_num < b_num) then",
           "if a_time > b_time or (a_time == b_time and a_num > b_num) then",
           ("tests/unit/test_state_originals.py",), "the shared index takes the later copy for the original"),
    Mutant("robots_requeued_on_stop", "arabtoday/middlewares.py",
           "if isinstance(exception, Interrupted) and request.callback is not NO_CALLBACK:",
           "if isinstance(exception, Interrupted):",
           (f"{NEW_USER_TESTS}::test_a_stop_while_robots_txt_is_in_flight_ends_the_run",),
           "a stop while robots.txt is in flight spins for ever"),
    Mutant("signal_handler_a_turn_late", "arabtoday/commands/crawl.py",
           'reactor.addSystemEventTrigger("before", "startup", reactor.addSystemEventTrigger, "after", "startup",\n'
           "                                      self._watch_signals, crawler)",
           'reactor.addSystemEventTrigger("after", "startup", reactor.callLater, 0, self._watch_signals, crawler)',
           (f"{NEW_USER_TESTS}::test_a_signal_the_instant_the_spider_opens_stops_the_run_with_its_status_and_report",),
           "a Ctrl-C as the spider opens reaches Scrapy's handler alone"),
    Mutant("graceful_stop_before_engine_runs", "arabtoday/commands/crawl.py",
           "once_running(crawler, functools.partial(stop_on_signal, crawler, status, scrapy_stop))",
           "stop_on_signal(crawler, status, scrapy_stop)",
           (f"{NEW_USER_TESTS}::test_a_signal_the_instant_the_spider_opens_stops_the_run_with_its_status_and_report",),
           "a stop while the crawler is built or the spider opens: no stats yet, or no engine to stop"),
)


def tree_of_head(into: Path) -> None:
    archive = subprocess.run(["git", "archive", "--format=tar", "HEAD"], cwd=ROOT, capture_output=True, check=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")


def run(mutant: Mutant, workers: int) -> tuple[str, float, str]:
    """``(caught|survived|stale, seconds, the tail of pytest's output)``."""
    with tempfile.TemporaryDirectory(prefix=f"mutant-{mutant.name}-") as tmp:
        tree = Path(tmp)
        tree_of_head(tree)
        target = tree / mutant.file
        text = target.read_text("utf-8")
        if text.count(mutant.original) != 1:
            return "stale", 0.0, f"{mutant.file}: the text to mutate is not there once"
        target.write_text(text.replace(mutant.original, mutant.mutated), "utf-8")
        started = time.monotonic()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tree), str(tree / "tests")]),
               "PYTHONDONTWRITEBYTECODE": "1"}
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-n",
                               str(workers), *mutant.tests], cwd=tree, env=env, capture_output=True, text=True,
                              check=False)
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-3:])
        return ("caught" if done.returncode != 0 else "survived"), time.monotonic() - started, tail


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="mutants to run (default: all)")
    parser.add_argument("--workers", type=int, default=2, help="pytest-xdist workers for each mutant's tests")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTANTS if not args.names or m.name in args.names]
    unknown = set(args.names) - {m.name for m in MUTANTS}
    if unknown:
        parser.error(f"unknown mutant(s) {', '.join(sorted(unknown))}; known: {', '.join(m.name for m in MUTANTS)}")
    failed = 0
    say(f"{'mutant':<34} {'result':<9} {'seconds':>7}  fault")
    for mutant in chosen:
        result, seconds, tail = run(mutant, args.workers)
        failed += result != "caught"
        say(f"{mutant.name:<34} {result:<9} {seconds:7.1f}  {mutant.why}")
        if result != "caught":
            say("    " + tail.replace("\n", "\n    "))
    say(f"{len(chosen) - failed} of {len(chosen)} caught")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
