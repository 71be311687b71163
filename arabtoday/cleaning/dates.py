"""Dates as the site writes them, to ISO 8601 UTC.

The article date line reads ``GMT 18:15 2017 Thursday ,23 February`` or
``GMT 18:15 2017 الخميس ,23 فبراير`` (Egyptian month names) or
``GMT 03:51 2017 الأحد ,1 تشرين الأول`` (Levantine month names); the day may
be zero-padded or not. The clock in the page header (``Last Updated : GMT
06:49:16``) has no date and is never an article time: every parser here
requires a year.

The known formats are parsed by hand (fast: this runs on every page); anything
else goes to ``dateparser`` only on the fallback path (:func:`parse_any`).
"""

from __future__ import annotations

import email.utils
import re
from datetime import date, datetime, timedelta, timezone

from arabtoday.cleaning.text import fold_for_match, normalize, to_ascii_digits

UTC = timezone.utc

_EN_MONTHS = {
    m.lower(): i
    for i, names in enumerate(
        [("January", "Jan"), ("February", "Feb"), ("March", "Mar"), ("April", "Apr"), ("May",),
         ("June", "Jun"), ("July", "Jul"), ("August", "Aug"), ("September", "Sep", "Sept"),
         ("October", "Oct"), ("November", "Nov"), ("December", "Dec")],
        start=1,
    )
    for m in names
}
# Every Arabic month-name system: Egyptian/Gulf (from the Latin names),
# Levantine/Iraqi (Syriac names), Algerian/Tunisian (from the French:
# جانفي، فيفري، أفريل، جوان، جويلية، أوت) and Moroccan (يوليوز، غشت، شتنبر،
# نونبر، دجنبر). dateparser knows none of the Maghrebi ones. Keys are folded
# (fold_for_match) so that hamza/alef variants (أكتوبر/اكتوبر, آذار/اذار) all match.
_AR_MONTHS_RAW = {
    1: ["يناير", "كانون الثاني", "جانفي", "جانفييه"],
    2: ["فبراير", "شباط", "فيفري", "فبرير"],
    3: ["مارس", "آذار"],
    4: ["أبريل", "إبريل", "نيسان", "أفريل", "ابريل"],
    5: ["مايو", "أيار", "ماي"],
    6: ["يونيو", "يونيه", "حزيران", "جوان"],
    7: ["يوليو", "يوليه", "تموز", "جويلية", "جويليه", "يوليوز"],
    8: ["أغسطس", "آب", "أوت", "غشت", "اغشت"],
    9: ["سبتمبر", "أيلول", "شتنبر"],
    10: ["أكتوبر", "تشرين الأول"],
    11: ["نوفمبر", "تشرين الثاني", "نونبر"],
    12: ["ديسمبر", "كانون الأول", "دجنبر"],
}
MONTHS = {**_EN_MONTHS, **{fold_for_match(n): m for m, names in _AR_MONTHS_RAW.items() for n in names}}

# GMT hh:mm[:ss] YYYY <weekday> ,D <month>
_SITE_DATE = re.compile(
    r"GMT\s*(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?\s+(?P<y>\d{4})\s+[^\d,]*?\s*[,،]\s*"
    r"(?P<d>\d{1,2})\s+(?P<mon>[^\d,،|<>]+?)\s*$"
)
_SITE_DATE_SEARCH = re.compile(
    r"GMT\s*\d{1,2}:\d{2}(?::\d{2})?\s+\d{4}\s+[^\d,،\n]{0,20}[,،]\s*\d{1,2}\s+[^\W\d_]+(?:\s+[^\W\d_]+)?"
)
_ISO = re.compile(
    r"(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})(?:[T ](?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.\d+)?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?)?$"
)
# ISO 8601 basic format, as some CMSes write it: 20180619T055000+0900
_ISO_BASIC = re.compile(
    r"(?P<y>\d{4})(?P<mo>\d{2})(?P<d>\d{2})T(?P<h>\d{2})(?P<mi>\d{2})(?P<s>\d{2})?(?:\.\d+)?"
    r"(?P<tz>Z|[+-]\d{2}:?\d{2})?$"
)

