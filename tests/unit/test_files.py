"""The one atomic write (``arabtoday.files``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from arabtoday.files import atomic_write_text


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
