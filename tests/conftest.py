"""The test suite's shared fixtures and helpers, documented here once.

Layout (it mirrors the package; README.md and docs/ own the prose):

- ``tests/unit/``: one file per component, named after it (``test_pipelines.py``,
  ``test_middlewares_incremental.py``, ``test_discovery_frontier.py``, ``test_state_sqlite.py``…). Scrapy
  components are built the way Scrapy builds them, on a crawler from Scrapy's own
  ``scrapy.utils.test.get_crawler`` with the project's settings (:func:`project_crawler`), and their
  ``process_item`` / ``process_spider_output`` / ``process_request`` / ``process_response`` /
  ``process_exception`` / signal handlers are called directly: no crawl, no network.
- ``tests/golden/``: extraction golden tests, a stored page in and the expected record out, with their
  fixtures in ``tests/golden/fixtures/`` (:data:`FIXTURES`) and the snapshot's ``expected.jsonl``.
- ``tests/e2e/``: whole crawls of a copy of the site served on loopback by the project's dev server (a
  real HTTP server in a subprocess), the command lines (``arabtoday``, ``scrapy``, ``python -m devkit``),
  distributed mode on a real Redis, scrapyd, the README's recipes, the HTML report in Chromium.
- ``tests/test_docs.py``: the README's tables against the code.

Markers (``pyproject.toml``): ``e2e`` (crawls a real server), ``redis``, ``slow`` (left out by
``make test-fast``), ``acceptance`` (a promise of docs/CONTRACTS.md).

Site and data (re-exported from ``devkit.site``)
    ``SNAPSHOT`` (= ``BUNDLED_SITE``, the copy of the site in snapshot/www), ``EXPECTED`` (its
    expected.jsonl), ``expected_records(base)`` (id -> expected record, addresses under ``base``),
    ``snapshot_records(base)``, ``copy_site(dest)``, ``site_meta(root)`` / ``write_site_meta(root, meta)``
    (a copy's ``_site.json``: faults, redirects, generated sitemaps…), ``article_path(root, lang, n)``,
    ``article_id_of(path)``, ``article_requests(requests)`` (article ids a server was asked for, in
    order), ``plain_path(request)``. Here: ``ROOT`` (the checkout), ``FIXTURES``,
    :func:`cached_snapshot_records` (the snapshot's records once per process), :func:`originals`
    (what a correct crawl emits: the expected records but republished copies),
    :func:`add_article` (a new article page in a site copy), :data:`BALANCED_STATS` (hand-made stats
    whose accounting adds up), :func:`read_jsonl` (fails on a torn or invalid line).

Servers and processes
    ``snapshot_server`` (session fixture: the bundled snapshot served on loopback; ``Server`` has
    ``base``, ``root``, ``requests()``, ``stop()``), ``start_server(root, workdir, bind=)``,
    :func:`serving` (a context manager: a site copy with ``_site.json`` changes, served, then
    stopped), :func:`free_port`, :func:`wait_until`, ``tiny_tmpfs`` (fixture: a 64 KiB filesystem to
    fill for real; skips without root), :func:`redis_binary`, :func:`start_redis` (a private
    redis-server on a free port; ``redis_url``: a fixture, one for the session), :func:`redis_answers`,
    :func:`unavailable` (a program or mount a test needs is missing: a failure under ``CI=true``
    (``IN_CI``), a skip elsewhere, with the reason).

Crawls
    :func:`crawl` runs ``scrapy crawl arabtoday`` and reads it back as a :class:`CrawlResult`
    (``lines``, ``records`` (the live ones), ``of_status(status)``, ``by_id`` (the stories held:
    live, not superseded later), ``report``, ``stats``, ``stats_under(prefix)``, ``accounting``, the
    server's ``requests`` during the crawl, ``log``, ``returncode``). It runs in this process by
    default, through Scrapy's own ``CrawlerRunner`` (:func:`devkit.launch.crawl_in_process`: the
    settings, checks and exit status of ``scrapy crawl`` without a Python start-up per crawl); a test
    of what only a process has (stderr, signals, a kill, the environment, two runs at once) passes
    ``process=True`` or uses :func:`start_crawl` / :func:`finish_crawl`; :func:`run_scrapy` runs any
    other ``scrapy`` command as typed, in a process of its own.
    A test of politeness puts :data:`PROJECT_POLITENESS` in its settings to crawl with the project's own.
    ``ARABTODAY_TEST_CRAWLS=subprocess`` (``TEST_CRAWLS``; ``IN_PROCESS`` otherwise) runs every crawl
    as a subprocess. The parts of :func:`crawl`: :func:`crawl_here` (in this process),
    :func:`read_result` (output and report read back), :func:`to_stdout` (an ``-o -`` feed, which only
    a subprocess has). :func:`crawl_command` is the command line, :func:`isolated_settings` its
    settings (``FAST``, a state directory of the crawl's own). ``full_crawl`` (session fixture): one
    crawl of the whole snapshot, shared by the tests that only read it. :func:`assert_exit` (the
    process's status and the report's agree), :func:`assert_accounted` (every article id requested
    ends in exactly one bucket), :func:`assert_emitted_once`, :func:`assert_reextracted` (``arabtoday
    extract`` over a crawl's WARC files gives its records again, with the same provenance),
    :func:`live_crawl_without` (a live crawl of a copy with one article taken down, before a backfill).

    ``FAST`` turns politeness delays off but keeps what the crawler is tested for switched on: retries
    with a short, non-zero backoff, and download timeouts (shorter than the live site's, never zero). A
    test that switches off the behaviour it should exercise hides the bug.

Docs
    :func:`recipe` (the code block after ``<!-- recipe:NAME -->`` in README.md, else the first of
    ``docs/*.md``, then ``docs/*/*.md``, that has it: :func:`recipe_sources`).

Scrapy components without a crawl (unit tests)
    :func:`project_crawler` (``get_crawler`` with the project's settings, :func:`project_settings`, and
    ``crawler.spider`` the arabtoday spider with the given arguments, base_url :data:`UNIT_BASE`: what
    ``params_of`` reads), :class:`EngineStandIn` (what the parts read of Scrapy's engine, with Scrapy's
    real scheduler; ``schedule`` and ``download`` send the engine's signals; ``closed`` records what
    ``stop_run`` asked), :class:`SignalLog` (what a crawler's signals carried), :func:`snapshot_article`
    (a clean snapshot record as an ``Article``, with changes).

    Async components: the project runs Twisted's asyncio reactor, so its async parts (the frontier, the
    ordering hold, async middlewares and pipelines) are plain asyncio code. A unit test drives them with
    ``asyncio.run`` (a fresh event loop per test, no reactor); :func:`collect` gathers what an async
    iterable gives, :func:`aiter_of` makes a callback's output for an async spider middleware.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, NoReturn

import pytest
import redis
from scrapy import Request
from scrapy.crawler import Crawler

from devkit.launch import NO_POLITENESS, crawl_in_process
from devkit.launch import crawl_command as build_crawl_command
from devkit.server import RunningServer as Server
from devkit.server import start_server
from devkit.site import (  # noqa: F401 (the site helpers the test modules import from here)
    BUNDLED_SITE,
    EXPECTED,
    article_id_of,
    article_path,
    article_requests,
    copy_site,
    expected_records,
    plain_path,
    remove_article,
    site_meta,
    snapshot_records,
    write_site_meta,
)

if TYPE_CHECKING:
    from arabtoday.items import Article

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = BUNDLED_SITE
FIXTURES = Path(__file__).resolve().parent / "golden" / "fixtures"
# ARABTODAY_TEST_CRAWLS=subprocess runs every crawl of :func:`crawl` as ``scrapy crawl`` in a subprocess
# (to compare the two ways, or to rule the in-process runner out when a test fails).
TEST_CRAWLS = os.environ.get("ARABTODAY_TEST_CRAWLS", "in-process")
if TEST_CRAWLS not in ("in-process", "subprocess"):
    raise pytest.UsageError(f"ARABTODAY_TEST_CRAWLS must be in-process or subprocess, not {TEST_CRAWLS!r}")
IN_PROCESS = TEST_CRAWLS == "in-process"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")  # .ci/run sets CI=true


def unavailable(what: str) -> NoReturn:
    """A dependency a test needs is missing: under ``CI=true`` a failure with the reason (a green CI must
    have run every test), elsewhere a skip with the reason (``make test`` installs what it can)."""
    if IN_CI:
        pytest.fail(f"missing under CI=true: {what}", pytrace=False)
    pytest.skip(what)


FAST = {**NO_POLITENESS, "CONCURRENT_REQUESTS_PER_DOMAIN": "16", "DOWNLOAD_TIMEOUT": "15", "LOG_LEVEL": "INFO"}

# Hand-made stats of a run whose accounting adds up (12 requested = 5 emitted + one or two in every other bucket).
BALANCED_STATS = {
    "arabtoday/articles/requested": 12,
    "arabtoday/articles/emitted": 5,
    "arabtoday/articles/skipped/unchanged": 2,
    "arabtoday/articles/duplicate/exact": 1,
    "arabtoday/articles/dropped/out_of_window": 1,
    "arabtoday/articles/dropped/not_article/listing": 1,
    "arabtoday/articles/failed/http_500": 1,
    "arabtoday/articles/unfinished/shutdown": 1,
    "finish_reason": "finished",
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "acceptance: holds the crawl core to a promise of docs/CONTRACTS.md (issues 8 and 9)")


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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_scrapy(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``python -m scrapy ARGS`` in the project, as a user types it: status, stdout and stderr."""
    return subprocess.run([sys.executable, "-m", "scrapy", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, check=False)


def wait_until(ready: Callable[[], bool], proc: subprocess.Popen[bytes], what: str, timeout: float = 30) -> None:
    """Poll ``ready`` until it answers; fail (and kill ``proc``) if the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.05)


def assert_exit(result: CrawlResult, code: int) -> None:
    """The process's status and the report's ``exit_status`` agree, and are ``code``."""
    assert result.returncode == code, f"exit status {result.returncode}, want {code}; log tail:\n{result.tail()}"
    assert result.report.get("exit_status", {}).get("code") == code, result.report.get("exit_status")


def assert_accounted(result: CrawlResult) -> dict[str, Any]:
    """Every article id requested ends in exactly one bucket (docs/CONTRACTS.md, accounting)."""
    accounting = result.accounting
    assert accounting, f"the report has no accounting; keys: {sorted(result.report)}"
    assert accounting["difference"] == 0, accounting
    assert accounting["requested"] == accounting["sum"], accounting
    assert not result.stats.get("arabtoday/errors/accounting"), result.stats
    return accounting


@contextlib.contextmanager
def serving(root: Path, workdir: Path, meta_changes: dict[str, Any], bind: str = "127.0.0.1") -> Iterator[Server]:
    """The dev server on a site copy whose ``_site.json`` got ``meta_changes`` (faults, redirects…),
    bound to ``bind`` (another 127.0.0.0/8 address is another "host"); stopped on exit."""
    meta = site_meta(root)
    meta.update(meta_changes)
    write_site_meta(root, meta)
    server = start_server(root, workdir, bind=bind)
    try:
        yield server
    finally:
        server.stop()


def originals(base: str) -> dict[str, dict[str, Any]]:
    """What a correct crawl of the untouched snapshot emits (republished copies left out)."""
    return {k: v for k, v in expected_records(base).items() if not v["duplicate_of"]}


def assert_emitted_once(records: list[dict[str, Any]]) -> None:
    counts = Counter(r["id"] for r in records)
    assert not [i for i, n in counts.items() if n > 1], f"emitted more than once: {counts.most_common(3)}"


@functools.cache
def _snapshot_records(base: str) -> tuple[dict[str, Any], ...]:
    return tuple(snapshot_records(base))


def cached_snapshot_records(base: str) -> list[dict[str, Any]]:
    """:func:`devkit.site.snapshot_records` (every snapshot page through extraction and cleaning), read
    once per process and base; each call returns fresh copies of the records."""
    return [dict(r) for r in _snapshot_records(base)]


def add_article(root: Path, lang: str, section: str, number: int, *, slug: str, title: str,
                template: str | None = None) -> str:
    """A new article page (own id, title and text, not a near copy of any other) in a site copy,
    made from an existing page of the edition; its path (no sitemap, feed or listing names it)."""
    template_dir = template or next(str(p.parent) for p in sorted((root / lang).glob("*/[0-9]*/*/index.html")))
    html = Path(template_dir, "index.html").read_text("utf-8")
    old_path = "/" + str(Path(template_dir).relative_to(root))
    old_number = old_path.split("/")[3]
    path = f"/{lang}/{section}/{number}/{slug}"
    html = html.replace(old_path, path).replace(f"/{old_number}", f"/{number}")
    html = re.sub(r"(<h1 class=\"article-title\">)[^<]*", lambda m: m.group(1) + title, html, count=1)
    html = re.sub(r'(property="og:title" content=")[^"]*', lambda m: m.group(1) + title, html, count=1)
    body_start = html.index('<div class="article-body">')
    source = html.find('<p class="article-source">', body_start)
    body_end = source if source != -1 else html.index("</div>", body_start)
    words = f"{title} {number} harbour weather market ferry lighthouse orchard".split()
    paragraphs = [f"<p>Paragraph {i}: {' '.join(words[i % len(words):] + words[:i % len(words)])}, "
                  f"reported on day {number % 97 + i} of the season.</p>" for i in range(8)]
    html = html[:body_start] + '<div class="article-body">\n' + "\n".join(paragraphs) + "\n" + html[body_end:]
    target = root / path.lstrip("/") / "index.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(html, "utf-8")
    return path


@dataclass
class CrawlResult:
    returncode: int
    output: Path
    log: str
    lines: list[dict[str, Any]] = field(default_factory=list)  # every line written: records and history
    report: dict[str, Any] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)  # what the server saw during this crawl
    stdout: str = ""
    stderr: str = ""
    seconds: float = 0.0

    @property
    def records(self) -> list[dict[str, Any]]:
        """The articles' records (``status: live``), without the lines of history."""
        return [line for line in self.lines if line.get("status", "live") == "live"]

    def of_status(self, status: str) -> dict[str, dict[str, Any]]:
        """The lines of one ``status`` (``superseded``, ``removed``, ``live``) by id."""
        return {line["id"]: line for line in self.lines if line.get("status", "live") == status}

    @property
    def by_id(self) -> dict[str, dict[str, Any]]:
        """The stories the output holds, by id: the latest live record of each id that no later line
        marks ``superseded`` (a copy written before its original, when the original was slow past the
        ordering hold, is corrected by such a line: the dataset holds the original, not the copy)."""
        superseded = set(self.of_status("superseded"))
        return {r["id"]: r for r in self.records if r["id"] not in superseded}

    @property
    def stats(self) -> dict[str, Any]:
        """The report's raw ``arabtoday/*`` stats (docs/CONTRACTS.md, "Run report JSON")."""
        return self.report.get("stats", {})

    @property
    def accounting(self) -> dict[str, Any]:
        return self.report.get("accounting", {})

    def stats_under(self, prefix: str) -> dict[str, int]:
        return {k: v for k, v in self.stats.items() if k.startswith(prefix)}

    def tail(self, chars: int = 3000) -> str:
        return self.log[-chars:]


def crawl_command(base: str, output: Path, *args: str, settings: dict[str, str] | None = None,
                  outputs: Sequence[str] | None = None) -> list[str]:
    """``scrapy crawl arabtoday -a base_url=BASE -O OUTPUT`` (or the given ``-o``/``-O`` options),
    with :func:`isolated_settings`."""
    return build_crawl_command(base, None if outputs is not None else output, *args,
                               settings=isolated_settings(output, settings), outputs=outputs or ())


PROJECT_POLITENESS = "__project_politeness__"  # a key of a test's settings: keep the project's own politeness


def isolated_settings(output: Path, settings: dict[str, str] | None) -> dict[str, str]:
    """``FAST`` (unless the settings hold :data:`PROJECT_POLITENESS`: the project's delay, AutoThrottle and
    per-host cap as they ship), a state directory of the crawl's own beside its output (never the
    project's), then the settings given."""
    given = dict(settings or {})
    fast = {} if given.pop(PROJECT_POLITENESS, False) else FAST
    return {**fast, "ARABTODAY_STATE_DIR": str(output.parent / "state"), **given}


def start_crawl(base: str, output: Path, *args: str, settings: dict[str, str] | None = None,
                outputs: Sequence[str] | None = None, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """The crawl of :func:`crawl`, left running (for signals and concurrent runs); finish with
    :func:`finish_crawl`."""
    cmd = crawl_command(base, output, *args, settings=settings, outputs=outputs)
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


def finish_crawl(proc: subprocess.Popen[str], output: Path, report: Path | None = None,
                 timeout: float = 300, started: float | None = None) -> CrawlResult:
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
        tail = (stdout + stderr)[-3000:]
        raise AssertionError(f"the crawl did not end within {timeout} s; log tail:\n{tail}") from None
    return read_result(proc.returncode, output, stdout, stderr, report=report, started=started)


def read_result(returncode: int, output: Path, stdout: str, stderr: str, *, report: Path | None = None,
                started: float | None = None, log: str | None = None) -> CrawlResult:
    """The crawl's records and its report: ``report`` when given, else ``<output>.report.json``
    (``log``: the crawl's log when it is not what the process printed)."""
    log = stdout + stderr if log is None else log
    result = CrawlResult(returncode, output, log, stdout=stdout, stderr=stderr,
                         seconds=time.monotonic() - started if started else 0.0)
    # kept next to the output, for whoever reads a failure: the assertion shows only a tail
    # (unless the output's directory is unusable on purpose: the tests of unwritable outputs)
    with contextlib.suppress(OSError):
        output.with_name(output.name + ".crawl.log").write_text(result.log, "utf-8")
    if output.exists() and output.is_file():
        result.lines = read_jsonl(output)
    report = report or output.with_name(output.name + ".report.json")
    if report.exists():
        result.report = json.loads(report.read_text("utf-8"))
    return result


def crawl(base: str, output: Path, *args: str, settings: dict[str, str] | None = None,
          timeout: float = 300, env: dict[str, str] | None = None, outputs: Sequence[str] | None = None,
          server: Server | None = None, report: Path | None = None, process: bool = False) -> CrawlResult:
    """``scrapy crawl arabtoday -a base_url=BASE -O OUTPUT``, its output and report read back
    (``report``: written there with ``ARABTODAY_REPORT_PATH``, else beside the output), and, given
    ``server``, the requests that server saw during the crawl. In this process unless ``process``,
    an ``env`` or an ``-o -`` feed in ``outputs`` (which only a process has) asks for a subprocess."""
    before = len(server.requests()) if server else 0
    started = time.monotonic()
    if report is not None:
        settings = {**(settings or {}), "ARABTODAY_REPORT_PATH": str(report)}
    if process or not IN_PROCESS or env is not None or to_stdout(outputs or ()):
        proc = start_crawl(base, output, *args, settings=settings, outputs=outputs, env=env)
        result = finish_crawl(proc, output, report, timeout, started)
    else:
        result = crawl_here(base, output, *args, settings=settings, outputs=outputs, report=report, timeout=timeout,
                            started=started)
    if server is not None:
        result.requests = server.requests()[before:]
    return result


def to_stdout(outputs: Sequence[str]) -> bool:
    """An ``-o -`` feed: the records on the process's stdout, which only a subprocess has of its own."""
    return any(uri == "-" or uri.startswith("-:") for uri in outputs[1::2])


def crawl_here(base: str, output: Path, *args: str, settings: dict[str, str] | None, report: Path | None,
               timeout: float, started: float, outputs: Sequence[str] | None = None) -> CrawlResult:
    """The crawl of :func:`crawl` in this process (``CrawlResult.stderr``: the command's one-line complaints)."""
    done = crawl_in_process(base, None if outputs is not None else output, *args, outputs=outputs or (),
                            settings=isolated_settings(output, settings), timeout=timeout)
    result = read_result(done.status, output, "", done.stderr, report=report, started=started,
                         log=done.log + done.stderr)
    if done.timed_out:
        raise AssertionError(f"the crawl did not end within {timeout} s; log tail:\n{result.tail()}")
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


def redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url).ping())
    except redis.ConnectionError:
        return False


