"""Deploy to a real scrapyd on loopback and run a crawl through its HTTP API."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from conftest import ROOT, Server, expected_records, free_port, read_jsonl, recipe, unavailable, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
BIN = Path(sys.executable).parent


@pytest.fixture
def scrapyd(tmp_path: Path) -> str:
    if not (BIN / "scrapyd").exists():
        unavailable("scrapyd is not installed (make install adds it)")
    port = free_port()
    (tmp_path / "scrapyd.conf").write_text(
        "[scrapyd]\nbind_address = 127.0.0.1\n"
        f"http_port = {port}\neggs_dir = {tmp_path}/eggs\nlogs_dir = {tmp_path}/logs\nitems_dir =\n"
        f"dbs_dir = {tmp_path}/dbs\nmax_proc = 1\npoll_interval = 0.2\n")
    proc = subprocess.Popen([str(BIN / "scrapyd")], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            return requests.get(f"{url}/daemonstatus.json", timeout=2).ok
        except requests.ConnectionError:
            return False

    wait_until(answers, proc, "scrapyd")
    yield url
    proc.terminate()
    proc.wait(timeout=20)


def test_deploy_and_schedule_through_scrapyd(scrapyd: str, snapshot_server: Server, tmp_path: Path) -> None:
    egg = tmp_path / "arabtoday.egg"
    built = subprocess.run([str(BIN / "scrapyd-deploy"), f"--build-egg={egg}"], cwd=ROOT, capture_output=True,
                           text=True, timeout=300, check=False)
    shutil.rmtree(ROOT / "build", ignore_errors=True)
    assert built.returncode == 0 and egg.exists(), built.stderr
    with egg.open("rb") as fh:
        added = requests.post(f"{scrapyd}/addversion.json", data={"project": "arabtoday", "version": "1"},
                              files={"egg": fh}, timeout=60).json()
    assert added["status"] == "ok", added
    assert requests.get(f"{scrapyd}/listspiders.json", params={"project": "arabtoday"},
                        timeout=30).json()["spiders"] == ["arabtoday"]
    # the README's curl line as written, pointed at this scrapyd, these paths and the copy on loopback;
    # only the politeness delays off
    curl = recipe("scrapyd").split("scrapyd-deploy", 1)[1].split("\n", 1)[1]
    curl = (curl.replace("http://127.0.0.1:6800", scrapyd).replace("/srv/arabtoday/state", str(tmp_path / "state"))
            .replace("/srv/arabtoday/warc", str(tmp_path / "warc")).replace("/srv/out", str(tmp_path / "out")))
    curl += (f" -d base_url={snapshot_server.base} -d setting=DOWNLOAD_DELAY=0 -d setting=AUTOTHROTTLE_ENABLED=False"
             " -d setting=ARABTODAY_RETRY_BACKOFF_BASE=0.2")
    scheduled = subprocess.run(["bash", "-c", curl], capture_output=True, text=True, timeout=60, check=False)
    assert scheduled.returncode == 0, scheduled.stderr
    job = json.loads(scheduled.stdout)
    assert job["status"] == "ok", job
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        jobs = requests.get(f"{scrapyd}/listjobs.json", params={"project": "arabtoday"}, timeout=30).json()
        if any(j["id"] == job["jobid"] for j in jobs["finished"]):
            break
        time.sleep(0.5)
    else:
        pytest.fail(f"scrapyd job did not finish: {json.dumps(jobs)}")
    outputs = list((tmp_path / "out").glob("arabtoday-*.jsonl"))
    assert len(outputs) == 1, "%(time)s was expanded into one file name"
    output = outputs[0]
    records = read_jsonl(output)
    expected = {k for k, v in expected_records(snapshot_server.base).items() if not v["duplicate_of"]}
    assert {r["id"] for r in records if r["status"] == "live"} == expected
    report = json.loads(output.with_name(output.name + ".report.json").read_text("utf-8"))
    assert report["finish_reason"] == "finished"
    assert {r["warc_file"] for r in records if r["status"] == "live"} <= {p.name for p in (tmp_path / "warc").iterdir()}
