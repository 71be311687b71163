"""The package's layout holds: each subpackage imports only what its docstring allows, and no cycle.

The rule is read from each subpackage's ``__init__`` docstring (its ``May import:`` line), so the
docstring a newcomer reads is the rule the code follows. Imports inside functions count too
(they are dependencies); only import-time ones can make a cycle.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import arabtoday

PACKAGE = Path(arabtoday.__file__).parent
DECLARED_ONCE = frozenset({"config", "params", "schema", "items", "signals", "stats", "meta", "version",
                           "exitstatus", "files"})
ENTRY_POINTS = frozenset({"settings", "middlewares", "pipelines", "cli", "__main__", "spiders", "commands"})
SUBPACKAGES = sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py"))
RULE = re.compile(r"^May import: (?P<rule>.+?)(?:\.|\s*\(.*\)\.?)?$", re.M)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def part_of(module: str) -> str:
    """The package or top-level module of ``arabtoday.x.y``: ``x``."""
    return module.split(".")[1] if module.count(".") else module


def imports(path: Path) -> tuple[set[str], set[str]]:
    """(every project module ``path`` imports, those imported at import time)."""
    tree = ast.parse(path.read_text("utf-8"))
    top = {id(node) for node in tree.body}
    every: set[str] = set()
    at_import: set[str] = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        names = [n for n in names if n.startswith("arabtoday.") and _exists(n)]
        every.update(names)
        if id(node) in top:
            at_import.update(names)
    return every, at_import


def _exists(module: str) -> bool:
    relative = Path(*module.split(".")[1:])
    return (PACKAGE / relative).with_suffix(".py").exists() or (PACKAGE / relative / "__init__.py").exists()


def allowed(package: str) -> set[str]:
    """The parts a subpackage may import, read from its docstring."""
    doc = ast.get_docstring(ast.parse((PACKAGE / package / "__init__.py").read_text("utf-8"))) or ""
    found = RULE.search(doc)
    assert found, f"arabtoday/{package}/__init__.py: its docstring has no 'May import:' line"
    rule = found["rule"]
    parts = {package} | (set(DECLARED_ONCE) if "declared-once modules" in rule else set())
    if rule.startswith("nothing of the project"):
        return {package}
    if rule.startswith("every package but"):
        excluded = set(re.findall(r"\w+", rule.split("but", 1)[1].split(",  and")[0]))
        return parts | (set(SUBPACKAGES) - excluded) | DECLARED_ONCE
    if rule.startswith("every other package"):
        return parts | set(SUBPACKAGES)
    return parts | {name for name in re.findall(r"\w+", rule) if name in SUBPACKAGES}


@pytest.mark.parametrize("package", SUBPACKAGES)
def test_each_subpackage_imports_only_what_its_docstring_allows(package: str) -> None:
    permitted = allowed(package) | (ENTRY_POINTS if package in ENTRY_POINTS else set())
    if package in ENTRY_POINTS:
        permitted |= set(SUBPACKAGES) | DECLARED_ONCE
    wrong = {}
    for path in sorted((PACKAGE / package).rglob("*.py")):
        outside = {m for m in imports(path)[0] if part_of(m) not in permitted}
        if outside:
            wrong[str(path.relative_to(PACKAGE.parent))] = sorted(outside)
    assert not wrong, f"imports its docstring does not allow: {wrong}"


def test_no_import_cycle() -> None:
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        graph[module_name(path)] = imports(path)[1]
    done: set[str] = set()

    def visit(module: str, trail: list[str]) -> None:
        if module in trail:
            cycle = [*trail[trail.index(module):], module]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        if module in done:
            return
        for target in sorted(graph.get(module, ())):
            target = target if target in graph else target.rsplit(".", 1)[0]  # `from pkg import name`
            if target != module and target in graph:
                visit(target, [*trail, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])


def test_the_wheel_ships_the_package_and_no_development_tools() -> None:
    import tomllib

    project = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text("utf-8"))
    include = project["tool"]["setuptools"]["packages"]["find"]["include"]
    assert include == ["arabtoday*"]
    assert not (PACKAGE / "devserver.py").exists() and not list(PACKAGE.rglob("launch.py"))


def test_the_product_never_imports_the_development_tools() -> None:
    """devkit, tests and benchmarks may import the product, never the other way: the wheel ships without them."""
    tools = ("devkit", "tests", "benchmarks", "conftest")
    wrong = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names = ([node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
                     else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            hits = [n for n in names if n.split(".")[0] in tools]
            if hits:
                wrong.setdefault(str(path.relative_to(PACKAGE.parent)), []).extend(hits)
    assert not wrong, f"the product imports development tools: {wrong}"
    devkit_doc = ast.get_docstring(ast.parse((PACKAGE.parent / "devkit" / "__init__.py").read_text("utf-8")))
    assert devkit_doc and RULE.search(devkit_doc), "devkit/__init__.py: no docstring with a 'May import:' line"


def test_stat_names_are_spelled_only_in_stats_py() -> None:
    """A stat is named once (``arabtoday.stats.Stat``) and imported: a second spelling drifts (the crawl
    command read the exit status under a name of its own)."""
    stat = re.compile(r"""["']arabtoday/[a-z_]+(/[a-z_{}]+)*["']""")  # a whole literal: a stat's path
    spelled = {str(path.relative_to(PACKAGE.parent)): line.strip()
               for path in PACKAGE.rglob("*.py") if path.name != "stats.py"
               for line in path.read_text("utf-8").splitlines() if stat.search(line)}
    assert spelled == {}, spelled
