"""Spider arguments (``-a name=value``), validated at start-up.

Each argument is declared once, with its description; the README table is
this list. A bad value stops the crawl before any request, with a message
that names the argument and what it accepts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from arabtoday.cleaning.dates import parse_day
from arabtoday.site.addresses import LANGS, SITE_URL

BACKFILLS = ("wayback", "commoncrawl")  # the archives a crawl can read instead of the live site
CRAWL_NAME = re.compile(r"^CC-MAIN-\d{4}-\d{2}$")  # a Common Crawl crawl, as collinfo.json names it


class BadArgument(ValueError):
    """A spider argument with a value it does not accept."""


@dataclass(frozen=True)
class CrawlParams:
    lang: str = field(default="all", metadata={"doc": "Edition(s) to crawl: `en`, `ar` or `all`."})
    since: date | None = field(default=None, metadata={
        "doc": "Only articles published on or after this day (`YYYY-MM-DD`, UTC). Sitemap months and feed "
               "items before it are skipped; listing pagination stops at the first page older than it."})
    until: date | None = field(default=None, metadata={
        "doc": "Only articles published on or before this day (`YYYY-MM-DD`, UTC)."})
    max_articles: int | None = field(default=None, metadata={
        "doc": "Stop once this many articles have been emitted (a positive whole number)."})
    base_url: str = field(default=SITE_URL, metadata={
        "doc": "Address of the site, or of any copy of it (e.g. a local snapshot on `http://127.0.0.1:8000`)."})
    role: str = field(default="seed", metadata={
        "doc": "Distributed mode only: `seed` starts a new run (resets the shared queue) and discovers; "
               "`worker` only works through the shared queue."})
    backfill: str | None = field(default=None, metadata={
        "doc": "Read the site's article pages from a web archive instead of the live site: `wayback` (the "
               "Wayback Machine, `ARABTODAY_WAYBACK_URL`) or `commoncrawl` (`ARABTODAY_COMMONCRAWL_INDEX_URL`). "
               "`lang`, `since`, `until`, the state and every bound apply as in a live crawl."})
    crawls: tuple[str, ...] = field(default=(), metadata={
        "doc": "With `backfill=commoncrawl`: the crawls to read, comma-separated (`CC-MAIN-2017-43,CC-MAIN-2018-05`); "
               "unset: every crawl whose time span meets `since`/`until`."})

    @property
    def langs(self) -> tuple[str, ...]:
        return LANGS if self.lang == "all" else (self.lang,)

    @classmethod
    def from_args(cls, **raw: Any) -> CrawlParams:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise BadArgument(f"unknown spider argument(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        values: dict[str, Any] = {}
        lang = str(raw.get("lang") or "all").strip().lower()
        if lang not in (*LANGS, "all"):
            raise BadArgument(f"lang must be one of en, ar, all (got {lang!r})")
        values["lang"] = lang
        for name in ("since", "until"):
            if raw.get(name) not in (None, ""):
                try:
                    values[name] = parse_day(str(raw[name]).strip())
                except ValueError as exc:
                    raise BadArgument(f"{name}: {exc}") from None
        if values.get("since") and values.get("until") and values["since"] > values["until"]:
            raise BadArgument(f"since ({values['since']}) is after until ({values['until']})")
        if raw.get("max_articles") not in (None, ""):
            try:
                n = int(str(raw["max_articles"]).strip())
            except ValueError:
                raise BadArgument(f"max_articles must be a positive whole number (got {raw['max_articles']!r})") \
                    from None
            if n <= 0:
                raise BadArgument(f"max_articles must be a positive whole number (got {n})")
            values["max_articles"] = n
        role = str(raw.get("role") or "seed").strip().lower()
        if role not in ("seed", "worker"):
            raise BadArgument(f"role must be seed or worker (got {role!r})")
        values["role"] = role
        base = str(raw.get("base_url") or SITE_URL).strip().rstrip("/")
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise BadArgument(f"base_url must be an http(s) address such as {SITE_URL} (got {base!r})")
        values["base_url"] = f"{parts.scheme}://{parts.netloc.lower()}{parts.path}"
        if raw.get("backfill") not in (None, ""):
            backfill = str(raw["backfill"]).strip().lower()
            if backfill not in BACKFILLS:
                raise BadArgument(f"backfill must be one of {', '.join(BACKFILLS)} (got {backfill!r})")
            values["backfill"] = backfill
        if raw.get("crawls") not in (None, ""):
            crawls = tuple(dict.fromkeys(c.strip() for c in str(raw["crawls"]).split(",") if c.strip()))
            bad = [c for c in crawls if not CRAWL_NAME.match(c)]
            if bad or not crawls:
                raise BadArgument(f"crawls must be Common Crawl names such as CC-MAIN-2017-43, comma-separated "
                                  f"(got {raw['crawls']!r})")
            if values.get("backfill") != "commoncrawl":
                raise BadArgument("crawls applies only with backfill=commoncrawl")
            values["crawls"] = crawls
        return cls(**values)

    def in_window(self, day: date) -> bool:
        return (self.since is None or day >= self.since) and (self.until is None or day <= self.until)

    def month_in_window(self, year: int, month: int) -> bool:
        first = date(year, month, 1)
        last = date(year + (month == 12), month % 12 + 1, 1)  # first day of the next month
        return (self.since is None or last > self.since) and (self.until is None or first <= self.until)


def describe() -> list[tuple[str, str, str]]:
    """``(name, default, description)`` of every argument, for the README and ``--help``."""
    return [(f.name, "" if f.default in (None, ()) else str(f.default), f.metadata["doc"])
            for f in fields(CrawlParams)]


def params_of(crawler: Any) -> CrawlParams:
    """The run's validated parameters, for every component (the one accessor).

    The spider parses its arguments into a :class:`CrawlParams` (its
    ``params``); a crawl of saved pages, or a component built before any
    spider, gets the defaults."""
    spider = getattr(crawler, "spider", None)
    params = getattr(spider, "params", None)
    return params if isinstance(params, CrawlParams) else CrawlParams()
