"""The project's own copies of the site, for the demo, the tests and the benchmarks.

The bundled snapshot (``snapshot/www``, served by :mod:`devkit.server`)
and its answer key (``snapshot/expected.jsonl``: what a correct crawl of it
yields, with ``__BASE__`` for the address it is served at); a private copy a
test or benchmark may alter; the ``_site.json`` that tells the dev server
which faults and redirects to play; and how a logged request names an
article. Large generated copies are :mod:`devkit.sitegen`. Tests and
benchmarks both read the site through here, so neither imports the other.
"""

from __future__ import annotations

import json
import re
import shutil
import urllib.parse
from pathlib import Path
from typing import Any

from arabtoday.site.addresses import article_id_of

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT_DIR = PROJECT_ROOT / "snapshot"
BUNDLED_SITE = SNAPSHOT_DIR / "www"
EXPECTED = SNAPSHOT_DIR / "expected.jsonl"
BASE_PLACEHOLDER = "__BASE__"


def expected_records(base: str) -> dict[str, dict[str, Any]]:
    """The snapshot's answer key, by id, for the snapshot served at ``base``."""
    records = {}
    for line in EXPECTED.read_text("utf-8").splitlines():
        record = json.loads(line.replace(BASE_PLACEHOLDER, base))
        records[record["id"]] = record
    return records


def article_pages() -> list[Path]:
    """The snapshot's article pages (``<lang>/<section>/<id>/<slug>/index.html``), AMP and print copies aside."""
    return sorted(p for p in BUNDLED_SITE.glob("*/*/*/*/index.html") if p.parts[-4] not in ("amp", "print"))


def article_page(lang: str, number: str) -> Path:
    """The snapshot's page of one article (under the first section that has it)."""
    return next(p for p in article_pages() if p.parts[-3] == number and p.parts[-5] == lang)


def earlier_text(page: Path, base: str) -> bytes:
    """An article page as archived before the site edited it: one word of its body replaced by
    ``Archived`` (a text the site no longer serves, so a revision of its own)."""
    html = page_html(page, base)
    article_id = f"{page.parts[-5]}-{page.parts[-3]}"
    word = next(w for w in expected_records(base)[article_id]["body"].split()
                if w.isalpha() and len(w) > 5 and w in html)
    return html.replace(word, "Archived").encode()


def served_url(page: Path, base: str) -> str:
    """The address a page of the snapshot is served at from ``base`` (percent-encoded, as requested)."""
    return f"{base}/{urllib.parse.quote(page.parent.relative_to(BUNDLED_SITE).as_posix())}"


def page_html(page: Path, base: str) -> str:
    """A page of the snapshot as served from ``base``."""
    return page.read_text("utf-8").replace(BASE_PLACEHOLDER, base)


def snapshot_records(base: str) -> list[dict[str, Any]]:
    """Every article page of the snapshot through the parser and cleaning, as records (no crawl, no dedup)."""
    from arabtoday.cleaning.record import clean
    from arabtoday.extraction.api import as_record, parse_page

    return [as_record(clean(parse_page(page_html(p, base), served_url(p, base)))) for p in article_pages()]


def copy_site(dest: Path) -> Path:
    """A private copy of the snapshot that a test may alter (faults, redirects, edits)."""
    target = dest / "www"
    shutil.copytree(BUNDLED_SITE, target)
    return target


def site_meta(root: Path) -> dict[str, Any]:
    """A site copy's ``_site.json`` (the dev server's faults, redirects and aliases)."""
    return json.loads((root / "_site.json").read_text("utf-8"))


def write_site_meta(root: Path, meta: dict[str, Any]) -> None:
    (root / "_site.json").write_text(json.dumps(meta, indent=1), "utf-8")


def plain_path(request: dict[str, Any]) -> str:
    """A logged request's path as ``_site.json`` and the site copy name it: decoded, no query."""
    return urllib.parse.unquote(request["path"].split("?", 1)[0])


def article_requests(requests: list[dict[str, Any]]) -> list[str]:
    """The article ids the dev server was asked for, in order, one entry per request."""
    return [i for i in (article_id_of(r["path"]) for r in requests) if i is not None]


def article_path(root: Path, lang: str, number: int) -> str:
    """The path of an article of a site copy (its first section's address, without a trailing slash)."""
    found = sorted((root / lang).glob(f"*/{number}/*/index.html"))
    if not found:
        raise LookupError(f"no article {lang}-{number} under {root}")
    return "/" + str(found[0].parent.relative_to(root))


# -- changes to a site copy between runs: the site's history as a test plays it ---------------------------------------

