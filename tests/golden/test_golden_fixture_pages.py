"""Golden tests for markup the snapshot does not show: stored pages (``tests/golden/fixtures/golden/``,
see its README) in, the expected record out.

The site's 2017 layout with stray closing tags in the body (both editions), the pre-2015 table
generation (windows-1256 and windows-1252, date only as text), and a short article on a redesigned
page whose sidebar teasers reuse the class name ``article-body``."""

from __future__ import annotations

import pytest

from arabtoday.extraction import extract, extract_bytes, is_fallback
from conftest import FIXTURES, expected_records

BASE = "http://golden.test"
SITE = "https://www.arabstoday.net"
EXPECTED = expected_records(BASE)
GOLDEN = FIXTURES / "golden"
SNAPSHOT_PAGES = {"en": ("en-103907", "en/politics/103907"), "ar": ("ar-680115", "ar/politics/680115")}


@pytest.mark.parametrize("lang", ["en", "ar"])
@pytest.mark.parametrize("where", ["empty", "early"])
def test_stray_closing_tags_in_the_body_lose_no_text(lang: str, where: str) -> None:
    """A stray ``</div>`` closes the body container empty (or after one paragraph):
    the layout's short result must not win, and the record must not be dropped."""
    record_id, rel = SNAPSHOT_PAGES[lang]
    html = (GOLDEN / f"stray-tags-{where}-{lang}.html").read_text("utf-8").replace("__BASE__", BASE)
    record = extract(html, f"{BASE}/{rel}/x")
    expected = EXPECTED[record_id]
    assert is_fallback(record["extractor"]), record["extractor"]
    for name in ("title", "published_at", "body", "dateline", "source", "section"):
        assert record[name] == expected[name], name


OLD_GENERATION = {
    "ar": {
        "url": f"{SITE}/ar/politics/31415",
        "title": "وزراء المياه العرب يبحثون أزمة الجفاف في القاهرة",
        "published_at": "2007-03-15T00:00:00Z",
        "dateline": "القاهرة - العرب اليوم",
        "source": "وكالات",
        "first": "بدأ وزراء المياه العرب اجتماعهم الطارئ في القاهرة صباح الخميس",
        "subhead": "خطة عمل مشتركة",
        "last": "من الموارد المائية المتاحة في المنطقة.",
        "paragraphs": 5,
        "chrome": ("آخر الأخبار", "جميع الحقوق", "أقسام الموقع", "انطلاق القمة العربية", "الرئيسية"),
    },
    "en": {
        "url": f"{SITE}/en/economy/5119",
        "title": "Gulf ministers agree on common customs tariff",
        "published_at": "2007-05-09T00:00:00Z",
        "dateline": "Riyadh - Arab Today",
        "source": "Agencies",
        "first": "Finance ministers of the six Gulf Cooperation Council states agreed on Wednesday",
        "subhead": None,
        "last": "differences in subsidies and regulations remain.",
        "paragraphs": 4,
        "chrome": ("Latest news", "All rights reserved", "Sections", "Arab summit to open", "Political news"),
    },
}


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_old_generation_table_page(lang: str) -> None:
    """Nested tables, ``<font>``, ``<br><br>`` paragraphs, a legacy charset, no
    metadata, the date only as text: every field still comes out."""
    want = OLD_GENERATION[lang]
    record = extract_bytes((GOLDEN / f"old-gen-{lang}.html").read_bytes(), want["url"])
    assert record["title"] == want["title"]
    assert record["published_at"] == want["published_at"]
    assert record["dateline"] == want["dateline"]
    assert record["source"] == want["source"]
    paragraphs = record["body"].split("\n\n")
    assert len(paragraphs) == want["paragraphs"]
    assert paragraphs[0].startswith(want["first"])
    assert paragraphs[-1].endswith(want["last"])
    if want["subhead"]:
        assert want["subhead"] in paragraphs
    for chrome in want["chrome"]:
        assert chrome not in record["body"], chrome
    assert is_fallback(record["extractor"])


SHORT = {
    "en": (f"{SITE}/en/economy/230117/port-of-aqaba-reopens-after-storm", "Port of Aqaba reopens after storm",
           "2024-02-11T06:20:00Z",
           "Jordan's only seaport reopened on Sunday morning after a storm forced its closure for two days, the port "
           "authority said.\n\nShips that had waited offshore began unloading grain and fuel shortly after dawn. "
           "Officials expect traffic to return to normal by Tuesday."),
    "ar": (f"{SITE}/ar/economy/790233/x", "إعادة فتح ميناء العقبة بعد العاصفة", "2024-02-11T00:00:00Z",
           "أعيد صباح الأحد فتح ميناء العقبة، المنفذ البحري الوحيد للأردن، بعد أن أجبرت عاصفة السلطات على إغلاقه "
           "يومين، بحسب سلطة الميناء.\n\nوبدأت السفن التي انتظرت قبالة الساحل تفريغ شحنات الحبوب والوقود بعد الفجر "
           "بقليل. ويتوقع المسؤولون أن تعود الحركة إلى طبيعتها يوم الثلاثاء."),
}


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_three_sentence_article_beside_teasers_that_reuse_the_layout_class(lang: str) -> None:
    """A common class name (``article-body`` on sidebar teasers) does not prove
    the page is the known layout's, and a three-sentence article is not too short to keep."""
    url, title, published, body = SHORT[lang]
    record = extract((GOLDEN / f"short-article-{lang}.html").read_text("utf-8"), url)
    assert record["extractor"] != "article-v1"
    assert (record["title"], record["published_at"], record["body"]) == (title, published, body)


def test_golden_fixtures_are_documented() -> None:
    readme = (GOLDEN / "README.md").read_text("utf-8")
    for path in GOLDEN.glob("*.html"):
        assert path.name in readme, path.name
