"""The development tools (``python -m devkit``): serving a copy of the site, from a clone."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from conftest import ROOT

SERVE_TIMEOUT = 30


def devkit(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "devkit", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=SERVE_TIMEOUT, check=False)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_serve_on_a_busy_port_is_one_clear_line() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = devkit("serve", "--port", str(port))
    assert result.returncode == 1
    assert f"port {port} on 127.0.0.1 is already in use" in one_line_error(result)


def test_serve_of_a_missing_root_is_a_usage_error(tmp_path: Path) -> None:
    result = devkit("serve", str(tmp_path / "nowhere"))
    assert result.returncode == 2
    assert "is not a directory" in one_line_error(result)


def test_serve_defaults_to_the_bundled_snapshot(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    proc = subprocess.Popen([sys.executable, "-m", "devkit", "serve", "--port", "0", "--ready", str(ready)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + SERVE_TIMEOUT
        while not ready.exists():
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "serve did not start"
            time.sleep(0.05)
        base = ready.read_text().strip()
        with urllib.request.urlopen(f"{base}/en/", timeout=10) as response:
            assert response.status == 200
            home = response.read().decode("utf-8")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert "Arab Today" in home and f"{base}/en/politics" in home  # the snapshot, served with its own base
