"""The HTML run report: rendered from a real crawl's report, opened in a real
headless Chromium, checked for its charts and for console errors.

The browser is driven over the DevTools protocol (a websocket, with the
``websocket-client`` package) rather than by parsing ``--enable-logging``
output: the protocol reports exceptions, console calls and browser log
entries (CSP violations, failed loads) as structured events, and lets the test
ask the page itself whether it drew its charts; Chromium's stderr log format
is not an interface and changes between releases."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import websocket

from arabtoday.run.report import build_report
from arabtoday.run.report_html import CHARTS, render_html, write_html
from conftest import ROOT, CrawlResult, unavailable

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars")

DEVTOOLS_LINE = re.compile(r"DevTools listening on (ws://\S+)")
WINDOW = (1400, 1900)  # wide enough for the charts side by side
BROWSER_TIMEOUT = 30.0
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium, installed by scripts/ensure-tools.sh when missing; else :func:`conftest.unavailable`."""
    if _chromium() is None:
        subprocess.run(["bash", str(ROOT / "scripts" / "ensure-tools.sh"), "chromium:chromium"], check=False,
                       timeout=900)
    binary = _chromium()
    if binary is None:
        unavailable("no chromium, and scripts/ensure-tools.sh could not install it (needs root and apt-get)")
    return binary


@dataclass
class PageResult:
    charts_rendered: str | None
    marks: dict[str, int]
    errors: list[str] = field(default_factory=list)
    text: str = ""  # what a reader sees (document.body.innerText)


class DevTools:
    """A minimal DevTools-protocol client over one websocket (flattened target sessions)."""

    def __init__(self, url: str) -> None:
        self.ws = websocket.create_connection(url, timeout=BROWSER_TIMEOUT, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        self.ws.send(json.dumps(message))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def errors(self) -> list[str]:
        """Every exception, console.error/assert and browser log entry at error level seen so far."""
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                found.append("exception: " + str(details.get("exception", {}).get("description") or details["text"]))
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                found.append("console: " + " ".join(str(a.get("value", a.get("description"))) for a in params["args"]))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                found.append(f"log ({params['entry'].get('source')}): {params['entry'].get('text')}")
        return found

    def close(self) -> None:
        self.ws.close()


@pytest.fixture
def browser(chromium: str, tmp_path: Path) -> Iterator[DevTools]:
    proc = subprocess.Popen([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                             "--remote-debugging-port=0", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        url = _devtools_url(proc)
        client = DevTools(url)
        yield client
        client.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _devtools_url(proc: subprocess.Popen[str]) -> str:
    assert proc.stderr is not None
    deadline = time.monotonic() + BROWSER_TIMEOUT
    seen = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line and proc.poll() is not None:
            break
        seen.append(line)
        match = DEVTOOLS_LINE.search(line)
        if match:
            return match.group(1)
    raise RuntimeError("chromium did not open its DevTools port:\n" + "".join(seen[-20:]))


def open_page(browser: DevTools, page: Path) -> PageResult:
    """Load ``page``, wait for its script to say it drew its charts (or time out), collect errors."""
    target = browser.call("Target.createTarget", url="about:blank")["targetId"]
    session = browser.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
    for domain in ("Runtime.enable", "Log.enable", "Page.enable"):
        browser.call(domain, session)
    browser.call("Page.navigate", session, url=page.resolve().as_uri())
    deadline = time.monotonic() + BROWSER_TIMEOUT
    rendered = None
    while time.monotonic() < deadline:
        state = browser.call("Runtime.evaluate", session, returnByValue=True, expression=(
            "document.readyState === 'complete' ? JSON.stringify({rendered: document.body.dataset.chartsRendered "
            "|| null, marks: Object.fromEntries([...document.querySelectorAll('figure')].map(f => "
            "[f.id, Number(f.querySelector('svg').dataset.marks || 0)])), text: document.body.innerText}) : null"))[
            "result"].get("value")
        if state:
            rendered = json.loads(state)
            if rendered["rendered"] is not None:
                break
        time.sleep(0.1)
    # a failed load is logged before the page's load event, and so before readyState was complete; the
    # browser sends events in order on the one socket, so every one of them is in before this answer
    browser.call("Runtime.evaluate", session, expression="1")
    result = rendered or {"rendered": None, "marks": {}, "text": ""}
    return PageResult(result["rendered"], result["marks"], browser.errors(), result["text"])


def screenshot(chromium: str, page: Path, png: Path, profile: Path) -> None:
    """``chromium --screenshot``: what a person sees (the README's picture)."""
    subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--screenshot={png}",
                    f"--window-size={WINDOW[0]},{WINDOW[1]}", "--virtual-time-budget=5000", page.resolve().as_uri()],
                   check=True, capture_output=True, timeout=120)


@pytest.mark.e2e
def test_html_report_of_a_real_crawl_renders_its_charts_without_console_errors(
        full_crawl: CrawlResult, browser: DevTools, chromium: str, tmp_path: Path) -> None:
    page = full_crawl.output.with_name(full_crawl.output.name + ".report.html")
    assert page.exists(), "the crawl wrote no HTML report beside its JSON"
    result = open_page(browser, page)
    assert result.errors == []
    assert result.charts_rendered == str(len(CHARTS))
    # data drawn, not only axes: the snapshot has dated records, filled fields and responses
    for chart in ("published", "extractors", "coverage", "latency"):
        assert result.marks[f"chart-{chart}"] > 0, chart
    png = tmp_path / "report.png"
    screenshot(chromium, page, png, tmp_path / "shot-profile")
    data = png.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 20_000  # a blank page compresses to a few KB


@pytest.mark.e2e
def test_browser_check_catches_a_broken_page_and_a_network_fetch(browser: DevTools, tmp_path: Path) -> None:
    """The check above can fail: a script error leaves the page unrendered, and a fetch is blocked and logged."""
    report = build_report({"item_scraped_count": 1}, 1.0)
    broken = tmp_path / "broken.html"
    broken.write_text(render_html(report).replace('JSON.parse(document.getElementById("report-data").textContent)',
                                                  "JSON.parse('{')"), "utf-8")
    result = open_page(browser, broken)
    assert result.charts_rendered is None
    assert any("exception" in e for e in result.errors), result.errors
    cdn = tmp_path / "cdn.html"
    cdn.write_text(render_html(report).replace(
        "</body>", '<script src="https://cdn.example.invalid/chart.js"></script></body>'), "utf-8")
    result = open_page(browser, cdn)
    assert result.charts_rendered == str(len(CHARTS))
    assert any("cdn.example.invalid" in e for e in result.errors), result.errors


@pytest.mark.e2e
def test_an_empty_run_still_renders_every_chart(browser: DevTools, tmp_path: Path) -> None:
    page = tmp_path / "empty.report.html"
    write_html(build_report({}, 0.0), page)
    result = open_page(browser, page)
    assert result.errors == []
    assert result.charts_rendered == str(len(CHARTS))
    assert set(result.marks.values()) == {0}  # each says "no data" instead of drawing bars
    # a run that reached no article page never says that every one it reached was emitted
    assert "no article page was reached" in result.text and "every article page reached" not in result.text
