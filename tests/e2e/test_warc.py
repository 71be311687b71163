"""The WARC of every fetch (``ARABTODAY_WARC_DIR``), read back by warcio, the reference reader (not ours):
every exchange the server saw is there, as sent; each record names its response record; re-extracting
the files gives the same records; rotation, SIGKILL and a full disk leave every file readable."""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from arabtoday.export.resolve import Log
from conftest import FAST, ROOT, Server, assert_accounted, assert_exit, crawl, read_jsonl, serving
from devkit.launch import crawl_command
from devkit.site import article_path, copy_site, edit_article, set_lastmod

pytestmark = [pytest.mark.e2e]

RETRIED = ("en", 103900)  # an article that answers 503 once (retried), then 200
MISSING = "/en/middle-east/999999/a-deleted-story"
MIN_WARC_BYTES = 64 * 1024  # ARABTODAY_WARC_MAX_BYTES's lowest accepted value: several files on the snapshot


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Server, dict[str, str]]]:
    """The snapshot, with an article that fails once, a redirect to an article, and a link to a 404."""
    root = copy_site(tmp_path / "site")
    retried = article_path(root, *RETRIED)
    first_ar = sorted((root / "ar").glob("*/*/*/index.html"))[0].parent
    target = urllib.parse.quote("/" + str(first_ar.relative_to(root)))  # a Location header is ASCII
    moved = "/ar/old-address/999998"  # an id of its own, so that it is requested whatever else is
    home = root / "en" / "index.html"
    home.write_text(home.read_text("utf-8").replace(
        "</nav>", f'</nav><a href="__BASE__{MISSING}">gone</a><a href="__BASE__{moved}/x">moved</a>', 1), "utf-8")
    paths = {"retried": retried, "moved": moved + "/x", "target": target}
    with serving(root, tmp_path, {"faults": {retried: "503@1"}, "redirects": {moved + "/x": "__BASE__" + target}}) \
            as server:
        yield server, paths


def warc_records(directory: Path) -> list[tuple[str, Any]]:
    """(file name, record) of every record of every WARC file, in order; warcio must read each whole."""
    found = []
    for path in sorted(directory.glob("*.warc.gz")):
        with path.open("rb") as fh:
            for record in ArchiveIterator(fh):
                found.append((path.name, _kept(record)))
    return found


def _kept(record: Any) -> dict[str, Any]:
    headers = dict(record.rec_headers.headers)
    http = record.http_headers
    return {"type": record.rec_type, "headers": headers, "status": int(http.get_statuscode())
            if http is not None and record.rec_type == "response" else None,
            "http": dict(http.headers) if http is not None else {}, "raw": record.raw_stream.read()}


def test_every_exchange_is_kept_as_sent_and_each_record_names_its_own(site: tuple[Server, dict[str, str]],
                                                                       tmp_path: Path) -> None:
    server, paths = site
    warc = tmp_path / "warc"
    result = crawl(server.base, tmp_path / "out.jsonl", server=server, settings={"ARABTODAY_WARC_DIR": str(warc)})
    assert_exit(result, 0)
    assert_accounted(result)
    records = warc_records(warc)
    assert records and records[0][1]["type"] == "warcinfo"
    files = {name for name, _ in records}
    assert all(next(r for n, r in records if n == name)["type"] == "warcinfo" for name in files)

    responses = {r["headers"]["WARC-Record-ID"]: (name, r) for name, r in records if r["type"] == "response"}
    requests = [r for _, r in records if r["type"] == "request"]
    # every answer the server gave is a response record, with its status: the 503 before the retry, the
    # redirect, the 404, robots.txt and every sitemap, feed and listing
    seen = collections.Counter((server.base + q["path"], q["status"]) for q in result.requests)
    kept = collections.Counter((r["headers"]["WARC-Target-URI"], r["status"]) for _, r in responses.values())
    assert kept == seen
    assert {(server.base + paths["retried"], 503), (server.base + paths["moved"], 301),
            (server.base + MISSING, 404), (server.base + "/robots.txt", 200)} <= set(kept)
    # each response has its request, made concurrent to it
    assert sorted(r["headers"]["WARC-Concurrent-To"] for r in requests) == sorted(responses)
    assert all(r["headers"]["WARC-Target-URI"] == responses[r["headers"]["WARC-Concurrent-To"]][1]["headers"][
        "WARC-Target-URI"] for r in requests)

    # the payload is the body as the server sends it
    for url in (server.base + paths["target"], server.base + "/robots.txt", server.base + "/sitemap.xml"):
        with urllib.request.urlopen(url) as answer:
            sent = answer.read()
        assert any(r["raw"] == sent for _, r in responses.values() if r["headers"]["WARC-Target-URI"] == url)

    # each record names its file and its response record: a 200 at its address, captured when the record says
    assert result.records
    for record in result.records:
        name, response = responses[record["warc_record_id"]]
        assert record["warc_file"] == name and (warc / name).is_file()
        assert response["status"] == 200 and response["headers"]["WARC-Date"] == record["captured_at"]
        assert response["headers"]["WARC-Target-URI"].split("?")[0] in (record["url"], server.base + paths["target"])
        assert record["origin"] == "live"
    assert result.stats["arabtoday/warc/records"] == len(records)

    # re-extraction: the same dataset (the log resolved to its stories: a copy met before its original
    # is corrected by a later line in either), the same lines in the same order whatever --jobs
    stories = {row["id"]: row for row in Log([result.output]).read().stories()}
    outputs = {}
    for jobs in (1, 2):
        done = subprocess.run([sys.executable, "-m", "arabtoday", "extract", "--jobs", str(jobs),
                               *sorted(map(str, warc.glob("*.warc.gz")))], cwd=ROOT, capture_output=True, check=False)
        assert done.returncode == 0, done.stderr.decode()[-2000:]
        (tmp_path / f"extract-{jobs}.jsonl").write_bytes(done.stdout)
        outputs[jobs] = [json.loads(line) for line in done.stdout.splitlines()]
        again = {row["id"]: row for row in Log([tmp_path / f"extract-{jobs}.jsonl"]).read().stories()}
        assert set(again) == set(stories)
        for article_id, row in again.items():
            for name in ("content_hash", "warc_file", "warc_record_id", "captured_at", "origin", "body", "copies"):
                assert row[name] == stories[article_id][name], (article_id, name)
    assert [{**r, "crawled_at": None} for r in outputs[1]] == [{**r, "crawled_at": None} for r in outputs[2]]


