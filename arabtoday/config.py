"""The project's own settings (``ARABTODAY_*``): declared once, validated at start.

Each setting is declared here with its type, default, bounds and a line of
documentation; ``settings.py`` takes its defaults from this table and the
settings table of ``docs/running.md`` is generated from it (``python scripts/readme_tables.py``).
A crawl validates every ``ARABTODAY_*`` name it is given before its first
request: a bad value or an unknown (misspelled) name stops it with one line
that says which setting and what it accepts, and exit status 2. A scheduled
crawl with a typo in its settings must not run with defaults and look fine.
"""

from __future__ import annotations

import codecs
import difflib
import logging
import math
import sys
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from arabtoday.site.addresses import SITE_URL

PREFIX = "ARABTODAY_"
MIB = 1024 * 1024


class BadSetting(ValueError):
    """A setting with a value it does not accept, or an unknown ``ARABTODAY_`` name."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    kind: str  # bool, int, float, str, path, url
    doc: str
    minimum: float | None = None
    maximum: float | None = None
    optional: bool = False  # None (unset) is accepted
    check: Callable[[Any], str | None] | None = None  # extra check: a problem, or None

    def parse(self, raw: Any) -> Any:
        """The typed value of ``raw`` (as ``-s`` gives it: a string), or :class:`BadSetting`."""
        if raw is None or (self.optional and raw == ""):
            if self.optional:
                return None
            raise BadSetting(f"{self.name} must be set ({self.accepts()})")
        try:
            value = _PARSERS[self.kind](raw)
        except (TypeError, ValueError):
            raise BadSetting(f"{self.name}={raw!r}: expected {self.accepts()}") from None
        if self.minimum is not None and value < self.minimum:
            raise BadSetting(f"{self.name}={raw!r}: expected {self.accepts()}")
        if self.maximum is not None and value > self.maximum:
            raise BadSetting(f"{self.name}={raw!r}: expected {self.accepts()}")
        problem = self.check(value) if self.check else None
        if problem:
            raise BadSetting(f"{self.name}={raw!r}: {problem}")
        return value

    def accepts(self) -> str:
        what = {"bool": "true or false", "int": "a whole number", "float": "a number", "str": "a text",
                "path": "a path", "url": "an address"}[self.kind]
        if self.minimum is not None and self.maximum is not None:
            what += f" from {_num(self.minimum)} to {_num(self.maximum)}"
        elif self.minimum is not None:
            what += f" of at least {_num(self.minimum)}"
        return what + (" (or unset)" if self.optional else "")


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)


def _int(raw: Any) -> int:
    if isinstance(raw, bool):
        raise ValueError(raw)
    if isinstance(raw, float) and not raw.is_integer():
        raise ValueError(raw)
    return int(str(raw).strip()) if not isinstance(raw, int | float) else int(raw)


def _float(raw: Any) -> float:
    if isinstance(raw, bool):
        raise ValueError(raw)
    value = float(str(raw).strip()) if not isinstance(raw, int | float) else float(raw)
    if not math.isfinite(value):  # NaN, infinities
        raise ValueError(raw)
    return value


def _text(raw: Any) -> str:
    text = str(raw).strip()
    if not text:
        raise ValueError(raw)
    return text


_PARSERS: dict[str, Callable[[Any], Any]] = {"bool": _bool, "int": _int, "float": _float, "str": _text,
                                             "path": _text, "url": _text}


def _redis_url(value: str) -> str | None:
    scheme = urlsplit(value).scheme
    return None if scheme in ("redis", "rediss", "unix") else "expected redis://host:port/db"


def _base_url(value: str) -> str | None:
    parts = urlsplit(value)
    return None if parts.scheme in ("http", "https") and parts.netloc else "expected an http(s) address"


SETTINGS: tuple[Setting, ...] = (
    Setting("ARABTODAY_BASE_URL", SITE_URL, "url", check=_base_url, doc=(
        "The site, or a copy of it; the `base_url` spider argument overrides it.")),
    # -- state: incremental runs and deduplication
    Setting("ARABTODAY_STATE_DIR", None, "path", optional=True, doc=(
        "Directory of the state that makes runs incremental (what earlier runs emitted, SQLite). Unset: every "
        "run is a full crawl that emits everything (deduplicated within the run). Scheduled runs set it.")),
    Setting("ARABTODAY_INCREMENTAL", True, "bool", doc=(
        "With a state directory: fetch and emit only new or changed articles. False: fetch and emit everything "
        "again (the state still records it).")),
    Setting("ARABTODAY_RECHECK_MAX", 200, "int", minimum=0, maximum=1_000_000, doc=(
        "With a state directory: articles no sitemap lists any more (every sitemap that listed them read to its "
        "end) asked for again in a run, one request each; a 404, 410 or another page there writes a `removed` "
        "line. 0: never.")),
    Setting("ARABTODAY_EMIT_DUPLICATES", False, "bool", doc=(
        "Write a republished copy as a record of its own with `duplicate_of` set, instead of a `superseded` "
        "line.")),
    Setting("ARABTODAY_NEAR_DUP_THRESHOLD", 0.5, "float", minimum=0.05, maximum=1.0, doc=(
        "Estimated Jaccard similarity (word 5-grams) from which two texts are copies.")),
    Setting("ARABTODAY_NEAR_DUP_PERMUTATIONS", 64, "int", minimum=16, maximum=512, doc=(
        "MinHash permutations; fixed for the life of a state directory.")),
    Setting("ARABTODAY_DEDUP_HOLD_SECONDS", 10.0, "float", minimum=0, maximum=600, doc=(
        "How long an article may wait for a lower id of its edition still in flight, so that an original usually "
        "arrives before its copies (the original is the one published first whatever the wait: it only saves "
        "`superseded` corrections).")),
    Setting("ARABTODAY_DEDUP_HOLD_MAX_ITEMS", 32, "int", minimum=0, maximum=10_000, doc=(
        "How many articles may wait at once; the rest go on at once.")),
    # -- politeness and faults
    Setting("ARABTODAY_RETRY_BACKOFF_BASE", 2.0, "float", minimum=0, maximum=3600, doc=(
        "Seconds before the first retry of a failed request; doubles each attempt (`Retry-After` honoured).")),
    Setting("ARABTODAY_RETRY_BACKOFF_MAX", 60.0, "float", minimum=0, maximum=3600, doc=(
        "Longest wait between two attempts.")),
    Setting("ARABTODAY_BLOCKED_WINDOW", 20, "int", minimum=1, maximum=100_000, doc=(
        "Article fetches looked at to decide that the site is blocking the crawler.")),
    Setting("ARABTODAY_BLOCKED_RATIO", 0.8, "float", minimum=0.01, maximum=1.0, doc=(
        "Share of blocked answers (403, 429 after retries, block pages) among the last "
        "`ARABTODAY_BLOCKED_WINDOW` article fetches from which the run stops early (exit status 5).")),
    # -- bounds on what a response can make the crawler do
    Setting("ARABTODAY_SITEMAP_MAX_ENTRIES", 50_000, "int", minimum=1, doc=(
        "Addresses read from one sitemap (the sitemaps.org limit); the rest is ignored and counted.")),
    Setting("ARABTODAY_SITEMAP_MAX_BYTES", 50 * MIB, "int", minimum=1024, doc=(
        "Bytes read from one sitemap, uncompressed (the sitemaps.org limit); a larger one is read up to it.")),
    Setting("ARABTODAY_INDEX_MAX_SITEMAPS", 50_000, "int", minimum=1, doc=(
        "Sitemaps followed from one sitemap index.")),
    Setting("ARABTODAY_LISTING_MAX_PAGES", 1000, "int", minimum=1, doc=(
        "Listing pages followed per section; pagination also stops at the first page with no new article.")),
    Setting("ARABTODAY_PAGE_MAX_LINKS", 2000, "int", minimum=1, doc="Links read from one page."),
    Setting("ARABTODAY_MAX_QUEUED_REQUESTS", 1000, "int", minimum=10, doc=(
        "Requests waiting in the scheduler; discovery pauses above it (nothing is dropped).")),
    # -- output and report
    Setting("ARABTODAY_DEFAULT_FEED", "output/arabtoday-%(lang)s-%(time)s.jsonl", "str", doc=(
        "Output file when no feed is given (no `FEEDS`, `-o` or `-O`).")),
    Setting("ARABTODAY_FSYNC_EVERY", 200, "int", minimum=1, doc=(
        "Records between fsyncs of the output (and state commits); recovery covers the rest after a crash.")),
    Setting("ARABTODAY_REPORT_PATH", None, "path", optional=True, doc=(
        "Where the run report goes; default: next to the first output file (`<output>.report.json`).")),
    # -- raw pages kept (arabtoday.archive.warc)
    Setting("ARABTODAY_WARC_DIR", None, "path", optional=True, doc=(
        "Directory where every HTTP exchange of the crawl is kept as WARC `request` and `response` records "
        "(`*.warc.gz`, one gzip member per record); each record's `warc_file` and `warc_record_id` name its "
        "page there. Unset: no WARC.")),
    Setting("ARABTODAY_WARC_MAX_BYTES", 1024 * MIB, "int", minimum=64 * 1024, doc=(
        "A WARC file is closed and the next one started once it holds this many bytes (compressed).")),
    # -- backfill from web archives (-a backfill=wayback|commoncrawl)
    Setting("ARABTODAY_WAYBACK_URL", "https://web.archive.org", "url", check=_base_url, doc=(
        "The Wayback Machine, or a mirror that speaks its CDX API (`/cdx/search/cdx`) and serves raw captures "
        "(`/web/<timestamp>id_/<address>`): read by `-a backfill=wayback`.")),
    Setting("ARABTODAY_COMMONCRAWL_INDEX_URL", "https://index.commoncrawl.org", "url", check=_base_url, doc=(
        "Common Crawl's index server (`/collinfo.json` and each crawl's `cdx-api`), or a mirror: read by "
        "`-a backfill=commoncrawl`.")),
    Setting("ARABTODAY_COMMONCRAWL_DATA_URL", "https://data.commoncrawl.org", "url", check=_base_url, doc=(
        "Where Common Crawl's WARC files are fetched from, by byte range (`filename`, `offset`, `length`).")),
    Setting("ARABTODAY_CDX_PAGE_SIZE", 1000, "int", minimum=1, maximum=100_000, doc=(
        "Captures asked of an archive index per request (`limit`); the next page follows its `resumeKey`.")),
    Setting("ARABTODAY_CDX_MAX_PAGES", 10_000, "int", minimum=1, doc=(
        "Pages of an archive index read per edition (and per crawl for Common Crawl); beyond it the rest is "
        "ignored and counted (`arabtoday/bounds/index_pages`).")),
    Setting("ARABTODAY_FALLBACK_ALARM_RATIO", 0.5, "float", minimum=0, maximum=1, doc=(
        "Layout-change alarm when more than this share of article pages needed the fallback extractor.")),
    Setting("ARABTODAY_FALLBACK_ALARM_MIN_PAGES", 5, "int", minimum=0, doc="…and at least this many were parsed."),
    Setting("ARABTODAY_PROGRESS_SECONDS", 30.0, "float", minimum=0, doc=(
        "Seconds between two progress lines in the log (0: none).")),
    # -- distributed mode
    Setting("ARABTODAY_REDIS_URL", None, "url", optional=True, check=_redis_url, doc=(
        "`redis://host:6379/0`: distributed mode (shared queue, request filter and state).")),
    Setting("ARABTODAY_REDIS_PREFIX", "arabtoday", "str", doc="Prefix of every Redis key of the crawl."),
    Setting("ARABTODAY_REDIS_IDLE_SECONDS", 10.0, "float", minimum=0.5, doc=(
        "A worker closes once no worker has had work (queued or in flight) for this long.")),
    Setting("ARABTODAY_REDIS_TIMEOUT", 30.0, "float", minimum=1, doc=(
        "Seconds a worker keeps trying a lost Redis before it stops with an error (exit status 4).")),
)

BY_NAME = {s.name: s for s in SETTINGS}


def defaults() -> dict[str, Any]:
    """``{name: default}`` for ``settings.py``."""
    return {s.name: s.default for s in SETTINGS}


def problems(settings: Any, names: Iterable[str] | None = None) -> list[str]:
    """Every problem with the ``ARABTODAY_*`` settings, one line each (empty: all good)."""
    found = []
    keys = list(names) if names is not None else [k for k in _keys(settings) if k.startswith(PREFIX)]
    for name in sorted(set(keys)):
        spec = BY_NAME.get(name)
        if spec is None:
            close = difflib.get_close_matches(name, BY_NAME, n=1)
            found.append(f"unknown setting {name}" + (f" (did you mean {close[0]}?)" if close else ""))
            continue
        try:
            spec.parse(settings.get(name))
        except BadSetting as exc:
            found.append(str(exc))
    return found


# Scrapy's own settings whose default is a whole number but which Scrapy reads as a number.
SCRAPY_FLOAT_SETTINGS = frozenset({"DNS_TIMEOUT", "DOWNLOAD_DELAY", "DOWNLOAD_TIMEOUT"})
# ...and the least each of these can be without stalling or breaking a crawl.
SCRAPY_MINIMUM = {"CONCURRENT_REQUESTS": 1, "CONCURRENT_REQUESTS_PER_DOMAIN": 1, "CONCURRENT_REQUESTS_PER_IP": 0,
                  "CONCURRENT_ITEMS": 1, "DOWNLOAD_DELAY": 0, "DOWNLOAD_TIMEOUT": 0.001, "DNS_TIMEOUT": 0.001,
                  "RETRY_TIMES": 0, "REDIRECT_MAX_TIMES": 0, "DOWNLOAD_MAXSIZE": 0, "DOWNLOAD_WARNSIZE": 0,
                  "AUTOTHROTTLE_START_DELAY": 0, "AUTOTHROTTLE_MAX_DELAY": 0,
                  "AUTOTHROTTLE_TARGET_CONCURRENCY": 0.001}


def scrapy_problems(settings: Any) -> list[str]:
    """Every Scrapy setting given a value Scrapy would fail on (or stall with), one line each.

    Scrapy reads its settings with typed getters while it builds the crawler; a value they refuse
    (``-s DOWNLOAD_DELAY=abc``) would end the run in a traceback that does not name the setting.
    Each setting whose default is a boolean, a number, a list or a dict is read here the way
    Scrapy reads it, before anything starts."""
    from scrapy.settings import default_settings

    with warnings.catch_warnings():  # reading a deprecated setting warns; not what is checked here
        warnings.simplefilter("ignore")
        return [problem for name in sorted(n for n in dir(default_settings) if n.isupper())
                if (problem := _scrapy_problem(settings, name, getattr(default_settings, name)))]


def _scrapy_problem(settings: Any, name: str, default: Any) -> str | None:
    """What is wrong with one Scrapy setting, or None."""
    if name.startswith(PREFIX) or settings.get(name) == default:
        return None
    getter = _scrapy_getter(name, default)
    if getter is None:
        return None
    kind, read = getter
    try:
        value = read(settings, name)
    except (TypeError, ValueError, LookupError):
        return f"{name}={settings.get(name)!r}: expected {kind} (a Scrapy setting)"
    least = SCRAPY_MINIMUM.get(name)
    if least is not None and value < least:
        return f"{name}={settings.get(name)!r}: expected {kind} of at least {_num(least)} (a Scrapy setting)"
    return None


def _log_level(value: Any) -> Any:
    """A level ``logging`` knows, as Scrapy's logging set-up passes it on: a number, or a name in capitals."""
    if isinstance(value, int):  # from settings.py; from -s it is text, which logging takes by name only
        return value
    if not isinstance(logging.getLevelName(str(value)), int):
        raise ValueError(value)
    return value


