"""Golden tests: every article page of the snapshot -> its record in expected.jsonl,
field by field; the redesigned-layout fixture -> the same record through the fallback."""

from __future__ import annotations

from pathlib import Path

import pytest

from arabtoday.cleaning.text import normalize, word_count
from arabtoday.extraction import NotAnArticle, extract, extract_bytes, parse_page
from arabtoday.items import EXPORT_FIELDS
from arabtoday.schema import HISTORY_FIELDS, PROVENANCE_FIELDS
from conftest import FIXTURES, SNAPSHOT, expected_records
from devkit.site import article_pages, page_html, served_url

BASE = "http://golden.test"
EXPECTED = expected_records(BASE)
# fields fixed by the page; duplicate_of is the deduplication's business, not extraction's
PAGE_FIELDS = [k for k in next(iter(EXPECTED.values())) if k != "duplicate_of"]


def page_url(path: Path) -> str:
    return served_url(path, BASE)


def load(path: Path) -> str:
    return page_html(path, BASE)


@pytest.mark.parametrize("path", article_pages(), ids=lambda p: "/".join(p.parts[-4:-2]))
def test_snapshot_page_gives_expected_record(path: Path) -> None:
    record = extract(load(path), page_url(path))
    expected = EXPECTED[record["id"]]
    for name in PAGE_FIELDS:
        assert record[name] == expected[name], name
    assert record["extractor"] == "article-v1"
    assert record["word_count"] == word_count(record["body"]) > 0
    assert len(record["content_hash"]) == 32


# computed by the pipeline from the fields above (or at fetch time), and tested where they are computed
DERIVED = {"word_count", "content_hash", "extractor", "extractor_version", "crawled_at"}


def test_the_golden_fixture_names_every_field_of_the_schema() -> None:
    """A field added to the schema fails here until ``snapshot/expected.jsonl`` gives its value on every
    page (one key per field, the derived ones, the history's and the fetch's provenance aside: those depend
    on earlier lines or on the fetch)."""
    for record_id, expected in EXPECTED.items():
        assert set(expected) == set(EXPORT_FIELDS) - DERIVED - set(HISTORY_FIELDS) - set(PROVENANCE_FIELDS), record_id


def test_every_expected_record_has_a_page() -> None:
    ids = {extract(load(p), page_url(p))["id"] for p in article_pages()}
    assert ids == set(EXPECTED)


def test_redesigned_layout_comes_out_clean_through_the_fallback() -> None:
    html = (FIXTURES / "redesign" / "en-104257.html").read_text("utf-8").replace("__BASE__", BASE)
    record = extract(html, f"{BASE}/en/middle-east/104257/dozens-of-is-fighters-surrender-as-raqas-fall-nears")
    assert record["extractor"] == "fallback"
    expected = EXPECTED["en-104257"]
    for name in PAGE_FIELDS:
        assert record[name] == expected[name], name


def test_fallback_is_used_when_selectors_miss_on_any_snapshot_page() -> None:
    """Rename every class of the known layout: the record must stay clean."""
    for path in article_pages()[::4]:
        html = load(path).replace('class="article-', 'class="x-').replace('class="image-caption', 'class="x-cap')
        record = extract(html, page_url(path))
        expected = EXPECTED[record["id"]]
        assert record["extractor"] == "fallback"
        assert record["title"] == expected["title"]
        assert record["published_at"] == expected["published_at"]
        assert record["body"] == expected["body"], path


@pytest.mark.parametrize(("encoding", "page"), [
    ("windows-1256", "ar/politics/680115"),
    ("windows-1252", "en/politics/103956"),
])
@pytest.mark.parametrize("declared_in", ["header", "meta", "both"])
def test_legacy_charsets_decode(encoding: str, page: str, declared_in: str) -> None:
    path = next(SNAPSHOT.glob(f"{page}/*/index.html"))
    html = load(path)
    if declared_in in ("meta", "both"):
        html = html.replace('<meta charset="utf-8">', f'<meta http-equiv="Content-Type" content="text/html; '
                                                      f'charset={encoding}">')
    else:
        html = html.replace('<meta charset="utf-8">', "")
    header = f"text/html; charset={encoding}" if declared_in in ("header", "both") else "text/html"
    # a legacy page writes what its charset lacks (the Arabic footer) as character references
    record = extract_bytes(html.encode(encoding, errors="xmlcharrefreplace"), page_url(path), header)
    expected = EXPECTED[record["id"]]
    assert record["body"] == expected["body"]
    assert record["title"] == expected["title"]