_BLOCKS = re.compile(r"<(url|item)>.*?</\1>", re.S)  # a sitemap entry, a feed item


def _site_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and p.suffix in (".html", ".xml")]


def unlist_article(root: Path, path: str) -> None:
    """No sitemap, feed or page of the copy names the article any more (its entries are removed, links
    to it point at the home page); its own page stays where it is."""
    home = f'"{BASE_PLACEHOLDER}/{path.split("/")[1]}/"'
    for file in _site_files(root):
        text = original = file.read_text("utf-8")
        for link in _links(path):
            if link in text:
                text = _BLOCKS.sub(lambda m, link=link: "" if link in m.group(0) else m.group(0), text)
                text = text.replace(f'"{link}"', home)
        if text != original:
            file.write_text(text, "utf-8")


def _links(path: str) -> set[str]:
    """The ways the copy's files write an article's address: as written, and percent-encoded
    (sitemaps and feeds encode Arabic slugs, pages may not)."""
    return {BASE_PLACEHOLDER + path, BASE_PLACEHOLDER + urllib.parse.quote(path, safe="/")}


def remove_article(root: Path, path: str) -> None:
    """The article is gone from the copy: unlisted, and its page and AMP page deleted (the server answers 404)."""
    unlist_article(root, path)
    lang, number = path.split("/")[1], path.split("/")[3]
    shutil.rmtree(root / path.lstrip("/"))
    shutil.rmtree(root / lang / "amp" / number, ignore_errors=True)


def set_lastmod(root: Path, path: str, lastmod: str) -> None:
    """The sitemap entry of the article says it changed at ``lastmod`` (ISO 8601)."""
    for sitemap in (root / "sitemaps").glob("*.xml"):
        text = sitemap.read_text("utf-8")
        for link in _links(path):
            text = re.sub(rf"({re.escape(link)}</loc><lastmod>)[^<]*", rf"\g<1>{lastmod}", text)
        sitemap.write_text(text, "utf-8")


def edit_article(root: Path, path: str, old: str, new: str) -> None:
    """The site edits the article's text."""
    page = root / path.lstrip("/") / "index.html"
    text = page.read_text("utf-8")
    if old not in text:
        raise LookupError(f"{old!r} is not in {path}")
    page.write_text(text.replace(old, new, 1), "utf-8")


def republish(root: Path, path: str, number: int, *, title: str, date_line: str, lastmod: str,
              edit: tuple[str, str] | None = None) -> str:
    """A copy of the article under a new id, headline and date (a wire story the site ran again), with its
    own sitemap entry (in the sitemap of the original) and a link from its edition's home page; its path.
    ``date_line`` is the page's date as the site writes it (``GMT 20:12 2017 Saturday ,7 October``);
    ``edit`` changes a phrase of the text (a near copy rather than an exact one)."""
    lang, section, old_number, _slug = path.strip("/").split("/")
    new_slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or f"story-{number}"
    new_path = f"/{lang}/{section}/{number}/{new_slug}"
    html = (root / path.lstrip("/") / "index.html").read_text("utf-8")
    old_title = re.search(r'<h1 class="article-title">(.*?)</h1>', html)
    old_date = re.search(r'<span class="article-date">(.*?)</span>', html)
    if old_title is None or old_date is None:
        raise LookupError(f"{path}: no headline or date line where the snapshot's layout has them")
    html = (html.replace(path, new_path).replace(f"/amp/{old_number}", f"/amp/{number}")
            .replace(old_title.group(1), title).replace(old_title.group(1).lower(), title.lower())
            .replace(old_date.group(0), f'<span class="article-date">{date_line}</span>'))
    if edit is not None:
        if edit[0] not in html:
            raise LookupError(f"{edit[0]!r} is not in {path}")
        html = html.replace(edit[0], edit[1], 1)
    target = root / new_path.lstrip("/")
    target.mkdir(parents=True)
    (target / "index.html").write_text(html, "utf-8")
    link = BASE_PLACEHOLDER + path
    for sitemap in (root / "sitemaps").glob("*.xml"):
        text = sitemap.read_text("utf-8")
        if link in text:
            entry = f"<url><loc>{BASE_PLACEHOLDER}{new_path}</loc><lastmod>{lastmod}</lastmod></url>"
            sitemap.write_text(text.replace("</urlset>", entry + "</urlset>"), "utf-8")
    home = root / lang / "index.html"
    home.write_text(home.read_text("utf-8").replace(
        "</nav>", f'</nav><a href="{BASE_PLACEHOLDER}{new_path}">{title}</a>', 1), "utf-8")
    return new_path