def test_files_rotate_and_each_stands_alone(snapshot_server: Server, tmp_path: Path) -> None:
    warc = tmp_path / "warc"
    result = crawl(snapshot_server.base, tmp_path / "out.jsonl", server=snapshot_server, settings={
        "ARABTODAY_WARC_DIR": str(warc), "ARABTODAY_WARC_MAX_BYTES": str(MIN_WARC_BYTES)})
    assert_exit(result, 0)
    files = sorted(warc.glob("*.warc.gz"))
    assert len(files) >= 3, [f.stat().st_size for f in files]
    for path in files:
        with path.open("rb") as fh:
            kinds = [record.rec_type for record in ArchiveIterator(fh)]
        assert kinds[0] == "warcinfo" and kinds.count("warcinfo") == 1
        # a file closes at the first whole exchange past the limit: one exchange's bytes over at most
        assert kinds.count("request") == kinds.count("response")
    responses = sum(1 for _, r in warc_records(warc) if r["type"] == "response")
    assert responses == len(result.requests)
    assert result.stats["arabtoday/warc/files"] == len(files)


def records_until_damage(path: Path) -> tuple[int, bool]:
    """(whole records warcio reads from the start, whether it then met damage)."""
    count = 0
    with path.open("rb") as fh:
        try:
            for record in ArchiveIterator(fh):
                record.raw_stream.read()
                count += 1
        except (ArchiveLoadFailed, EOFError, OSError):
            return count, True
    return count, False


def test_sigkill_leaves_every_file_readable_and_a_rerun_goes_on(snapshot_server: Server, tmp_path: Path) -> None:
    warc, state, out = tmp_path / "warc", tmp_path / "state", tmp_path / "killed.jsonl"
    settings = {**FAST, "DOWNLOAD_DELAY": "0.05", "CONCURRENT_REQUESTS_PER_DOMAIN": "1", "ARABTODAY_FSYNC_EVERY": "2",
                "ARABTODAY_WARC_DIR": str(warc), "ARABTODAY_STATE_DIR": str(state)}
    log = tmp_path / "killed.log"
    proc = subprocess.Popen(crawl_command(snapshot_server.base, out, settings=settings), cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=log.open("wb"))
    deadline = time.monotonic() + 120
    try:
        while (not out.exists() or out.read_bytes().count(b"\n") < 3) and proc.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.005)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, log.read_text("utf-8")[-3000:]
    killed = sorted(warc.glob("*.warc.gz"))
    assert killed, "the kill came before anything was written"
    for path in killed:
        count, _ = records_until_damage(path)
        assert count >= 1  # its warcinfo at least, then every whole record
    first = read_jsonl(out)
    assert first, "the kill came too early"
    sizes = {p.name: p.stat().st_size for p in killed}

    rerun = crawl(snapshot_server.base, tmp_path / "rerun.jsonl", settings={
        "ARABTODAY_WARC_DIR": str(warc), "ARABTODAY_STATE_DIR": str(state)})
    assert_exit(rerun, 0)
    assert {p.name: p.stat().st_size for p in killed} == sizes  # a new file: the torn one is left as it was
    new = [p for p in sorted(warc.glob("*.warc.gz")) if p.name not in sizes]
    assert len(new) >= 1 and all(records_until_damage(p) == (records_until_damage(p)[0], False) for p in new)
    ids = {r["headers"]["WARC-Record-ID"] for p in new for r in _whole_records(p)}
    assert rerun.records and all(r["warc_record_id"] in ids for r in rerun.records)
    # every record the killed run wrote names a response record that warcio reads in its file
    ids_killed = {r["headers"]["WARC-Record-ID"] for p in killed for r in _whole_records(p)}
    assert all(r["warc_record_id"] in ids_killed for r in first if r["status"] == "live")


