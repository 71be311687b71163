"""Web archives: the WARC of every fetch the crawl makes (``warc``), and the archives behind the live site.

``warc`` (the downloader middleware that writes each HTTP exchange as WARC
``request`` and ``response`` records, with warcio, and stamps each response
with its capture time and record id: the provenance of the record made from
it). Backfill (``-a backfill=wayback|commoncrawl``): ``cdx`` (an archive's
index read as data), ``wayback`` and ``commoncrawl`` (what to ask each
archive, where a capture is), ``replay`` (the downloader middleware that makes
an archive's answer the site's page it holds, and the archive endpoints the
scope rule lets a backfill request). The spider decides what to request from them.

May import: run, site, cleaning, and the declared-once modules.
"""
