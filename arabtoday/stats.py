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


# The exporters' signals live in arabtoday.signals; named here too for the exporters that import them from here.
from arabtoday.signals import OUTPUT_OPENED, RECORDS_DURABLE  # noqa: E402

__all__ = ["OUTPUT_OPENED", "RECORDS_DURABLE", "Stat"]
