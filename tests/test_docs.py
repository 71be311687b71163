"""The documentation says what the code does: README.md and docs/*.md, read as files and held to the code.

Tables that derive from code are generated (``scripts/readme_tables.py``) and
must be current; the exit-status and record tables name what the code
declares; every recipe the tests run has its marker; links, module paths,
dotted names, commands and ``make`` targets named in the pages exist.
"""

from __future__ import annotations

import argparse
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

from arabtoday.schema import FIELDS
from conftest import ROOT

DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
CODE_SPAN = re.compile(r"`([^`\n]+)`")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def read(path: Path) -> str:
    return path.read_text("utf-8")


def section(text: str, heading: str) -> str:
    """The text under ``heading`` (a whole heading line), up to the next heading of the same or a higher level."""
    match = re.search(rf"^{re.escape(heading)}\s*$", text, re.M)
    assert match, f"no heading {heading!r}"
    level = len(heading) - len(heading.lstrip("#"))
    end = re.compile(rf"^#{{1,{level}}} ", re.M).search(text, match.end())
    return text[match.end():end.start() if end else len(text)]


def first_table(text: str) -> list[list[str]]:
    """Rows of the first Markdown table in ``text``, header and rule left out, cells stripped."""
    rows: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith("|"):
            rows.append([cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))])
        elif rows:
            break
    assert rows, "no table"
    return rows[2:]


def statuses_in(table: list[list[str]]) -> set[int]:
    """Every number in the first column of a status table (``130, 143`` is two)."""
    return {int(n) for row in table for n in re.findall(r"\d+", row[0])}


# -- generated tables --------------------------------------------------------------------------------------------


def test_generated_tables_are_current() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "readme_tables.py"), "--check"], cwd=ROOT,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"stale documentation tables (run python scripts/readme_tables.py):\n{result.stderr}"


@pytest.mark.parametrize("page", ["README.md", "docs/dataset.md"])
def test_record_table_matches_schema(page: str) -> None:
    rows = first_table(section(read(ROOT / page), "## The record"))
    got = [(names.strip("`"), kind, meaning) for names, kind, *_arrow, meaning in rows]
    want = [(f.name, f.type_label, f.description) for f in FIELDS]
    assert got == want


# -- exit statuses -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["README.md", "docs/running.md"])
def test_every_crawl_exit_status_is_documented(page: str) -> None:
    from arabtoday.exitstatus import PRECEDENCE, ExitStatus

    text = section(read(ROOT / page), "## Exit statuses")
    assert statuses_in(first_table(text)) == {int(s) for s in ExitStatus}
    order = ", ".join(str(int(s)) for s in PRECEDENCE).replace("130, 143", "130/143")
    assert f"the first of {order} wins" in " ".join(text.split())


def test_every_helper_exit_status_is_documented() -> None:
    from arabtoday.exitstatus import ToolStatus

    text = section(read(DOCS / "running.md"), "### Exit status of `arabtoday`")
    assert statuses_in(first_table(text)) == {int(s) for s in ToolStatus}


# -- recipes -----------------------------------------------------------------------------------------------------


def recipe_names_the_tests_run() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "tests").rglob("*.py"):
        if path.name == "test_conftest_helpers.py":
            continue  # tests recipe() itself, on made-up pages
        text = read(path)
        names |= set(re.findall(r"""\brecipe\(["']([a-z-]+)["']\)""", text))
        names |= set(re.findall(r"<!-- recipe:([a-z-]+) -->", text))
    return names


def test_every_recipe_the_tests_run_is_in_the_docs_once() -> None:
    names = recipe_names_the_tests_run()
    assert {"cron", "systemd-service", "systemd-timer", "scrapyd", "distributed"} <= names, names
    for name in sorted(names):
        marker = f"<!-- recipe:{name} -->"
        where = [p for p in PAGES for _ in range(read(p).count(marker))]
        assert len(where) == 1, f"{marker} in {[str(p.relative_to(ROOT)) for p in where]}: want exactly one"
        assert re.search(rf"{re.escape(marker)}\n```[a-z]*\n.+?\n```", read(where[0]), re.S), \
            f"{marker} is not followed by a code block"


# -- links, paths, names, commands -------------------------------------------------------------------------------


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = heading.strip().lower().replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", read(path))
    return {slug(h) for h in re.findall(r"^#{1,6} (.+)$", text, re.M)}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page: Path) -> None:
    text = FENCE.sub("", read(page))
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        file, _, anchor = target.partition("#")
        resolved = (page.parent / file).resolve() if file else page
        assert resolved.exists(), f"{page.name}: link to {target}: no such file"
        if anchor and resolved.suffix == ".md":
            assert anchor in anchors(resolved), f"{page.name}: link to {target}: no such heading"