def redis_binary() -> str | None:
    return shutil.which("redis-server") or next(
        (p for p in ("/usr/bin/redis-server", "/usr/local/bin/redis-server") if os.path.exists(p)), None)


def start_redis(binary: str, workdir: Path, *options: str) -> tuple[subprocess.Popen[bytes], str]:
    """A private redis-server on a free loopback port (no persistence: tests only)."""
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(workdir), *options], stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    wait_until(lambda: redis_answers(url), proc, "redis-server", timeout=10)
    return proc, url


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A redis-server of the tests' own on a free loopback port, for the whole session (never whatever
    listens on 6379: its data and settings are not the tests'); tests give their keys a unique prefix.
    Without the binary: :func:`unavailable`."""
    binary = redis_binary()
    if not binary:
        unavailable("no redis-server binary (scripts/ensure-tools.sh installs Debian's)")
    proc, url = start_redis(binary, tmp_path_factory.mktemp("redis"))
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def recipe_sources() -> list[Path]:
    """Where recipes are looked for, in this order: README.md, every ``docs/*.md``, then the
    Markdown files one folder down (``docs/readme/*.md``, proposed texts)."""
    docs = ROOT / "docs"
    return [ROOT / "README.md", *sorted(docs.glob("*.md")), *sorted(docs.glob("*/*.md"))]


