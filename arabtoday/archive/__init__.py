"""Web archives: the WARC of every fetch the crawl makes (``warc``), and the archives behind the live site.

``warc`` (the downloader middleware that writes each HTTP exchange as WARC
``request`` and ``response`` records, with warcio, and stamps each response
with its capture time and record id: the provenance of the record made from
it).

May import: run, site, cleaning, and the declared-once modules.
"""