# Dates written in running text, in any of the month systems above or as
# numbers: "15 أفريل 2007", "الخميس ١٥ مارس ٢٠٠٧", "March 15, 2007",
# "15 March 2007", "15/03/2007", "2007/03/15". The month group is resolved by
# _month(); anything it does not know is not a date.
_MONTH_WORD = r"[^\W\d_]+(?:\s+[^\W\d_]+)?"
_TEXT_DATES = (
    re.compile(rf"(?<!\d)(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\.?\s+(?:of\s+)?(?P<mon>{_MONTH_WORD}?)\s*,?\s+"
               rf"(?P<y>(?:19|20)\d{{2}})(?!\d)"),
    re.compile(r"(?P<mon>[A-Za-z]{3,9})\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?\s*,\s*(?P<y>(?:19|20)\d{2})(?!\d)"),
    re.compile(r"(?<![\d/.-])(?P<d>\d{1,2})[/.-](?P<mo>\d{1,2})[/.-](?P<y>(?:19|20)\d{2})(?![\d/.-])"),
    re.compile(r"(?<![\d/.-])(?P<y>(?:19|20)\d{2})[/.-](?P<mo>\d{1,2})[/.-](?P<d>\d{1,2})(?![\d/.-])"),
)


# The time of day written beside a date (older pages put it after the date, some before it):
# "9 May 2007 14:35", "9 May 2007 - 14:35 GMT", "May 9, 2007, 2:35 PM", "٩ مايو ٢٠٠٧ الساعة ١٤:٣٥",
# "... - 02:35 م" (م: evening, ص: morning). A zone written after it (GMT, UTC, GMT+3, +03:00)
# is applied; without one the time is GMT, as the site's own date line says.
_CLOCK = (r"(?P<h>[01]?\d|2[0-3]):(?P<mi>[0-5]\d)(?::(?P<s>[0-5]\d))?"
          r"(?:\s*(?P<half>[AaPp]\.?\s?[Mm]\.?(?![\w])|ص(?:باحا)?ً?|م(?:ساء)?ً?(?![\w])))?"
          r"(?:\s*\(?\s*(?:(?P<zone>GMT|UTC|Z)\s*(?P<off>[+-]\d{1,2}(?::?\d{2})?)?|(?P<bare>[+-]\d{2}:?\d{2})))?")
_TIME_AFTER = re.compile(r"\s*(?:[,،|•–—-]\s*)?(?:(?:at|on|الساعة|ساعة)\s+)?" + _CLOCK)
_WEEKDAY = (r"(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day|Mon|Tue|Wed|Thu|Fri|Sat|Sun|"
            r"(?:ال)?(?:اثنين|إثنين|ثلاثاء|أربعاء|اربعاء|خميس|جمعة|سبت|أحد|احد)")
_TIME_BEFORE = re.compile(_CLOCK + r"\s*(?:[,،|•–—-]\s*)?(?:(?:" + _WEEKDAY + r")\.?\s*[,،]?\s*)?$")
TIME_BEFORE_CHARS = 40  # a time this close before a date (nothing but a weekday between) is its time


def _clock(m: re.Match[str]) -> tuple[int, int, int, timezone] | None:
    """``(hour, minute, second, zone)`` of a clock match, or None when the hour does not fit its half."""
    hour = int(m["h"])
    half = (m["half"] or "").replace(".", "").replace(" ", "").lower()
    if half:
        if not 1 <= hour <= 12:
            return None
        evening = half.startswith("p") or half.startswith("م")
        hour = hour % 12 + (12 if evening else 0)
    zone = UTC
    offset = m["off"] or m["bare"]
    if offset:
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        hours, minutes = (int(digits[:-2] or 0), int(digits[-2:])) if len(digits) > 2 else (int(digits), 0)
        zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
    return hour, int(m["mi"]), int(m["s"] or 0), zone


def _time_beside(text: str, start: int, end: int) -> tuple[int, int, int, timezone] | None:
    """The time of day written right after a date (else right before it), if any."""
    after = _TIME_AFTER.match(text, end)
    if after:
        return _clock(after)
    before = _TIME_BEFORE.search(text[max(0, start - TIME_BEFORE_CHARS):start])
    return _clock(before) if before else None


