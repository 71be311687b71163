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

from arabtoday.text import fold_for_match, normalize, to_ascii_digits

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
# Both Arabic month-name systems; keys are folded (fold_for_match) so that
# hamza/alef variants (أكتوبر/اكتوبر, آذار/اذار) all match.
_AR_MONTHS_RAW = {
    1: ["يناير", "كانون الثاني"],
    2: ["فبراير", "شباط"],
    3: ["مارس", "آذار"],
    4: ["أبريل", "إبريل", "نيسان"],
    5: ["مايو", "أيار"],
    6: ["يونيو", "يونيه", "حزيران"],
    7: ["يوليو", "يوليه", "تموز"],
    8: ["أغسطس", "آب"],
    9: ["سبتمبر", "أيلول"],
    10: ["أكتوبر", "تشرين الأول"],
    11: ["نوفمبر", "تشرين الثاني"],
    12: ["ديسمبر", "كانون الأول"],
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
    r"(?P<tz>Z|[+-]\d{2}:?\d{2})?)?$"
)


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
    """ISO 8601 as found in metadata (``2017-10-15T06:49:00+00:00``, ``...Z``, date only)."""
    if not text:
        return None
    m = _ISO.match(text.strip())
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


def parse_day(text: str) -> date:
    """``YYYY-MM-DD`` for spider arguments; raises ``ValueError`` with a clear message."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"expected a date as YYYY-MM-DD, got {text!r}") from None
