"""The shared test helpers of ``tests/conftest.py`` that other tests stand on (the recipe reader, what a
missing dependency does under CI), and the script that installs the tests' programs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, recipe, recipe_sources

CRON = "0 * * * * cd /srv/arabtoday && make crawl"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return path


def test_recipes_are_looked_for_in_the_readme_then_every_doc() -> None:
    sources = recipe_sources()
    assert sources[0] == ROOT / "README.md"
    assert set((ROOT / "docs").glob("*.md")) <= set(sources)
    top = [p for p in sources if p.parent == ROOT / "docs"]
    deeper = [p for p in sources if p.parent.parent == ROOT / "docs"]
    assert all(sources.index(a) < sources.index(b) for a in top for b in deeper)  # docs/*.md first


def test_a_recipe_moved_out_of_the_readme_is_found_in_the_docs(tmp_path: Path) -> None:
    readme = write(tmp_path / "README.md", "# Project\n\nThe recipes are in docs/operations.md.\n")
    operations = write(tmp_path / "docs" / "operations.md", f"## Cron\n\n<!-- recipe:cron -->\n```cron\n{CRON}\n```\n")
    assert recipe("cron", [readme, operations]) == CRON


def test_the_first_file_with_the_marker_wins(tmp_path: Path) -> None:
    first = write(tmp_path / "README.md", "<!-- recipe:cron -->\n```\nfirst\nline two\n```\n")
    second = write(tmp_path / "docs" / "operations.md", "<!-- recipe:cron -->\n```\nsecond\n```\n")
    assert recipe("cron", [first, second]) == "first\nline two"
    assert recipe("cron", [second, first]) == "second"


def test_a_missing_recipe_fails_naming_every_file_searched(tmp_path: Path) -> None:
    readme = write(tmp_path / "README.md", "<!-- recipe:cron -->\n```\nx\n```\n")
    docs = write(tmp_path / "docs" / "a.md", "no marker here\n")
    with pytest.raises(AssertionError, match="recipe:scrapyd") as caught:
        recipe("scrapyd", [readme, docs, tmp_path / "docs" / "missing.md"])
    assert str(readme) in str(caught.value) and str(docs) in str(caught.value)


def test_a_marker_name_is_matched_whole(tmp_path: Path) -> None:
    page = write(tmp_path / "README.md", "<!-- recipe:systemd-timer -->\n```ini\ntimer\n```\n"
                                         "<!-- recipe:systemd -->\n```ini\nservice\n```\n")
    assert recipe("systemd", [page]) == "service"


def test_every_shared_helper_and_fixture_is_documented_in_the_conftest_docstring() -> None:
    """The helpers are documented in one place: the conftest module's docstring names each of them."""
    import ast

    import conftest

    doc = conftest.__doc__ or ""
    tree = ast.parse(Path(conftest.__file__).read_text("utf-8"))
    public = [name for node in tree.body for name in defined(node) if not name.startswith(("_", "pytest_"))]
    assert len(public) > 30
    missing = [name for name in public if name not in doc]
    assert not missing, f"tests/conftest.py: document these in the module docstring: {missing}"


def defined(node: object) -> list[str]:
    """The names a top-level statement of a module defines."""
    import ast

    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    return []


# -- a missing dependency under CI=true ------------------------------------------------------------------------------

NEEDS_A_TOOL = '''
from conftest import unavailable


def test_needs_a_tool() -> None:
    unavailable("no frobnicator on this machine")
'''


@pytest.mark.parametrize(("ci", "outcome"), [("true", "1 failed"), ("", "1 skipped")])
def test_a_missing_dependency_fails_under_ci_and_skips_elsewhere(tmp_path: Path, ci: str, outcome: str) -> None:
    test = write(tmp_path / "test_needs_a_tool.py", NEEDS_A_TOOL)
    env = {**os.environ, "CI": ci, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT)])}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                           "--rootdir", str(tmp_path), "-c", os.devnull, "-rA", str(test)],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120, check=False)
    assert outcome in done.stdout, done.stdout[-2000:]
    assert "no frobnicator on this machine" in done.stdout
    assert done.returncode == (1 if ci else 0)


@pytest.mark.parametrize(("ci", "status"), [("true", 1), ("", 0)])
def test_the_ensure_script_fails_under_ci_when_it_cannot_provide(tmp_path: Path, ci: str, status: int) -> None:
    """A PATH without apt-get (nothing can be installed) and without the program asked for."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "id").symlink_to(shutil.which("id"))
    done = subprocess.run(["/bin/bash", str(ROOT / "scripts" / "ensure-tools.sh"), "frobnicator:frob"],
                          capture_output=True, text=True, env={"PATH": str(bin_dir), "CI": ci}, timeout=60,
                          check=False)
    assert done.returncode == status, done.stderr
    assert "missing and not installable here (needs root and apt-get): frobnicator" in done.stderr
