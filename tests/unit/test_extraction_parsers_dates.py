"""Publication dates on pages the snapshot does not show: every way real pages
state them (metadata variants, broken JSON-LD, text in any Arabic month system)."""

from __future__ import annotations

import pytest

from arabtoday.extraction import extract

SITE = "https://www.arabstoday.net"
BODY = "".join(f"<p>Paragraph {i}: the ministry said on Monday that the new water plan would cost more than expected, "
               f"and that work would start next spring.</p>" for i in range(5))
AR_BODY = "".join(f"<p>الفقرة {i}: قالت الوزارة يوم الاثنين إن خطة المياه الجديدة ستكلف أكثر مما كان متوقعا، وإن العمل "
                  f"سيبدأ في الربيع المقبل.</p>" for i in range(5))


def page(head: str = "", before_body: str = "", lang: str = "en") -> str:
    body = AR_BODY if lang == "ar" else BODY
    return (f'<html lang="{lang}"><head><meta charset="utf-8"><meta property="og:title" content="Water plan">{head}'
            f'</head><body><nav><a href="/{lang}/">Home</a></nav><article><h1>Water plan</h1>{before_body}'
            f'<div class="text">{body}</div></article><footer>All rights reserved</footer></body></html>')


@pytest.mark.parametrize(("head", "before_body", "expected"), [
    ('<meta property="og:article:published_time" content="2021-03-04T10:20:00+02:00">', "", "2021-03-04T08:20:00Z"),
    ('<meta property="article:published_time" content="2021-03-04T10:20:00Z">', "", "2021-03-04T10:20:00Z"),
    # microdata given twice, the first without a usable value; and in datetime, not content
    ("", '<span itemprop="datePublished" content=""></span><time itemprop="datePublished" '
         'datetime="2021-03-04T10:20:00Z">4 March</time>', "2021-03-04T10:20:00Z"),
    ('<meta itemprop="datePublished" content="soon"><meta itemprop="datePublished" content="2021-03-04">', "",
     "2021-03-04T00:00:00Z"),
    ('<meta name="DC.date.issued" content="2021-03-04">', "", "2021-03-04T00:00:00Z"),
    ('<meta name="dc.date" content="2021-03-04T10:20:00Z">', "", "2021-03-04T10:20:00Z"),
    ('<meta property="dc:date" content="2021-03-04T10:20:00Z">', "", "2021-03-04T10:20:00Z"),
    ('<meta name="DCTERMS.created" content="2021-03-04">', "", "2021-03-04T00:00:00Z"),
    # JSON-LD with a syntax error (a trailing comma): the date is still the publisher's
    ('<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Water plan", '
     '"datePublished": "2021-03-04T10:20:00Z",}</script>', "", "2021-03-04T10:20:00Z"),
    ('<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "20210304T102000Z"}</script>', "",
     "2021-03-04T10:20:00Z"),
])
def test_metadata_dates(head: str, before_body: str, expected: str) -> None:
    record = extract(page(head, before_body), f"{SITE}/en/politics/81")
    assert record["published_at"] == expected


@pytest.mark.parametrize(("line", "expected"), [
    ("الخميس ١٥ أفريل ٢٠٠٧", "2007-04-15T00:00:00Z"),
    ("نشر بتاريخ 3 جويلية 2009", "2009-07-03T00:00:00Z"),
    ("الأحد 1 أوت 2010", "2010-08-01T00:00:00Z"),
    ("11 يوليوز 2019", "2019-07-11T00:00:00Z"),
    ("الاثنين ٤ شباط ٢٠١٣", "2013-02-04T00:00:00Z"),
])
def test_arabic_dates_stated_only_in_the_text(line: str, expected: str) -> None:
    html = page(before_body=f'<div class="date">{line}</div>', lang="ar")
    assert extract(html, f"{SITE}/ar/politics/82")["published_at"] == expected


def test_the_date_nearest_the_headline_wins_over_the_header_clock() -> None:
    """Old portals print today's date in the header; the article's date sits under the headline."""
    html = page(before_body='<div class="date">Wednesday, 9 May 2007</div>').replace(
        "<nav>", '<div class="top">Monday, 1 January 2024</div><nav>')
    assert extract(html, f"{SITE}/en/politics/83")["published_at"] == "2007-05-09T00:00:00Z"


def test_no_date_in_the_future() -> None:
    html = page(before_body='<div class="event">The festival opens on 1 June 2099.</div>')
    assert extract(html, f"{SITE}/en/politics/84")["published_at"] is None