def test_wrong_charset_declaration_is_corrected() -> None:
    path = next(SNAPSHOT.glob("ar/politics/680115/*/index.html"))
    # UTF-8 bytes declared as windows-1256 in the header
    record = extract_bytes(load(path).encode("utf-8"), page_url(path), "text/html; charset=windows-1256")
    assert record["title"] == EXPECTED["ar-680115"]["title"]
    # windows-1256 bytes with no declaration at all
    html = load(path).replace('<meta charset="utf-8">', "")
    record = extract_bytes(html.encode("windows-1256"), page_url(path), None)
    assert record["body"] == EXPECTED["ar-680115"]["body"]


@pytest.mark.parametrize(("rel", "reason"), [
    ("en/amp/104257/index.html", "AMP copy"),
    ("en/print/104257/index.html", "print copy"),
    ("en/politics/index.html", "not an article address"),
    ("en/index.html", "not an article address"),
])
def test_pages_that_are_not_articles(rel: str, reason: str) -> None:
    path = SNAPSHOT / rel
    with pytest.raises(NotAnArticle, match=reason):
        parse_page(load(path), page_url(path))


def test_malformed_markup_does_not_crash() -> None:
    path = next(SNAPSHOT.glob("en/politics/104327/*/index.html"))
    html = load(path)
    broken = html[: len(html) * 2 // 3]  # cut mid-tag, unclosed everything
    record = extract(broken, page_url(path))
    assert record["title"] == EXPECTED["en-104327"]["title"]
    assert record["body"] and EXPECTED["en-104327"]["body"].startswith(record["body"][:200])
    for junk in ("", "<<<>>>", "\x00\x01", "<html><body><p>x"):
        raw = parse_page(junk, f"{BASE}/en/politics/1/x")
        assert not raw.published_at


def test_no_record_contains_a_boilerplate_line_of_the_seed_page() -> None:
    seed = [normalize(line) for line in (FIXTURES / "seed-page.txt").read_text("utf-8").splitlines()]
    article = EXPECTED["en-104257"]
    article_text = [article["body"], article["title"], article["dateline"], article["image_caption"],
                    "Source: AFP"] + [f"- {p} -" for p in article["body"].split("\n\n")]
    boilerplate = {line for line in seed if line and not any(line in t for t in article_text)}
    assert len(boilerplate) > 25  # the seed's chrome: clock, logo, comment form, footer, address...
    records = [extract(load(p), page_url(p)) for p in article_pages()]
    html = (FIXTURES / "redesign" / "en-104257.html").read_text("utf-8").replace("__BASE__", BASE)
    records.append(extract(html, f"{BASE}/en/middle-east/104257/x"))
    for record in records:
        for name in ("body", "dateline", "author", "source", "image_caption"):
            value = record[name] or ""
            leaked = [line for line in boilerplate if line in value]
            assert not leaked, (record["id"], name, leaked)


SNAPSHOT_PAGES = {"en": ("en-103907", "en/politics/103907"), "ar": ("ar-680115", "ar/politics/680115")}


def snapshot_html(rel: str) -> tuple[str, str]:
    path = next(SNAPSHOT.glob(f"{rel}/*/index.html"))
    return path.read_text("utf-8").replace("__BASE__", BASE), f"{BASE}/{rel}/x"


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_first_body_container_empty(lang: str) -> None:
    """An empty placeholder with the body's class (an audio player slot) before
    the real container: the layout reads the one with text."""
    record_id, rel = SNAPSHOT_PAGES[lang]
    html, url = snapshot_html(rel)
    html = html.replace('<div class="article-body">', '<div class="article-body" id="audio-slot"></div>\n'
                                                      '<div class="article-body">', 1)
    record = extract(html, url)
    assert record["extractor"] == "article-v1"
    assert record["body"] == EXPECTED[record_id]["body"]
