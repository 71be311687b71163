"""Bytes to text and DOM to text blocks (``arabtoday.extraction.html``): the charset judged on the
whole page (one bad byte does not flip it), and a text walk no depth can break."""

from __future__ import annotations

import pytest
from lxml import etree

from arabtoday.extraction import decode_html, extract_bytes
from arabtoday.extraction.html import mostly_utf8, text_blocks
from conftest import SNAPSHOT, expected_records

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


def test_text_walk_is_iterative() -> None:
    """A tree built in memory has no parser limit: the walk must not recurse."""
    root = etree.Element("div")
    leaf = root
    for _ in range(DEPTH):
        leaf = etree.SubElement(leaf, "span")
    leaf.text = "deep text"
    leaf.tail = "tail"
    assert text_blocks(root) == ["deep texttail"]
