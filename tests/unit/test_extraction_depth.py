"""Pages nested deeper than the parser holds (``arabtoday.extraction.depth``): unwrapped, not
truncated, and extracted whole."""

from __future__ import annotations

import pytest

from arabtoday.extraction import extract, parse_page
from arabtoday.extraction.html import text_blocks
from arabtoday.extraction.page import Page, parse_html
from conftest import SNAPSHOT

BASE = "http://golden.test"
DEPTH = 10_000


def snapshot_page(rel: str) -> tuple[str, str]:
    path = next(SNAPSHOT.glob(f"{rel}/*/index.html"))
    return path.read_text("utf-8").replace("__BASE__", BASE), f"{BASE}/{rel}/x"


def nested(depth: int, inner: str, tag: str = "div") -> str:
    return f"<{tag}>" * depth + inner + f"</{tag}>" * depth


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