# Scrapy's own settings whose default is text (or None) but whose value must be one of a kind.
SCRAPY_TEXT_SETTINGS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "LOG_LEVEL": ("a log level in capitals (DEBUG, INFO, WARNING, ERROR, CRITICAL)", _log_level),
    "FEED_EXPORT_ENCODING": ("a text encoding Python knows (utf-8, …)", lambda v: v is None or codecs.lookup(v)),
}


def _scrapy_getter(name: str, default: Any) -> tuple[str, Callable[[Any, str], Any]] | None:
    if name in SCRAPY_TEXT_SETTINGS:
        kind, check = SCRAPY_TEXT_SETTINGS[name]
        return kind, lambda s, n: check(s.get(n))
    if isinstance(default, bool):
        return "true or false", lambda s, n: s.getbool(n)
    if isinstance(default, float) or name in SCRAPY_FLOAT_SETTINGS:
        return "a number", lambda s, n: _float(s.get(n))
    if isinstance(default, int):
        return "a whole number", lambda s, n: s.getint(n)
    if isinstance(default, list) and default and all(isinstance(x, int) for x in default):
        return "a list of whole numbers", lambda s, n: [int(x) for x in s.getlist(n)]  # RETRY_HTTP_CODES
    if isinstance(default, list):
        return "a list", lambda s, n: s.getlist(n)
    if isinstance(default, dict):
        return "a dict (JSON)", lambda s, n: s.getdict(n)
    return None


def validate(settings: Any) -> None:
    """Raise :class:`BadSetting` naming the first problem (all of them in the message): the project's
    ``ARABTODAY_*`` settings, and Scrapy's own that Scrapy would fail to read."""
    found = problems(settings) + scrapy_problems(settings)
    if found:
        raise BadSetting("; ".join(found))


def value(settings: Any, name: str) -> Any:
    """The typed value of a validated setting."""
    return BY_NAME[name].parse(settings.get(name))


def _keys(settings: Any) -> list[str]:
    try:
        return list(settings.keys())
    except AttributeError:
        return list(settings)


def markdown() -> str:
    """The table of the project's settings (``docs/running.md``)."""
    rows = ["| setting | default | meaning |", "| --- | --- | --- |"]
    for s in SETTINGS:
        default = "unset" if s.default is None else f"`{s.default}`"
        rows.append(f"| `{s.name}` | {default} | {s.doc} |")
    return "\n".join(rows)


if __name__ == "__main__":
    sys.stdout.write(markdown() + "\n")
