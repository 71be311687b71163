"""Decoding judged on the whole page, and DOM walks that no nesting depth can break."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from arabtoday.extraction import decode_html, extract, extract_bytes, parse_page
from arabtoday.extraction.html import mostly_utf8, text_blocks
from arabtoday.extraction.page import Page, parse_html
from conftest import ROOT, SNAPSHOT, expected_records

BASE = "http://golden.test"
EXPECTED = expected_records(BASE)
DEPTH = 10_000


def snapshot_page(rel: str) -> tuple[str, str]:
    path = next(SNAPSHOT.glob(f"{rel}/*/index.html"))
    return path.read_text("utf-8").replace("__BASE__", BASE), f"{BASE}/{rel}/x"


def with_bad_byte(html: str) -> bytes:
    """The page's UTF-8 with one byte that is not UTF-8 (a truncated copy-paste) inside the first paragraph."""
    data = html.encode("utf-8")
    at = data.index(b"<p>", data.index(b'class="article-body"')) + len(b"<p>")
    return data[:at] + b"\xe9" + data[at:]


@pytest.mark.parametrize(("rel", "record_id"), [("ar/politics/680115", "ar-680115"),
                                                ("en/politics/103907", "en-103907")])
@pytest.mark.parametrize("declared", [None, "text/html; charset=windows-1256", "text/html; charset=utf-8"])
def test_one_bad_byte_does_not_flip_the_charset(rel: str, record_id: str, declared: str | None) -> None:
    html, url = snapshot_page(rel)
    if declared is None:
        html = html.replace('<meta charset="utf-8">', "")
    body = with_bad_byte(html)
    decoded = decode_html(body, declared)
    assert decoded.encoding.replace("-", "").lower() == "utf8"
    assert decoded.text.count("\ufffd") == 1
    record = extract_bytes(body, url, declared)
    expected = EXPECTED[record_id]
    assert record["title"] == expected["title"]
    paragraphs = record["body"].split("\n\n")
    assert paragraphs[1:] == expected["body"].split("\n\n")[1:]  # only the damaged paragraph differs...
    assert paragraphs[0].replace("\ufffd", "") == expected["body"].split("\n\n")[0]  # ...by one U+FFFD


def test_legacy_text_is_never_taken_for_damaged_utf8() -> None:
    html, _ = snapshot_page("ar/politics/680115")
    legacy = html.replace('<meta charset="utf-8">', "").encode("windows-1256", errors="xmlcharrefreplace")
    assert mostly_utf8(legacy) is None
    assert decode_html(legacy).encoding == "cp1256"
    latin = "Café crème, déjà vu — naïve façade. " * 20
    assert mostly_utf8(latin.encode("windows-1252")) is None


def nested(depth: int, inner: str, tag: str = "div") -> str:
    return f"<{tag}>" * depth + inner + f"</{tag}>" * depth


def test_text_walk_is_iterative() -> None:
    """A tree built in memory has no parser limit: the walk must not recurse."""
    root = etree.Element("div")
    leaf = root
    for _ in range(DEPTH):
        leaf = etree.SubElement(leaf, "span")
    leaf.text = "deep text"
    leaf.tail = "tail"
    assert text_blocks(root) == ["deep texttail"]


def test_a_page_too_deep_for_the_parser_is_unwrapped_not_truncated() -> None:
    html = f"<html><body>{nested(DEPTH, '<p>deep &amp; text</p>')}<p>after</p></body></html>"
    assert "deep" not in "".join(parse_html(html).itertext())  # what the parser alone keeps
    page = Page(html, "https://www.arabstoday.net/en/politics/5")
    assert page.flattened
    assert text_blocks(page.root) == ["deep & text", "after"]
    assert not Page("<html><body><p>x</p></body></html>", "https://www.arabstoday.net/en/politics/6").flattened


PARAGRAPHS = "".join(f"<p>Paragraph {i}: the ministry said on Monday that the new water plan would cost more than "
                     f"expected, and that work would start next spring.</p>" for i in range(6))


@pytest.mark.parametrize("where", ["fallback", "layout"])
def test_deeply_nested_page_is_extracted(where: str) -> None:
    """10,000 nested elements (a broken template repeating a wrapper): no
    RecursionError, and the text that is on the page comes out."""
    if where == "layout":
        html, url = snapshot_page("en/politics/103907")
        start = html.index('<div class="article-body">') + len('<div class="article-body">')
        html = html[:start] + nested(DEPTH, PARAGRAPHS, "span") + html[start:]
    else:
        url = "https://www.arabstoday.net/en/politics/5"
        html = ('<html><head><meta property="og:title" content="Deep page"><meta property="article:published_time" '
                f'content="2020-05-01T10:00:00Z"></head><body>{nested(DEPTH, PARAGRAPHS)}</body></html>')
    record = extract(html, url)
    assert "Paragraph 5: the ministry said" in record["body"]
    assert parse_page(html, url).blocks


def test_extract_command_goes_on_after_a_deep_page(tmp_path: Path) -> None:
    deep = ('<html><head><meta property="og:title" content="Deep page"><meta property="article:published_time" '
            f'content="2020-05-01T10:00:00Z"></head><body>{nested(DEPTH, PARAGRAPHS)}</body></html>')
    (tmp_path / "a-deep.html").write_text(deep, "utf-8")
    html, _ = snapshot_page("en/politics/103907")
    (tmp_path / "b-normal.html").write_text(html, "utf-8")
    result = subprocess.run([sys.executable, "-m", "arabtoday", "extract", str(tmp_path / "a-deep.html"),
                             str(tmp_path / "b-normal.html")], cwd=ROOT, capture_output=True, text=True,
                            timeout=120, check=False)
    assert "RecursionError" not in result.stderr, result.stderr[-2000:]
    titles = [json.loads(line)["title"] for line in result.stdout.splitlines()]
    assert EXPECTED["en-103907"]["title"] in titles
