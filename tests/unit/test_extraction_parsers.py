"""Parsers (``arabtoday.extraction.parsers``): the layout chosen by publication day, titles without the
site's name, the extractor version on every record."""

from __future__ import annotations

import pytest

from arabtoday.extraction import EXTRACTOR_VERSION, extract, parse_page
from arabtoday.extraction.parsers import strip_site_name
from conftest import SNAPSHOT

BASE = "http://golden.test"
SITE = "https://www.arabstoday.net"
SNAPSHOT_PAGES = {"en": ("en-103907", "en/politics/103907"), "ar": ("ar-680115", "ar/politics/680115")}


def snapshot_html(rel: str) -> tuple[str, str]:
    path = next(SNAPSHOT.glob(f"{rel}/*/index.html"))
    return path.read_text("utf-8").replace("__BASE__", BASE), f"{BASE}/{rel}/x"


def test_records_carry_the_extractor_version() -> None:
    html, url = snapshot_html(SNAPSHOT_PAGES["en"][1])
    assert parse_page(html, url).extractor_version == EXTRACTOR_VERSION
    record = extract(html, url)
    assert record["extractor_version"] == EXTRACTOR_VERSION != ""


@pytest.mark.parametrize(("title", "site_name", "expected"), [
    ("Arab Today :: Gulf ministers agree", None, "Gulf ministers agree"),
    ("العرب اليوم - وزراء المياه العرب يجتمعون", None, "وزراء المياه العرب يجتمعون"),
    ("Headline – with a dash | Arab Today", None, "Headline – with a dash"),
    ("Trump plant X – während Y", None, "Trump plant X – während Y"),  # no site name: as written
    ("Einsatz - Die Neue Südtiroler Tageszeitung", "Die Neue Südtiroler Tageszeitung", "Einsatz"),
    ("Arab Today", None, "Arab Today"),
])
def test_title_without_the_site_name(title: str, site_name: str | None, expected: str) -> None:
    assert strip_site_name(title, site_name) == expected


def test_title_escaped_twice_by_the_cms_is_decoded() -> None:
    html = ('<html><head><meta property="og:title" content="Trainer: &amp;quot;Nothing to lose&amp;quot;">'
            '<meta property="og:site_name" content="Kicker"></head><body><p>'
            + "The coach said the team had nothing to lose before the last match of the season. " * 4
            + "</p></body></html>")
    assert extract(html, f"{SITE}/en/sports/91")["title"] == 'Trainer: "Nothing to lose"'


def test_layouts_are_versions_chosen_by_the_day_a_page_was_published() -> None:
    """Two generations that both prove a page (a redesign kept the class names): the one whose
    validity covers the page's publication day is chosen, the current one for newer pages."""
    import dataclasses
    from datetime import date

    from arabtoday.extraction import choose_parser
    from arabtoday.extraction import selectors as S
    from arabtoday.extraction.page import Page
    from arabtoday.extraction.parsers import LAYOUT_PARSERS, ArticleV1

    class Retired(ArticleV1):
        layout = dataclasses.replace(S.ARTICLE_V1, name="article-v0", valid_until=date(2016, 12, 31))
        name = "article-v0"

    page = next((SNAPSHOT / "en" / "middle-east" / "104257").glob("*/index.html")).read_text("utf-8")

    def published(day: str) -> Page:
        meta = f'<meta property="article:published_time" content="{day}T08:00:00+00:00">'
        return Page(page.replace("</head>", meta + "</head>", 1), "https://www.arabstoday.net/en/middle-east/104257/x")

    both = (*LAYOUT_PARSERS, Retired)
    assert choose_parser(published("2017-10-15"), both) is ArticleV1  # after the old layout's last day
    assert choose_parser(published("2015-03-01"), both) is Retired  # in its time
    assert choose_parser(Page(page, "https://www.arabstoday.net/en/middle-east/104257/x"), both) is ArticleV1
    assert choose_parser(published("2015-03-01")) is ArticleV1  # only the current layout is known
    assert [p.layout.name for p in LAYOUT_PARSERS] == [layout.name for layout in S.LAYOUTS]
