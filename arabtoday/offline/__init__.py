"""Saved pages and WARC files through the crawl's own extraction and item pipelines (``arabtoday extract``).

``saved`` (reading files, gzip, WARC records, within bounds), ``runner`` (the
project's item pipelines over saved pages, through Scrapy's own manager),
``extract`` (the command).

May import: every package but distributed, and the declared-once modules.
"""
