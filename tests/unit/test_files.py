"""The one atomic write, and the check of every file a crawl will write (``arabtoday.files``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from scrapy.settings import Settings

from arabtoday.files import atomic_write_text, unwritable


def test_atomic_write_leaves_no_temporary_file_when_it_fails(tmp_path: Path) -> None:
    target = tmp_path / "r.report.json"
    atomic_write_text(target, "{}\n")
    assert target.read_text("utf-8") == "{}\n"
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OSError):
        atomic_write_text(blocker / "r.report.json", "{}")
    os.chmod(tmp_path, 0o755)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "r.report.json"]


@pytest.mark.parametrize(("name", "what"), [("LOG_FILE", "log"), ("ARABTODAY_REPORT_PATH", "report"),
                                             ("JOBDIR", "job directory")])
def test_every_file_a_crawl_writes_is_tried_before_it_starts(tmp_path: Path, name: str, what: str) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    fine = Settings({"FEEDS": {str(tmp_path / "out.jsonl"): {"format": "jsonl"}}})
    assert unwritable(fine) == []
    settings = Settings({**fine.copy_to_dict(), name: str(blocker / "inside")})
    [problem] = unwritable(settings)
    assert problem.startswith(f"cannot write the {what} {blocker / 'inside'}") and "not a directory" in problem
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not-a-directory"]  # nothing left behind


def test_the_http_cache_is_tried_only_when_it_is_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cache").write_text("x")  # where the cache's directory would be
    settings = Settings({"HTTPCACHE_DIR": str(tmp_path / "cache"), "HTTPCACHE_ENABLED": False})
    assert unwritable(settings) == []
    settings.set("HTTPCACHE_ENABLED", True)
    [problem] = unwritable(settings)
    assert problem.startswith(f"cannot write the HTTP cache {tmp_path / 'cache'}")