def _whole_records(path: Path) -> list[dict[str, Any]]:
    found = []
    with path.open("rb") as fh:
        try:
            for record in ArchiveIterator(fh):
                found.append(_kept(record))
        except (ArchiveLoadFailed, EOFError, OSError):
            pass  # damage after the last whole record: what a SIGKILL may leave
    return found


def test_a_full_disk_stops_the_run_with_status_4(snapshot_server: Server, tmp_path: Path, tiny_tmpfs: Path) -> None:
    result = crawl(snapshot_server.base, tmp_path / "out.jsonl", settings={"ARABTODAY_WARC_DIR": str(tiny_tmpfs)})
    assert_exit(result, 4)
    assert_accounted(result)
    assert result.log.count("WARC ") >= 1 and "Traceback" not in result.log, result.tail()
    assert result.stats.get("arabtoday/errors/output", 0) == 1
    files = list(tiny_tmpfs.glob("*.warc.gz"))
    assert files
    for path in files:  # what the failed write began is cut off: every file ends on a whole record
        count, damaged = records_until_damage(path)
        assert count >= 1 and not damaged
    assert len(result.records) < 31  # it stopped: the snapshot's WARC is several times the disk


def test_an_unwritable_warc_directory_is_refused_before_any_request(snapshot_server: Server, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = crawl(snapshot_server.base, tmp_path / "out.jsonl", server=snapshot_server,
                   settings={"ARABTODAY_WARC_DIR": str(blocker / "warc")})
    assert_exit(result, 4)
    assert result.requests == []
    assert f"cannot write the WARC directory {blocker / 'warc'}" in result.log + result.stderr


EDITED = ("en", 103907)


def test_extract_over_several_runs_files_keeps_each_revision(snapshot_server: Server, tmp_path: Path) -> None:
    """Two scheduled runs, the site editing one article between them: ``extract`` over both runs' WARC
    files gives the edit as its next revision (as the crawl wrote it), not as the same article met twice
    (a trial's refreshed dataset silently kept the old text); unchanged captures stay one record each."""
    root = copy_site(tmp_path / "site")
    path = article_path(root, *EDITED)
    warc = tmp_path / "warc"
    settings = {**FAST, "ARABTODAY_STATE_DIR": str(tmp_path / "state"), "ARABTODAY_WARC_DIR": str(warc)}
    with serving(root, tmp_path, {}) as server:
        first = crawl(server.base, tmp_path / "run1.jsonl", server=server, settings=settings)
        edit_article(root, path, "<p>", "<p>Updated: the talks resumed on Monday. ")
        set_lastmod(root, path, "2030-01-01T00:00:00+00:00")
        second = crawl(server.base, tmp_path / "run2.jsonl", server=server, settings=settings)
    assert_exit(first, 0)
    assert_exit(second, 0)
    [revised] = second.records
    assert revised["id"] == f"{EDITED[0]}-{EDITED[1]}" and revised["revision"] == 2
    done = subprocess.run([sys.executable, "-m", "arabtoday", "extract", *sorted(map(str, warc.glob("*.warc.gz")))],
                          cwd=ROOT, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    again = [json.loads(line) for line in done.stdout.splitlines()]
    versions = [(r["revision"], r["previous_hash"], r["content_hash"]) for r in again if r["id"] == revised["id"]]
    original = first.by_id[revised["id"]]
    assert versions == [(1, None, original["content_hash"]),
                        (2, original["content_hash"], revised["content_hash"])], versions
    live = [r["id"] for r in again if r["status"] == "live"]
    assert len(live) == len(set(live)) + 1  # the edited article twice, every other article once
    (tmp_path / "again.jsonl").write_bytes(done.stdout)
    stories = {row["id"]: row for row in Log([tmp_path / "again.jsonl"]).read().stories()}
    assert stories[revised["id"]]["body"] == revised["body"]
