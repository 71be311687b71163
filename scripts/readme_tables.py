"""Regenerate the documentation's tables that derive from code (settings, spider arguments, record fields).

    python scripts/readme_tables.py          # rewrites every table in place
    python scripts/readme_tables.py --check  # exit 1 when a table is stale or missing (tests/test_docs.py)

A table lives between ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->`` in the
pages listed in ``HOMES`` (README.md and docs/*.md); each of its homes must
carry the markers, and a marker of a table this script does not know is an
error, so a table can neither go missing nor be left behind unchecked.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

from arabtoday.config import markdown as settings_table
from arabtoday.params import describe
from arabtoday.schema import markdown_table

ROOT = Path(__file__).resolve().parent.parent
MARKER = re.compile(r"<!-- ([a-z-]+):begin -->")


def spider_arguments_table() -> str:
    rows = ["| argument | default | meaning |", "| --- | --- | --- |"]
    rows += [f"| `{name}` | {default or '—'} | {doc} |" for name, default, doc in describe()]
    return "\n".join(rows)


TABLES: dict[str, Callable[[], str]] = {
    "settings-table": settings_table,
    "spider-arguments": spider_arguments_table,
    "record-fields": lambda: markdown_table().rstrip("\n"),
}
# Where each table must be (paths relative to the project root).
HOMES: dict[str, tuple[str, ...]] = {
    "settings-table": ("docs/running.md",),
    "spider-arguments": ("docs/running.md",),
    "record-fields": ("README.md", "docs/dataset.md"),
}


def pages() -> list[Path]:
    """Every page that may carry a generated table."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def render(text: str, where: str) -> str:
    """``text`` with every generated table in it rewritten from the code."""
    for name in MARKER.findall(text):
        if name not in TABLES:
            raise SystemExit(f"{where}: <!-- {name}:begin --> names no generated table (known: {', '.join(TABLES)})")
    for name, make in TABLES.items():
        pattern = re.compile(rf"(<!-- {name}:begin -->\n).*?(<!-- {name}:end -->)", re.S)
        text = pattern.sub(lambda m, make=make: m.group(1) + make() + "\n" + m.group(2), text)
    return text


def missing_homes() -> list[str]:
    """Tables absent from a page that must carry them."""
    missing = []
    for name, homes in HOMES.items():
        for home in homes:
            path = ROOT / home
            text = path.read_text("utf-8") if path.exists() else ""
            if f"<!-- {name}:begin -->" not in text or f"<!-- {name}:end -->" not in text:
                missing.append(f"{home}: no <!-- {name}:begin/end --> markers")
    return missing


def main() -> int:
    check = "--check" in sys.argv
    problems = missing_homes()
    for path in pages():
        where = str(path.relative_to(ROOT))
        text = path.read_text("utf-8")
        fresh = render(text, where)
        if fresh == text:
            continue
        if check:
            problems.append(f"{where}: stale table(s); run python scripts/readme_tables.py")
        else:
            path.write_text(fresh, "utf-8")
    for problem in problems:
        sys.stderr.write(problem + "\n")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
