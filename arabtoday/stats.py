"""Every stat name of the project, and the buckets an article page ends in: spelled here once.

All stats live under ``arabtoday/`` in Scrapy's stats collector, so the run
report (:mod:`arabtoday.run.report`) lists them and a scheduler or a monitor
reads them. Components import the names from here; none writes a literal.
``docs/running.md`` ("Stats") says what each one means.

Imports nothing of the project: every layer may import it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PREFIX = "arabtoday/"


class Bucket:
    """Where an article page a run requested ends (exactly one per article id and run)."""

    EMITTED = "emitted"  # written to the output
    SKIPPED = "skipped"  # unchanged since the last run (or only our extractor changed)
    DUPLICATE = "duplicate"  # another address of an article already handled, or a republished copy
    DROPPED = "dropped"  # not an article, outside the window, a required field missing, gone…
    FAILED = "failed"  # could not be fetched or parsed: retried by the next run
    UNFINISHED = "unfinished"  # still queued or in flight when the run closed early


BUCKETS: tuple[str, ...] = (Bucket.EMITTED, Bucket.SKIPPED, Bucket.DUPLICATE, Bucket.DROPPED, Bucket.FAILED,
                            Bucket.UNFINISHED)
NOT_EMITTED: tuple[str, ...] = BUCKETS[1:]  # the buckets with a reason
SETTLED_BUCKETS: tuple[str, ...] = BUCKETS[:-1]  # an article page whose fate is decided (progress: done)


class Stat:
    # -- accounting (run/ledger.py): requested == emitted + every other bucket
    ARTICLES = "arabtoday/articles/"
    REQUESTED = "arabtoday/articles/requested"
    EMITTED = "arabtoday/articles/emitted"
    ARTICLE_OUTCOME = "arabtoday/articles/{bucket}/{reason}"
    EMITTED_LANG = "arabtoday/emitted/{lang}"
    EMITTED_NEW = "arabtoday/emitted/new"
    EMITTED_UPDATED = "arabtoday/emitted/updated"
    # -- discovery (spider, middlewares)
    DISCOVERY_TOTAL = "arabtoday/discovery/total"  # distinct article addresses known from sitemaps and feeds
    DISCOVERY_SKIPPED = "arabtoday/discovery/skipped/{reason}"
    SOURCE_READ = "arabtoday/sources/{source}"  # sitemaps, feeds and listings read
    SOURCE_FAILED = "arabtoday/sources/failed/{source}"  # ...that could not be fetched or read: discovery incomplete
    SOURCES_FAILED = "arabtoday/sources/failed/"
    SOURCES_FAILED_AT = "arabtoday/sources_failed_at"  # a list: the first FAILED_SOURCES_LISTED of their addresses
    BOUND = "arabtoday/bounds/{name}"  # a bound on what a response can make the crawler do was hit
    BLOCKED = "arabtoday/blocked/{why}"  # requests refused by the scope rule or robots.txt
    TRUNCATED_RESPONSES = "arabtoday/truncated_responses"
    # -- extraction
    PAGES_PARSED = "arabtoday/pages/parsed"
    PAGES_FLATTENED = "arabtoday/pages/flattened"  # nested deeper than the parser holds, re-read flat
    EXTRACTOR = "arabtoday/extractor/{name}"  # records by the extractor that produced the body
    FALLBACK_PAGES = "arabtoday/fallback/pages"  # records whose body came from a fallback candidate
    FALLBACK_FIELD = "arabtoday/fallback/field/{field}"  # fields filled from metadata, not selectors
    FALLBACK_ALARM = "arabtoday/fallback/alarm"
    CHARSET_CORRECTED = "arabtoday/charset/corrected"
    # -- history: lines that are not an article's record
    HISTORY = "arabtoday/history/{status}"  # superseded, removed/<reason>
    RECHECKED = "arabtoday/history/rechecked/{outcome}"  # vanished articles asked for again: removed, served, …
    VANISHED = "arabtoday/history/vanished"  # articles no source lists any more (recheck candidates)
    ORIGINAL_LATE = "arabtoday/history/original_late"  # an original met after a copy held as the original
    # -- dedup
    ORDER_TIMEOUT = "arabtoday/dedup/order_timeout"
    ORDER_FULL = "arabtoday/dedup/order_full"
    DUPLICATE_FLAGGED = "arabtoday/duplicates/flagged/{kind}"  # copies emitted with duplicate_of
    # -- state and distributed mode
    STATE_RECOVERED = "arabtoday/state/recovered"
    REQUEUED = "arabtoday/distributed/requests_requeued"
    TAKEN_OVER = "arabtoday/distributed/claims_taken_over"
    # -- errors outside the article buckets (any of them makes the exit status non-zero)
    WARC_RECORDS = "arabtoday/warc/records"  # WARC request and response records written
    WARC_FILES = "arabtoday/warc/files"  # WARC files started (a warcinfo record each)
    WARC_BYTES = "arabtoday/warc/bytes"  # compressed bytes written to them

    ERRORS = "arabtoday/errors/"
    ERROR = "arabtoday/errors/{kind}"
    SOURCE_ERROR = "arabtoday/errors/source/{kind}"  # a sitemap, feed or listing
    SOURCE_ERRORS = "arabtoday/errors/source/"
    OUTPUT_ERROR = "arabtoday/errors/output"
    ACCOUNTING_ERROR = "arabtoday/errors/accounting"
    REDIS_ERROR = "arabtoday/errors/redis"
    LOG_ERROR = "arabtoday/errors/log/{source}"  # ERROR lines of other code that nothing else counted
    # -- ``arabtoday extract``
    SKIPPED = "arabtoday/skipped/{reason}"  # saved pages that are not articles
    # -- how the run ended
    EXIT_CAUSE = "arabtoday/exit/{name}"  # set to 1 by whoever detects a cause of a non-zero exit
    EXIT_STATUS = "arabtoday/exit_status"


def article_outcome(bucket: str, reason: str) -> str:
    """The stat an article page's outcome is counted under (``emitted`` has no reason)."""
    return Stat.EMITTED if bucket == Bucket.EMITTED else Stat.ARTICLE_OUTCOME.format(bucket=bucket, reason=reason)


def group(stats: Mapping[str, Any], prefix: str) -> dict[str, int]:
    """``{rest of the name: value}`` of the stats under ``prefix``, sorted."""
    return {k[len(prefix):]: v for k, v in sorted(stats.items()) if k.startswith(prefix)}


def total(stats: Mapping[str, Any], prefix: str) -> int:
    """The sum of the numeric stats under ``prefix``."""
    return sum(int(v) for k, v in stats.items() if k.startswith(prefix) and isinstance(v, int | float))


def bucket_total(stats: Mapping[str, Any], bucket: str) -> int:
    """Article pages in one bucket, whatever their reasons."""
    if bucket == Bucket.EMITTED:
        return int(stats.get(Stat.EMITTED, 0))
    return total(stats, f"{Stat.ARTICLES}{bucket}/")
