"""Regenerate the README's tables that derive from code (settings, spider arguments).

    python scripts/readme_tables.py          # rewrites README.md in place
    python scripts/readme_tables.py --check  # exit 1 when README.md is stale (tests/test_docs.py)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from arabtoday.config import markdown as settings_table
from arabtoday.params import describe
from arabtoday.schema import markdown_table

README = Path(__file__).resolve().parent.parent / "README.md"


def spider_arguments_table() -> str:
    rows = ["| argument | default | meaning |", "| --- | --- | --- |"]
    rows += [f"| `{name}` | {default or '—'} | {doc} |" for name, default, doc in describe()]
    return "\n".join(rows)


TABLES = {"settings-table": settings_table, "spider-arguments": spider_arguments_table,
          "record-fields": lambda: markdown_table().rstrip("\n")}


def render(text: str) -> str:
    for name, make in TABLES.items():
        pattern = re.compile(rf"(<!-- {name}:begin -->\n).*?(<!-- {name}:end -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"README.md has no <!-- {name}:begin/end --> markers")
        text = pattern.sub(lambda m, make=make: m.group(1) + make() + "\n" + m.group(2), text)
    return text


def main() -> int:
    text = README.read_text("utf-8")
    fresh = render(text)
    if "--check" in sys.argv:
        return 0 if fresh == text else 1
    README.write_text(fresh, "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
