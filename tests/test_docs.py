"""The README says what the code does: tables that derive from code are checked here."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def test_readme_settings_and_spider_argument_tables_are_current() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "readme_tables.py"), "--check"], cwd=ROOT,
                            check=False)
    assert result.returncode == 0, "README.md tables are stale: run python scripts/readme_tables.py"


def test_readme_documents_every_exit_status() -> None:
    from arabtoday.outcome import ExitStatus

    text = (ROOT / "README.md").read_text("utf-8")
    table = text[text.index("### Exit statuses"):text.index("### Every article out or counted")]
    for status in ExitStatus:
        assert f"| {int(status)} |" in table or f" {int(status)}," in table or f", {int(status)} |" in table, status
