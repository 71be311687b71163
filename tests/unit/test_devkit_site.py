"""The site helpers the end-to-end tests stand on (``devkit.site``, ``conftest.add_article``), on a
copy of the snapshot."""

from __future__ import annotations

from pathlib import Path

from conftest import (
    add_article,
    article_id_of,
    article_path,
    copy_site,
)


def test_article_helpers_read_the_snapshot(tmp_path: Path) -> None:
    """The helpers the acceptance tests stand on."""
    root = copy_site(tmp_path)
    path = article_path(root, "en", 104257)
    assert article_id_of(path) == "en-104257"
    assert article_id_of("/en/politics") is None and article_id_of("/en/print/104257") is None
    assert article_id_of("/en/amp/104257") == "en-104257"  # an AMP copy stands for its article
    new = add_article(root, "en", "politics", 104500, slug="a-quiet-harbour", title="A quiet harbour")
    html = (root / new.lstrip("/") / "index.html").read_text("utf-8")
    assert "A quiet harbour" in html and "/en/politics/104500/a-quiet-harbour" in html
    body = html.split('<div class="article-body">')[1].split('<p class="article-source">')[0]
    assert "Paragraph 7" in body and "<p>" in body
