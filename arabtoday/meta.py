"""The ``Request.meta`` keys the parts share: spelled here once.

The spider sets them on the requests it yields; middlewares, extensions and
pipelines read them. Imports nothing: every layer may import it.
"""

ARTICLE_ID = "article_id"  # ``en-104257``: makes a request an article's (the ledger opens its account)
LASTMOD = "lastmod"  # what the sitemap said (<lastmod>) when the address was found, ISO 8601 UTC
SOURCE = "source"  # where the address was found: robots, sitemap, feed, listing, article, amp
LISTING_PAGE = "listing_page"  # the number of a listing page (2, 3…): pagination, stopped when nothing is new
STREAM_CAP = "stream_cap"  # bytes of the response to read before stopping the download (sitemaps)
SAME_ACCOUNT = "same_account"  # continues an article already requested (AMP copy -> its article): not a new find
RECHECK = "recheck"  # asks again for an article no sitemap lists any more: is it still served? (state/history)
CAPTURED_AT = "captured_at"  # when the page was captured, ISO 8601 UTC: the fetch time, or an archive's timestamp
ORIGIN = "origin"  # live, wayback, commoncrawl: where the page was read (schema.ORIGINS)
WARC_RECORD = "warc_record"  # (file name, WARC-Record-ID) of the response record that holds the page as fetched
ARCHIVED_URL = "archived_url"  # the site's own address of a page read from a web archive (the record's url)
INDEX_PAGE = "index_page"  # the number of a page of an archive index (backfill), from 1: bounded by a setting
