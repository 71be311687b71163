"""The site helpers the end-to-end tests stand on (``devkit.site``, ``conftest.add_article``), on a
copy of the snapshot."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

from conftest import (
    add_article,
    article_id_of,
    article_path,
    copy_site,
)
from devkit.site import set_lastmod, unlist_article


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


def test_unlisting_and_lastmod_reach_an_arabic_article_written_percent_encoded(tmp_path: Path) -> None:
    """Sitemaps and feeds write Arabic slugs percent-encoded: unlisting an Arabic article must reach
    them too, or a removal test would meet an article still listed."""
    root = copy_site(tmp_path)
    path = article_path(root, "ar", 680100)
    set_lastmod(root, path, "2020-01-01T00:00:00+00:00")
    assert "2020-01-01T00:00:00+00:00" in (root / "sitemaps" / "ar-2017-10.xml").read_text("utf-8")
    unlist_article(root, path)
    forms = (path, urllib.parse.quote(path, safe="/"))
    listed = [f.relative_to(root) for f in root.rglob("*") if f.suffix in (".xml", ".html")
              and "680100" not in str(f) and any(form in f.read_text("utf-8") for form in forms)]
    assert listed == [], listed
    assert (root / path.lstrip("/") / "index.html").exists()
