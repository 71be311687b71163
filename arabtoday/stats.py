"""Names of the crawler's stats that several modules share, all under ``arabtoday/``.

The full list, with meanings, is in the README ("Stats") and ``docs/CONTRACTS.md``;
the article buckets' names live with the ledger (:mod:`arabtoday.accounting`).
"""

from __future__ import annotations


class Stat:
    PAGES_PARSED = "arabtoday/pages/parsed"
    PAGES_FLATTENED = "arabtoday/pages/flattened"  # pages nested deeper than the parser holds, re-read flat
    EXTRACTOR = "arabtoday/extractor/{name}"  # records by the extractor that produced the body
    FALLBACK_PAGES = "arabtoday/fallback/pages"  # records whose body came from a fallback candidate
    FALLBACK_FIELD = "arabtoday/fallback/field/{field}"  # fields filled from metadata, not selectors
    EMITTED_NEW = "arabtoday/emitted/new"
    EMITTED_UPDATED = "arabtoday/emitted/updated"
    SKIPPED = "arabtoday/skipped/{reason}"  # ``extract``: saved pages that are not articles
    ERROR = "arabtoday/errors/{kind}"
    CHARSET_CORRECTED = "arabtoday/charset/corrected"
    FALLBACK_ALARM = "arabtoday/fallback/alarm"
    BLOCKED = "arabtoday/blocked/{why}"  # requests refused by the scope rule or robots.txt
    DUPLICATE_FLAGGED = "arabtoday/duplicates/flagged/{kind}"  # copies emitted with duplicate_of
