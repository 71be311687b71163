"""The README says what the code does: tables that derive from code are checked here."""

from __future__ import annotations

import re
import subprocess
import sys

from arabtoday.schema import FIELDS
from conftest import ROOT

RECORD_HEADING = re.compile(r"^## (The record|One record per article)\b", re.MULTILINE)


def test_readme_settings_and_spider_argument_tables_are_current() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "readme_tables.py"), "--check"], cwd=ROOT,
                            check=False)
    assert result.returncode == 0, "README.md tables are stale: run python scripts/readme_tables.py"


def test_readme_documents_every_exit_status() -> None:
    from arabtoday.exitstatus import ExitStatus

    text = (ROOT / "README.md").read_text("utf-8")
    table = text[text.index("### Exit statuses"):text.index("### Every article out or counted")]
    for status in ExitStatus:
        assert f"| {int(status)} |" in table or f" {int(status)}," in table or f", {int(status)} |" in table, status


def readme_field_table() -> list[list[str]]:
    """Rows of the first table under the record heading, cells stripped."""
    text = (ROOT / "README.md").read_text("utf-8")
    heading = RECORD_HEADING.search(text)
    assert heading, "README has no '## The record' section"
    rows = []
    for line in text[heading.end():].splitlines():
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif rows:
            break
    return rows[2:]  # header and rule


def test_readme_field_table_matches_schema() -> None:
    """Paste the output of ``python -m arabtoday.schema --markdown`` under "## The record"."""
    rows = readme_field_table()
    got = [(names.strip("`"), kind, meaning) for names, kind, *_arrow, meaning in rows]
    want = [(f.name, f.type_label, f.description) for f in FIELDS]
    assert got == want
