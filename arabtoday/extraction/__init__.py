"""Page in, raw record out: page objects for every generation of the site, and the fallback for the rest.

    >>> record = extract(html, url)          # dict in the record's shape (cleaned)
    >>> raw = parse_page(html, url)          # before cleaning (what the spider yields)

Both raise :class:`NotAnArticle` for pages that must never become records
(listings, AMP and print copies, error pages). ``page`` (the parsed page and
its lookups), ``selectors`` (every selector, one ``Layout`` per generation),
``parsers`` (one parser class per layout, the metadata helpers, the fallback),
``cascade`` (the body as a decision between candidates), ``html`` (bytes to
text, DOM to text blocks), ``depth`` (pages nested deeper than the parser holds),
``api`` (where ``extract``, ``parse_page`` and the rest of the API above live;
this package loads it on first use).

May import: cleaning, site, and the declared-once modules.
"""

from typing import Any

_API = frozenset({"EXTRACTOR_VERSION", "Decoded", "NotAnArticle", "Page", "as_record", "choose_parser",
                  "decode_html", "extract", "extract_bytes", "is_fallback", "parse_page"})


def __getattr__(name: str) -> Any:
    """The API, loaded on first use: importing one submodule does not load every parser."""
    if name in _API:
        from arabtoday.extraction import api

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
