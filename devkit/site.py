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