def recipe(name: str, sources: Sequence[Path] | None = None) -> str:
    """The code block that follows ``<!-- recipe:NAME -->`` in the first of ``sources`` (default:
    :func:`recipe_sources`) that has the marker (run by the recipe tests); fails naming every file
    searched when none has it."""
    marker = re.compile(rf"<!-- recipe:{re.escape(name)} -->[ \t]*\n(?:[ \t]*\n)*```[\w-]*\n(.*?)\n```", re.S)
    searched = []
    for source in recipe_sources() if sources is None else sources:
        if not source.is_file():
            continue
        found = marker.search(source.read_text("utf-8"))
        if found:
            return found.group(1)
        searched.append(str(source.relative_to(ROOT)) if source.is_relative_to(ROOT) else str(source))
    raise AssertionError(f"no <!-- recipe:{name} --> followed by a code block in {', '.join(searched) or 'nothing'}")


@pytest.fixture
def tiny_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB filesystem, to fill for real (needs root to mount)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True,
                          check=False)
    if done.returncode != 0:
        unavailable(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


# -- Scrapy components without a crawl (unit tests) ------------------------------------------------------------------

UNIT_BASE = "http://unit.test"  # the site's address in unit tests (nothing is fetched from it)


def project_settings(**overrides: Any) -> dict[str, Any]:
    """The project's settings (``arabtoday.settings``, what ``scrapy crawl`` starts from) as a dict for
    ``get_crawler``'s ``settings_dict``, ``overrides`` on top."""
    from arabtoday import settings as module

    return {**{name: getattr(module, name) for name in dir(module) if name.isupper()}, **overrides}


def project_crawler(spider_args: dict[str, Any] | None = None, **settings: Any) -> Crawler:
    """A crawler from Scrapy's own ``scrapy.utils.test.get_crawler`` with the project's settings
    (``settings`` on top): its extensions built (the state, the ledger, the frontier…), its stats
    opened, and ``crawler.spider`` the ``arabtoday`` spider made with ``spider_args`` (base_url
    :data:`UNIT_BASE` unless given), which is what every component's ``params_of`` reads. Never
    started: ``crawler.engine`` is unset unless a test gives it an :class:`EngineStandIn`."""
    from scrapy.utils.test import get_crawler

    from arabtoday.spiders.arabtoday import ArabTodaySpider

    crawler = get_crawler(ArabTodaySpider, project_settings(**settings))
    crawler.spider = crawler._create_spider(**{"base_url": UNIT_BASE, **(spider_args or {})})
    crawler.stats.open_spider()
    return crawler


class EngineStandIn:
    """What the project's parts read of Scrapy's engine, for a crawler that never starts: a real
    Scheduler (``len()`` is what the frontier bounds; ``schedule`` and ``download`` move requests
    through it and send the signals the engine sends), ``running``, ``needs_backout()``, the
    downloader's ``active`` set, and ``close_spider_async`` recorded in ``closed`` (what
    :func:`arabtoday.run.stopping.stop_run` asks for) instead of closing anything."""

    def __init__(self, crawler: Crawler) -> None:
        from scrapy.core.scheduler import Scheduler
        from scrapy.utils.httpobj import urlparse_cached

        self.crawler = crawler
        self.spider = crawler.spider
        self.running = True
        self.backout = False
        # what Scrapy's downloader-aware priority queue reads of the downloader: nothing in flight
        self.downloader = SimpleNamespace(active=set(), slots={},
                                          get_slot_key=lambda request: urlparse_cached(request).netloc)
        self.closed: list[str] = []
        crawler.engine = self
        self.scheduler = Scheduler.from_crawler(crawler)
        self.scheduler.open(crawler.spider)

    def needs_backout(self) -> bool:
        return self.backout

    def close_spider_async(self, reason: str) -> None:
        self.closed.append(reason)

    def schedule(self, request: Request) -> bool:
        """As the engine does with a request a callback's output passed on: ``request_scheduled``, then
        into the queue, or ``request_dropped`` when the scheduler's filter refuses it (False)."""
        from scrapy import signals

        self.crawler.signals.send_catch_log(signal=signals.request_scheduled, request=request, spider=self.spider)
        if self.scheduler.enqueue_request(request):
            return True
        self.crawler.signals.send_catch_log(signal=signals.request_dropped, request=request, spider=self.spider)
        return False

    def download(self) -> Request | None:
        """As the engine does when the downloader has room: take the next request out of the queue and
        say it reached the downloader (the frontier wakes on it)."""
        from scrapy import signals

        request = self.scheduler.next_request()
        if request is not None:
            self.crawler.signals.send_catch_log(signal=signals.request_reached_downloader, request=request,
                                                spider=self.spider)
        return request


class SignalLog:
    """Every sending of ``signals`` on a crawler, with its arguments: ``log[SIGNAL]`` is a list of dicts
    (Scrapy's ``signal`` and ``sender`` left out). Keep the log referenced: receivers are held by it."""

    def __init__(self, crawler: Crawler, *signals: object) -> None:
        self.sent: dict[object, list[dict[str, Any]]] = {signal: [] for signal in signals}
        self._receivers = []
        for signal in signals:
            def receiver(_to: list[dict[str, Any]] = self.sent[signal], **kwargs: Any) -> None:
                _to.append({k: v for k, v in kwargs.items() if k not in ("signal", "sender")})
            self._receivers.append(receiver)
            crawler.signals.connect(receiver, signal=signal)

    def __getitem__(self, signal: object) -> list[dict[str, Any]]:
        return self.sent[signal]


def snapshot_article(article_id: str | None = None, **changes: Any) -> Article:
    """A clean record of the snapshot (:func:`cached_snapshot_records` under :data:`UNIT_BASE`) as an
    ``Article``: the one with ``article_id`` (default: the first), a fresh object, ``changes`` applied."""
    from arabtoday.items import Article

    records = cached_snapshot_records(UNIT_BASE)
    record = next(r for r in records if r["id"] == article_id) if article_id else records[0]
    return Article(**{**record, **changes})


# Async components. The project runs Twisted's asyncio reactor, so its async parts (the frontier, the
# ordering hold, the async middlewares and pipelines) are plain asyncio code: a unit test drives them with
# asyncio.run (a fresh event loop per test, no reactor), and these two helpers spell the rest.

async def collect(output: AsyncIterable[Any]) -> list[Any]:
    """Everything an async iterable (a middleware's ``process_spider_output``) gives, in order."""
    return [entry async for entry in output]


async def aiter_of(*entries: Any) -> AsyncIterator[Any]:
    """A callback's output as Scrapy hands it to an async spider middleware."""
    for entry in entries:
        yield entry


def assert_reextracted(result: CrawlResult, warc_dir: Path, fields: Sequence[str] = (
        "content_hash", "origin", "captured_at", "url", "warc_file", "warc_record_id", "body")) -> None:
    """``arabtoday extract`` over the crawl's WARC files gives each of its records again, with the same
    text, address and provenance (an extraction has no state: it may give more, never other)."""
    files = sorted(str(p) for p in warc_dir.glob("*.warc.gz"))
    assert files, f"no WARC file in {warc_dir}"
    done = subprocess.run([sys.executable, "-m", "arabtoday", "extract", *files], cwd=ROOT, capture_output=True,
                          check=False)
    again = {}
    for line in done.stdout.splitlines():
        record = json.loads(line)
        if record.get("status", "live") == "live":
            again[record["id"]] = record
    for record in result.records:
        assert record["id"] in again, (record["id"], done.stderr.decode()[-2000:])
        for name in fields:
            assert again[record["id"]][name] == record[name], (record["id"], name)


def live_crawl_without(tmp_path: Path, lang: str, number: str) -> CrawlResult:
    """A private copy of the snapshot with one article taken down (the site no longer serves it),
    crawled live once in that edition: what a backfill then finds in an archive and not on the site."""
    root = copy_site(tmp_path / "site")
    remove_article(root, article_path(root, lang, int(number)))
    with serving(root, tmp_path, {}) as server:
        return crawl(server.base, tmp_path / "live.jsonl", f"lang={lang}", server=server)
