"""Common Crawl (``-a backfill=commoncrawl``): which crawls, what to ask their index, where a record is.

``/collinfo.json`` on the index server lists the crawls (``id``,
``cdx-api``, ``from``, ``to``); ``-a crawls=`` picks some by id, else every
crawl whose span meets ``since``/``until``. Each crawl's ``cdx-api`` (pywb)
is asked for the captures of one edition's article addresses that answered
200 (``filter``), one per address (``collapse=urlkey``), a page at a time
(``showNumPages=true`` first, then ``page=0…``). A record is fetched from the
data server by its ``filename`` with ``Range: bytes=offset-(offset+length-1)``:
one gzip member holding one WARC record (read by
:mod:`arabtoday.archive.replay`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlencode

from arabtoday.archive.cdx import BadIndex
from arabtoday.archive.wayback import ARTICLE_PATTERN, site_prefix

# The paths of the index and data servers a backfill requests (patterns of arabtoday.site.scope.Endpoint).
INDEX_PATHS = r"collinfo\.json|CC-MAIN-\d{4}-\d{2}-index\?.*"
DATA_PATHS = r"crawl-data/CC-MAIN-\d{4}-\d{2}/[A-Za-z0-9._/-]+\.warc\.gz"
COLLINFO_PATH = "/collinfo.json"


@dataclass(frozen=True, slots=True)
class Crawl:
    id: str
    cdx_api: str
    start: date | None
    end: date | None

    def meets(self, since: date | None, until: date | None) -> bool:
        return (since is None or self.end is None or self.end >= since) and (
            until is None or self.start is None or self.start <= until)


def _day(value: object) -> date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.removesuffix("Z")).date()
    except ValueError:
        return None


def parse_collinfo(body: bytes) -> list[Crawl]:
    """The crawls ``/collinfo.json`` lists; an entry without ``id`` or ``cdx-api`` is left out."""
    try:
        entries = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadIndex(f"collinfo.json is not JSON: {exc}") from None
    if not isinstance(entries, list):
        raise BadIndex("collinfo.json is not a list of crawls")
    crawls = []
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("id"), str) and isinstance(entry.get("cdx-api"), str):
            crawls.append(Crawl(entry["id"], entry["cdx-api"], _day(entry.get("from")), _day(entry.get("to"))))
    return crawls


def chosen(crawls: list[Crawl], names: tuple[str, ...], since: date | None, until: date | None) -> list[Crawl]:
    if names:
        return [c for c in crawls if c.id in names]
    return [c for c in crawls if c.meets(since, until)]


def index_url(cdx_api: str, base_url: str, lang: str, page: int | None) -> str:
    """A page of a crawl's index (``page=None``: how many pages there are)."""
    query: list[tuple[str, str]] = [
        ("url", site_prefix(base_url, lang)), ("matchType", "prefix"), ("output", "json"),
        ("filter", "=status:200"), ("filter", f"url:{ARTICLE_PATTERN}"), ("collapse", "urlkey")]
    query.append(("showNumPages", "true") if page is None else ("page", str(page)))
    return f"{cdx_api}?{urlencode(query)}"


def parse_num_pages(body: bytes) -> int:
    try:
        pages = json.loads(body.decode("utf-8"))["pages"]
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise BadIndex(f"not an index page count: {exc}") from None
    if not isinstance(pages, int) or pages < 0:
        raise BadIndex(f"not an index page count: {pages!r}")
    return pages


def record_url(data_url: str, filename: str) -> str:
    return f"{data_url.rstrip('/')}/{filename.lstrip('/')}"


def byte_range(offset: int, length: int) -> str:
    return f"bytes={offset}-{offset + length - 1}"
