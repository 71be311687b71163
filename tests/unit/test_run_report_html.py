"""The HTML run report (``arabtoday.run.report_html``) as a page: self-contained, escaped, written
atomically, the same from the JSON alone."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from arabtoday.run.report import build_report, dumps_report
from arabtoday.run.report_html import render_html, write_html


def test_page_is_self_contained_and_escapes_what_it_shows() -> None:
    hostile = "</script><script>alert(1)</script>"
    report = build_report({"arabtoday/errors/" + hostile: 1, "arabtoday/articles/failed/" + hostile: 2}, 1.0,
                          run={"settings": {"ARABTODAY_X": hostile}, "arguments": {"lang": "<b>en</b>"}})
    page = render_html(report)
    assert "alert(1)</script>" not in page
    assert "&lt;b&gt;en&lt;/b&gt;" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)  # nothing fetched from anywhere
    assert "default-src 'none'" in page
    embedded = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S)
    assert embedded is not None
    data = json.loads(embedded.group(1))
    assert data["accounting"]["failed"] == {hostile: 2}
    assert data["charts"] == report["charts"]


def test_write_html_is_atomic_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    page = tmp_path / "run.report.html"
    page.write_text("old", "utf-8")
    write_html(build_report({}, 0.0), page)
    assert page.read_text("utf-8").startswith("<!doctype html>")
    assert [p.name for p in tmp_path.iterdir()] == ["run.report.html"]
    with pytest.raises(OSError):
        write_html(build_report({}, 0.0), tmp_path / "run.report.html" / "x.html")  # parent is a file
    assert [p.name for p in tmp_path.iterdir()] == ["run.report.html"]


def test_report_json_round_trips_into_the_same_page(tmp_path: Path) -> None:
    """``python -m arabtoday report X.report.json --html`` renders from the JSON alone."""
    report = build_report({"item_scraped_count": 3, "finish_reason": "finished"}, 2.0)
    saved = tmp_path / "x.report.json"
    saved.write_text(dumps_report(report), "utf-8")
    assert render_html(json.loads(saved.read_text("utf-8"))) == render_html(report)
