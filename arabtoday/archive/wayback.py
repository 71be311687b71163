"""The Wayback Machine (``-a backfill=wayback``): what to ask its CDX API, and where a capture is.

The CDX API at ``/cdx/search/cdx``: the captures of one edition's addresses
(``url=<host>/<lang>/``, ``matchType=prefix``), only those that answered 200
and whose address is an article's (``filter=statuscode:200`` and a
``filter=original:`` pattern: listings, redirects and error answers are left
out by the index, never fetched), one capture per address (``collapse=urlkey``:
the earliest in the window), from ``since`` on (``from``: a page captured
before it cannot hold an article published after it; no ``to``: an article
published before ``until`` may have been captured after it), ``limit`` rows a
page, the next page asked with the ``resumeKey`` the last one ended with
(``showResumeKey=true``). Raw captures at ``/web/<timestamp>id_/<address>``:
the page as the site served it, without the archive's banner or rewritten links.
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlencode, urlsplit

from arabtoday.archive.cdx import DAY_FORMAT

CDX_PATH = "/cdx/search/cdx"
REPLAY_PATH = "/web/"
RAW_MODE = "id_"  # the capture as archived, no banner, links not rewritten
# An article address (``/<lang>/<section>/<number>[/<slug>]``), as the CDX server matches ``original``.
ARTICLE_PATTERN = r".*/(en|ar)/[^/?#]+/[0-9]+(/[^?#]*)?"
REPLAY = re.compile(r"^(?P<timestamp>\d{1,14})" + re.escape(RAW_MODE) + r"/(?P<original>https?://.+)$")


def site_prefix(base_url: str, lang: str) -> str:
    """``arabstoday.net/en/``: the CDX ``url`` of an edition (the archive's key ignores ``www.`` and scheme)."""
    host = (urlsplit(base_url).hostname or "").removeprefix("www.")
    return f"{host}/{lang}/"


def cdx_url(wayback_url: str, base_url: str, lang: str, *, since: date | None, limit: int,
            resume_key: str | None = None) -> str:
    query: list[tuple[str, str]] = [
        ("url", site_prefix(base_url, lang)), ("matchType", "prefix"), ("output", "json"),
        ("fl", "urlkey,timestamp,original,mimetype,statuscode,digest,length"),
        ("filter", "statuscode:200"), ("filter", f"original:{ARTICLE_PATTERN}"), ("collapse", "urlkey"),
        ("limit", str(limit)), ("showResumeKey", "true")]
    if since is not None:
        query.append(("from", since.strftime(DAY_FORMAT)))
    if resume_key:
        query.append(("resumeKey", resume_key))
    return f"{wayback_url.rstrip('/')}{CDX_PATH}?{urlencode(query)}"


def capture_url(wayback_url: str, timestamp: str, original: str) -> str:
    """``https://web.archive.org/web/20171015064900id_/https://www.arabstoday.net/en/…``."""
    return f"{wayback_url.rstrip('/')}{REPLAY_PATH}{timestamp}{RAW_MODE}/{original}"
