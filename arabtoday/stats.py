"""Names of the crawler's own stats and signals, all under ``arabtoday/``.

Listed in the README; the run report is built from them.
"""

from __future__ import annotations


class Stat:
    PAGES_PARSED = "arabtoday/pages/parsed"
    EXTRACTOR = "arabtoday/extractor/{name}"  # records by parser that produced the body
    FALLBACK_PAGES = "arabtoday/fallback/pages"  # records whose body came from the fallback parser
    FALLBACK_FIELD = "arabtoday/fallback/field/{field}"  # fields filled from metadata, not selectors
    EMITTED = "arabtoday/emitted/{lang}"
    EMITTED_NEW = "arabtoday/emitted/new"
    EMITTED_UPDATED = "arabtoday/emitted/updated"
    DROPPED = "arabtoday/dropped/{reason}"
    SKIPPED = "arabtoday/skipped/{reason}"
    DUPLICATE = "arabtoday/duplicates/{kind}"  # same_id, exact, near
    KNOWN_ADDRESS = "arabtoday/discovery/known"  # a link to an article already requested this run
    ERROR = "arabtoday/errors/{kind}"
    SOURCE_OK = "arabtoday/sources/{source}"  # feeds, sitemaps, listings read
    CHARSET_CORRECTED = "arabtoday/charset/corrected"
    FALLBACK_ALARM = "arabtoday/fallback/alarm"


# Sent when an article page could not be fetched after retries, so that the
# incremental state leaves it unseen for the next run.
ARTICLE_FAILED = object()

# Sent by the feed exporter after an fsync, with the records now durable on
# disk and the path of their file: only then may the state call them emitted.
RECORDS_DURABLE = object()

# Sent by the feed exporter when it opens an output file, with the path and the
# offset where this run's records start, so that recovery knows the file.
OUTPUT_OPENED = object()
