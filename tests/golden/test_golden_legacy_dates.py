"""Golden: the pre-2015 table layout with the time of day beside its date line.

The stored old-generation pages (``fixtures/golden/old-gen-*.html``) give their
date as text only; pages of that generation also write the time, after the date
(most) or before it, in the ways the CMSes of the time did. Each case below is
that page with its date line written one such way; ``published_at`` must be
the minute the line says (GMT unless it names another zone), title and body
unchanged.
"""

from __future__ import annotations

import pytest

from arabtoday.extraction import extract_bytes
from conftest import FIXTURES

GOLDEN = FIXTURES / "golden"
SITE = "https://www.arabstoday.net"
PAGES = {  # the stored page, its charset, its date line as stored, its address
    "en": ("old-gen-en.html", "cp1252", "Wednesday, 9 May 2007", f"{SITE}/en/politics/27182"),
    "ar": ("old-gen-ar.html", "cp1256", "الخميس &#1633;&#1637; مارس &#1634;&#1632;&#1632;&#1639;",
           f"{SITE}/ar/politics/31415"),
}
CASES = [
    ("en", "Wednesday, 9 May 2007 14:35", "2007-05-09T14:35:00Z"),
    ("en", "Wednesday, 9 May 2007 - 14:35", "2007-05-09T14:35:00Z"),
    ("en", "Wednesday, 9 May 2007, 2:35 PM", "2007-05-09T14:35:00Z"),
    ("en", "Wednesday, 9 May 2007 9:05 a.m.", "2007-05-09T09:05:00Z"),
    ("en", "Wednesday, 9 May 2007 12:10 AM", "2007-05-09T00:10:00Z"),
    ("en", "9 May 2007 14:35 GMT", "2007-05-09T14:35:00Z"),
    ("en", "Wednesday, 9 May 2007 16:35 GMT+2", "2007-05-09T14:35:00Z"),
    ("en", "Wednesday, 9 May 2007 01:35 GMT+3", "2007-05-08T22:35:00Z"),
    ("en", "Wednesday, 9 May 2007 14:35:59", "2007-05-09T14:35:59Z"),
    ("en", "Wednesday, 9 May 2007 at 14:35", "2007-05-09T14:35:00Z"),
    ("en", "14:35 GMT Wednesday, 9 May 2007", "2007-05-09T14:35:00Z"),
    ("en", "Wednesday, 9 May 2007", "2007-05-09T00:00:00Z"),  # no time written: midnight, as before
    ("ar", "الخميس &#1633;&#1637; مارس &#1634;&#1632;&#1632;&#1639; - &#1633;&#1636;:&#1635;&#1637;",
     "2007-03-15T14:35:00Z"),
    ("ar", "الخميس &#1633;&#1637; مارس &#1634;&#1632;&#1632;&#1639; &#1632;&#1634;:&#1635;&#1637; م",
     "2007-03-15T14:35:00Z"),
    ("ar", "الخميس &#1633;&#1637; مارس &#1634;&#1632;&#1632;&#1639; &#1632;&#1641;:&#1632;&#1637; ص",
     "2007-03-15T09:05:00Z"),
    ("ar", "الخميس 15 مارس 2007 الساعة 14:35", "2007-03-15T14:35:00Z"),
    ("ar", "الخميس 15 مارس 2007 - 02:35 مساءً", "2007-03-15T14:35:00Z"),
    ("ar", "15/03/2007 14:35", "2007-03-15T14:35:00Z"),
    ("ar", "الخميس 15 آذار 2007 14:35 بتوقيت غرينتش", "2007-03-15T14:35:00Z"),
    ("ar", "14:35 - الخميس 15 مارس 2007", "2007-03-15T14:35:00Z"),
]


def page_with(lang: str, date_line: str) -> tuple[bytes, str]:
    name, charset, stored, url = PAGES[lang]
    html = (GOLDEN / name).read_bytes()
    assert stored.encode(charset) in html, "the stored page's date line moved: update PAGES"
    return html.replace(stored.encode(charset), date_line.encode(charset)), url


@pytest.mark.parametrize(("lang", "date_line", "published_at"), CASES)
def test_legacy_date_line_gives_the_minute(lang: str, date_line: str, published_at: str) -> None:
    html, url = page_with(lang, date_line)
    record = extract_bytes(html, url)
    assert record["published_at"] == published_at
    unchanged = extract_bytes((GOLDEN / PAGES[lang][0]).read_bytes(), url)
    assert (record["title"], record["body"]) == (unchanged["title"], unchanged["body"])  # the time stays out of both
