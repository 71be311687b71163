from datetime import date, datetime, timezone

import pytest

from arabtoday.cleaning.dates import (
    find_site_dates,
    find_text_dates,
    iso,
    parse_any,
    parse_iso,
    parse_rfc822,
    parse_site_date,
)

UTC = timezone.utc


@pytest.mark.parametrize(("text", "expected"), [
    ("GMT 06:49 2017 Sunday ,15 October", "2017-10-15T06:49:00Z"),
    ("GMT 18:15 2017 Thursday ,23 February", "2017-02-23T18:15:00Z"),
    ("GMT 03:00 2017 Thursday ,05 October", "2017-10-05T03:00:00Z"),  # zero-padded day
    ("GMT 19:13 2017 الأحد ,01 أكتوبر", "2017-10-01T19:13:00Z"),  # Egyptian month name
    ("GMT 14:46 2017 الثلاثاء ,3 أكتوبر", "2017-10-03T14:46:00Z"),
    ("GMT 03:51 2017 الأحد ,1 تشرين الأول", "2017-10-01T03:51:00Z"),  # Levantine month name
    ("GMT 10:00 2016 الاثنين ,4 كانون الثاني", "2016-01-04T10:00:00Z"),
    ("GMT 10:00 2016 الاثنين ,4 كانون الأول", "2016-12-04T10:00:00Z"),
    ("GMT 10:00 2016 الاثنين ,4 اذار", "2016-03-04T10:00:00Z"),  # alef without hamza
    ("GMT 10:00 2016 الاثنين ,4 آب", "2016-08-04T10:00:00Z"),
    ("GMT 10:00 2016 الاثنين ,٤ شباط", "2016-02-04T10:00:00Z"),  # Arabic-Indic digit
    ("  GMT 09:45 2017  Saturday ,11 November ", "2017-11-11T09:45:00Z"),
])
def test_site_date_formats(text: str, expected: str) -> None:
    dt = parse_site_date(text)
    assert dt is not None and iso(dt) == expected


@pytest.mark.parametrize("text", [
    "Last Updated : GMT 06:49:16",  # the site's clock: never an article time
    "آخر تحديث : GMT 06:49:16",
    "GMT 06:49 2017 Sunday ,31 February",  # impossible day
    "GMT 06:49 2017 Sunday ,15 Brumaire",
    "",
    None,
])
def test_not_an_article_date(text: str | None) -> None:
    assert parse_site_date(text) is None


def test_clock_is_never_found_in_page_text() -> None:
    text = "Last Updated : GMT 06:49:16 Arab Today GMT 05:34 2017 Monday ,9 October headline"
    assert [iso(d) for d in find_site_dates(text)] == ["2017-10-09T05:34:00Z"]


def test_iso_and_rfc822_convert_to_utc() -> None:
    assert iso(parse_iso("2017-10-15T09:49:00+03:00")) == "2017-10-15T06:49:00Z"
    assert iso(parse_iso("2017-10-15")) == "2017-10-15T00:00:00Z"
    assert iso(parse_rfc822("Sun, 15 Oct 2017 06:49:00 +0000")) == "2017-10-15T06:49:00Z"
    assert parse_iso("not a date") is None
    assert parse_rfc822("garbage") is None


def test_parse_any_falls_back_to_dateparser() -> None:
    dt = parse_any("15 October 2017 06:49")
    assert dt == datetime(2017, 10, 15, 6, 49, tzinfo=UTC)
    assert parse_any("GMT 06:49 2017 Sunday ,15 October").date() == date(2017, 10, 15)


@pytest.mark.parametrize(("text", "expected"), [
    ("الخميس ١٥ أفريل ٢٠٠٧", "2007-04-15"),  # Algerian/Tunisian, Arabic-Indic digits
    ("نشر في 3 جويلية 2009 على الساعة 10:30", "2009-07-03"),
    ("1 أوت 2012", "2012-08-01"),
    ("25 جانفي 2011", "2011-01-25"),
    ("14 فيفري 2015", "2015-02-14"),
    ("2 ماي 2016", "2016-05-02"),
    ("30 جوان 2018", "2018-06-30"),
    ("11 يوليوز 2019", "2019-07-11"),  # Moroccan
    ("20 غشت 2019", "2019-08-20"),
    ("5 شتنبر 2019", "2019-09-05"),
    ("12 كانون الأول 2006", "2006-12-12"),  # Levantine
    ("Thursday, March 15, 2007", "2007-03-15"),
    ("9 May 2007", "2007-05-09"),
    ("15/03/2007", "2007-03-15"),  # day first, as Arab papers write it
    ("2007/03/15", "2007-03-15"),
])
def test_dates_written_in_running_text(text: str, expected: str) -> None:
    found = find_text_dates(f"some words before {text} and after")
    assert [iso(d)[:10] for _, d in found] == [expected]


@pytest.mark.parametrize("text", ["the 5 items 2007", "31/02/2007", "page 12 of 2007 results", "15 Brumaire 2007"])
def test_not_dates_in_running_text(text: str) -> None:
    assert find_text_dates(text) == []


def test_iso_basic_format_and_arabic_digits() -> None:
    assert iso(parse_iso("20180619T055000+0900")) == "2018-06-18T20:50:00Z"
    assert iso(parse_iso("٢٠١٧-١٠-١٥")) == "2017-10-15T00:00:00Z"