def iso(dt: datetime) -> str:
    """``2017-10-15T06:49:00Z``: UTC, seconds precision, ``Z`` suffix."""
    return dt.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _month(name: str) -> int | None:
    key = fold_for_match(name).strip(" .")
    if key in MONTHS:
        return MONTHS[key]
    # "15 October 2017" style leftovers: try the first one or two words
    parts = key.split()
    for n in (2, 1):
        if len(parts) >= n and " ".join(parts[:n]) in MONTHS:
            return MONTHS[" ".join(parts[:n])]
    return None


def parse_site_date(text: str | None) -> datetime | None:
    """Parse the site's own date line; ``None`` when it is not one."""
    if not text:
        return None
    m = _SITE_DATE.search(to_ascii_digits(normalize(text)))
    if not m:
        return None
    month = _month(m["mon"])
    if month is None:
        return None
    try:
        return datetime(int(m["y"]), month, int(m["d"]), int(m["h"]), int(m["mi"]), int(m["s"] or 0),
                        tzinfo=UTC)
    except ValueError:
        return None


def find_site_dates(text: str) -> list[datetime]:
    """Every site-format date in a stretch of text (listing pages, fallback)."""
    found = []
    for m in _SITE_DATE_SEARCH.finditer(to_ascii_digits(text)):
        dt = parse_site_date(m.group(0))
        if dt:
            found.append(dt)
    return found


def parse_iso(text: str | None) -> datetime | None:
    """ISO 8601 as found in metadata (``2017-10-15T06:49:00+00:00``, ``...Z``, date only, basic format)."""
    if not text:
        return None
    text = to_ascii_digits(text.strip())
    m = _ISO.match(text) or _ISO_BASIC.match(text)
    if not m:
        return None
    tz = UTC
    if m["tz"] and m["tz"] != "Z":
        sign = 1 if m["tz"][0] == "+" else -1
        digits = m["tz"][1:].replace(":", "")
        tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    try:
        return datetime(int(m["y"]), int(m["mo"]), int(m["d"]), int(m["h"] or 0), int(m["mi"] or 0),
                        int(m["s"] or 0), tzinfo=tz).astimezone(UTC)
    except ValueError:
        return None


def parse_rfc822(text: str | None) -> datetime | None:
    """RSS ``pubDate`` (``Sun, 15 Oct 2017 06:49:00 +0000``)."""
    if not text:
        return None
    try:
        dt = email.utils.parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(UTC)


def parse_any(text: str | None) -> datetime | None:
    """Known formats first; then ``dateparser`` (slow, so only on fallback paths)."""
    if not text:
        return None
    for parser in (parse_site_date, parse_iso, parse_rfc822):
        dt = parser(text)
        if dt:
            return dt
    import dateparser  # imported lazily: it costs ~0.5 s at start-up

    dt = dateparser.parse(
        text,
        languages=["en", "ar"],
        settings={"TIMEZONE": "UTC", "RETURN_AS_TIMEZONE_AWARE": True, "REQUIRE_PARTS": ["day", "month", "year"]},
    )
    return dt.astimezone(UTC) if dt else None


def find_text_dates(text: str) -> list[tuple[int, datetime]]:
    """Dates written in running text (any Arabic month system, English months,
    numeric day-first or year-first; Arabic-Indic digits), with their offsets,
    and the time of day when one is written beside them (midnight otherwise).
    The old generation of pages states its date only this way."""
    text = to_ascii_digits(text)
    found = []
    for pattern in _TEXT_DATES:
        for m in pattern.finditer(text):
            month = int(m["mo"]) if "mo" in m.groupdict() and m["mo"] else _month(m["mon"])
            if month is None:
                continue
            hour, minute, second, zone = _time_beside(text, m.start(), m.end()) or (0, 0, 0, UTC)
            try:
                day = datetime(int(m["y"]), month, int(m["d"]), hour, minute, second, tzinfo=zone)
            except ValueError:
                continue
            found.append((m.start(), day.astimezone(UTC)))
    return sorted(found, key=lambda f: f[0])


def parse_day(text: str) -> date:
    """``YYYY-MM-DD`` for spider arguments; raises ``ValueError`` with a clear message."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"expected a date as YYYY-MM-DD, got {text!r}") from None
