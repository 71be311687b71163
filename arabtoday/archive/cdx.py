"""The CDX index of a web archive, read as data (pure): captures, pages, the query.

The Wayback Machine's CDX server answers ``output=json`` with a JSON array:
its first row names the fields (``urlkey``, ``timestamp``, ``original``,
``mimetype``, ``statuscode``, ``digest``, ``length``), then one row per
capture; with ``showResumeKey=true`` a page that stops before the end is
followed by an empty row and a row holding the ``resumeKey`` of the next page.
Common Crawl's index server (pywb) answers ``output=json`` with one JSON object
per line instead, with ``filename``, ``offset`` and ``length`` of the WARC
record. Both are read here into :class:`Capture`; a row that cannot be read is
counted and left out (:attr:`CdxPage.bad_rows`), never a crash; an answer that
is not an index at all is :class:`BadIndex` (the run's discovery is then
incomplete).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urlsplit, urlunsplit

TIMESTAMP = re.compile(r"^\d{14}$")  # the CDX capture time, YYYYMMDDhhmmss UTC
TIMESTAMP_FORMAT = "%Y%m%d%H%M%S"
DAY_FORMAT = "%Y%m%d"
DEFAULT_PORTS = {"http": ":80", "https": ":443"}
WAYBACK_FIELDS = ("timestamp", "original")  # the fields a Wayback row must have
OK_STATUS = "200"


class BadIndex(ValueError):
    """An index answer that is not an index (not JSON, not the expected shape)."""


@dataclass(frozen=True, slots=True)
class Capture:
    timestamp: str  # YYYYMMDDhhmmss
    original: str  # the address as it was captured (default port removed)
    status: str = ""  # the HTTP status the capture recorded ("" when the index does not say, or "-")
    digest: str = ""
    filename: str = ""  # Common Crawl: the WARC file, its record's offset and length
    offset: int = 0
    length: int = 0

    @property
    def captured_at(self) -> str:
        """The capture time as ISO 8601 UTC (``2017-10-15T06:49:00Z``)."""
        when = datetime.strptime(self.timestamp, TIMESTAMP_FORMAT).replace(tzinfo=timezone.utc)
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(slots=True)
class CdxPage:
    captures: list[Capture] = field(default_factory=list)
    resume_key: str | None = None  # the next page's resumeKey (Wayback), None at the end
    bad_rows: int = 0  # rows that could not be read (counted by the caller)


def plain_original(url: str) -> str:
    """The captured address without the scheme's default port (``http://host:80/x`` -> ``http://host/x``)."""
    parts = urlsplit(url)
    netloc = parts.netloc.removesuffix(DEFAULT_PORTS.get(parts.scheme, "\0"))
    return urlunsplit(parts._replace(netloc=netloc))


def _capture(timestamp: object, original: object, **extra: object) -> Capture | None:
    if not isinstance(timestamp, str) or not TIMESTAMP.match(timestamp):
        return None
    if not isinstance(original, str) or urlsplit(original).scheme not in DEFAULT_PORTS:
        return None
    try:
        return Capture(timestamp, plain_original(original), **extra)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def parse_wayback(body: bytes) -> CdxPage:
    """A page of the Wayback CDX API (``output=json``, ``showResumeKey=true``)."""
    try:
        rows = json.loads(body.decode("utf-8")) if body.strip() else []
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadIndex(f"not a JSON CDX answer: {exc}") from None
    if not isinstance(rows, list):
        raise BadIndex("not a JSON CDX answer: expected an array of rows")
    page = CdxPage()
    if not rows:
        return page  # nothing captured
    header = rows[0]
    if not isinstance(header, list) or not all(name in header for name in WAYBACK_FIELDS):
        raise BadIndex(f"the CDX answer's first row names no {' and '.join(WAYBACK_FIELDS)}: {header!r:.200}")
    index = {name: n for n, name in enumerate(header) if isinstance(name, str)}
    body_rows = rows[1:]
    if len(body_rows) >= 2 and body_rows[-2] == [] and isinstance(body_rows[-1], list) and len(body_rows[-1]) == 1:
        key = body_rows[-1][0]
        page.resume_key = key if isinstance(key, str) and key else None
        body_rows = body_rows[:-2]
    for row in body_rows:
        if not isinstance(row, list) or len(row) != len(header):
            page.bad_rows += 1
            continue
        status = row[index["statuscode"]] if "statuscode" in index else ""
        digest = row[index["digest"]] if "digest" in index else ""
        capture = _capture(row[index["timestamp"]], row[index["original"]], status=str(status),
                           digest=str(digest))
        if capture is None:
            page.bad_rows += 1
        else:
            page.captures.append(capture)
    return page


def parse_pywb(body: bytes) -> CdxPage:
    """A page of a pywb CDX server (Common Crawl's index, ``output=json``): one JSON object per line."""
    page = CdxPage()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadIndex(f"not a JSON lines CDX answer: {exc}") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if lines and not lines[0].lstrip().startswith("{"):
        raise BadIndex(f"not a JSON lines CDX answer: {lines[0]!r:.200}")
    for line in lines:
        try:
            row = json.loads(line)
            capture = _capture(row.get("timestamp"), row.get("url"), status=str(row.get("status", "")),
                               digest=str(row.get("digest", "")), filename=str(row["filename"]),
                               offset=int(row["offset"]), length=int(row["length"]))
        except (ValueError, KeyError, TypeError, AttributeError):
            capture = None
        if capture is None or not capture.filename or capture.offset < 0 or capture.length <= 0:
            page.bad_rows += 1
        else:
            page.captures.append(capture)
    return page