# A path of the project (``arabtoday/…`` only as a module or a folder: the stats are named ``arabtoday/…`` too).
PROJECT_PATH = re.compile(r"^(?:arabtoday/[\w/]*(?:\.py|/)"
                          r"|(?:devkit|scripts|benchmarks|snapshot|schema|docs)/[\w./-]*)$")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_named_paths_exist(page: Path) -> None:
    for span in CODE_SPAN.findall(read(page)):
        for word in span.split():
            word = word.rstrip(",;:")
            if PROJECT_PATH.match(word):
                assert (ROOT / word).exists(), f"{page.name}: `{span}` names {word}, which does not exist"


def resolves(dotted: str) -> bool:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        try:
            for name in parts[cut:]:
                obj = getattr(obj, name)
        except AttributeError:
            return False
        return True
    return False


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_dotted_names_resolve(page: Path) -> None:
    for span in CODE_SPAN.findall(read(page)):
        match = re.match(r"((?:arabtoday|devkit)(?:\.\w+)+)", span)
        if match and not span.endswith((".service", ".timer")):  # systemd units
            assert resolves(match.group(1)), f"{page.name}: `{span}`: {match.group(1)} does not exist"


def subcommands(parser: argparse.ArgumentParser) -> set[str]:
    return {name for action in parser._actions if isinstance(action, argparse._SubParsersAction)
            for name in action.choices}


def test_commands_named_in_the_docs_exist() -> None:
    from arabtoday.cli import build_parser as arabtoday_parser
    from devkit.__main__ import build_parser as devkit_parser

    tools = {"arabtoday": subcommands(arabtoday_parser()), "devkit": subcommands(devkit_parser())}
    make_targets = set(re.findall(r"^([a-z][\w-]*):", read(ROOT / "Makefile"), re.M))
    for page in PAGES:
        text = read(page).replace("arabtoday run report", "")  # the report's first line, not a command
        for tool, command in re.findall(r"(?:\.venv/bin/|python -m |`)(arabtoday|devkit) ([a-z][a-z-]*)", text):
            assert command in tools[tool], f"{page.name}: `{tool} {command}` is not a command of {tool}"
        code = "\n".join(FENCE.findall(text) + CODE_SPAN.findall(FENCE.sub("", text)))
        for target in re.findall(r"\bmake ([a-z][\w-]*\w)(?![\w-])", code):
            assert target in make_targets, f"{page.name}: `make {target}`: no such target in the Makefile"


# -- the module map ----------------------------------------------------------------------------------------------


def test_architecture_maps_every_module() -> None:
    text = section(read(DOCS / "ARCHITECTURE.md"), "## Module map")
    named = {word for span in CODE_SPAN.findall(text) for word in re.split(r"[\s,]+", span)}
    package = ROOT / "arabtoday"
    modules = {str(p.relative_to(package)) for p in package.rglob("*.py") if p.name != "__init__.py"}
    modules |= {str(p.relative_to(ROOT)) for p in (ROOT / "devkit").glob("*.py") if p.name != "__init__.py"}
    assert sorted(modules - named) == [], "modules missing from the module map of docs/ARCHITECTURE.md"
    listed = {w for w in named if w.endswith(".py")}
    gone = {w for w in listed if not (package / w).exists() and not (ROOT / w).exists()}
    assert not gone, f"the module map names modules that do not exist: {sorted(gone)}"


# -- written for users and contributors --------------------------------------------------------------------------

INTERNAL = re.compile(r"(?i)\b(issues? \d+|round \d+|this round|work in progress|targets?:|target \d)")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_internal_work_items(page: Path) -> None:
    found = [m.group(0) for m in INTERNAL.finditer(read(page))]
    assert not found, f"{page.name} speaks of internal work items: {found}"


def test_the_schema_version_the_pages_name_is_the_code_s() -> None:
    """A page that says which schema version the records have says the one they carry (two said 2.0
    after 2.1 was released)."""
    from arabtoday.version import SCHEMA_VERSION

    named = {(page.name, version) for page in PAGES
             for version in re.findall(r"[Ss]chema version\s+`?(\d+\.\d+)", read(page))}
    assert {page for page, _ in named} >= {"README.md", "dataset.md"}, named
    assert {version for _, version in named} == {SCHEMA_VERSION}, named
