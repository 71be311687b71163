"""Scrapy settings for arabtoday.

Defaults are for the live site: polite (two requests at a time per host,
AutoThrottle, backoff on errors), bounded (timeouts, size limits, queue and
sitemap bounds) and honest (a User-Agent that says who is crawling). Every
value can be overridden with ``-s NAME=value``; the tests and benchmarks turn
the politeness delays off (never retries, backoff or timeouts). The project's
own settings are prefixed ``ARABTODAY_``, declared with their types, bounds and
documentation in :mod:`arabtoday.config`, and validated before a crawl starts.
"""

from __future__ import annotations

from arabtoday import schema as _schema  # lowercase: Scrapy reads only upper-case names as settings
from arabtoday import version as _version
from arabtoday.config import defaults as _arabtoday_defaults

BOT_NAME = "arabtoday"
SPIDER_MODULES = ["arabtoday.spiders"]
NEWSPIDER_MODULE = "arabtoday.spiders"

# -- politeness --------------------------------------------------------------------------------------------------
# Who is crawling: before crawling the live site, put your own contact here (-s USER_AGENT="... (+mailto:you@…)").
USER_AGENT = f"arabtoday-crawler/{_version.__version__} (news research dataset; contact: set USER_AGENT)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 0.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # no control port on a crawler that runs unattended

# -- robustness --------------------------------------------------------------------------------------------------
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024  # an article page is ~15 KB; anything this large is not one
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
DOWNLOAD_FAIL_ON_DATALOSS = True  # a truncated response is an error (and retried), never a half article
RETRY_ENABLED = True
RETRY_TIMES = 4
RETRY_HTTP_CODES = [500, 502, 503, 504, 520, 522, 524, 408, 429]
DOWNLOADER_MIDDLEWARES = {
    # every request, redirects and meta refreshes included, is checked against the site's scope
    # before Scrapy's offsite filter (50, kept as a second net), robots.txt and the download
    "arabtoday.middlewares.ScopeMiddleware": 40,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "arabtoday.middlewares.BackoffRetryMiddleware": 550,
    # after truncation (560) judged the page whole: the same body for many article addresses is a block page
    "arabtoday.middlewares.BlockPageMiddleware": 555,
    # after decompression (590), before retry (550) sees the response: a cut page is retried
    "arabtoday.middlewares.TruncationMiddleware": 560,
    # backfill: after decompression (590), before truncation (560) and retry (550): an archive's answer
    # becomes the site's page it holds, so that they judge that page
    "arabtoday.middlewares.ArchiveReplay": 580,
    # nearest the download: the site's concurrency limit holds for every request, whatever its path
    "arabtoday.middlewares.PolitenessMiddleware": 950,
    # nearer still: every answer as the server sent it (before decompression, redirects, retries) to the WARC
    "arabtoday.middlewares.WarcCapture": 960,
}
# What the spider yields: the incremental skip (once per article and run; nothing unchanged since the last
# run), then the frontier, nearest the engine, which holds an output while the scheduler is full.
SPIDER_MIDDLEWARES = {
    "arabtoday.middlewares.IncrementalMiddleware": 600,
    "arabtoday.middlewares.FrontierMiddleware": 40,
}
# Scrapy's HTTP/1.1 handler, whose downloads in flight are cancelled when the run stops (a signal, or
# an early stop): a slow site never decides how long a stop takes.
DOWNLOAD_HANDLERS = {
    "http": "arabtoday.run.stopping.StoppableHTTPHandler",
    "https": "arabtoday.run.stopping.StoppableHTTPHandler",
}
REDIRECT_MAX_TIMES = 5
# Scrapy starts this many tasks for the output of every response, whatever it holds; an article page
# yields one item (its pipelines wait, if at all, for lower ids of other pages, which run beside it),
# so 100 (the default) cost 100 tasks a page for nothing: a third of the crawl's own CPU time.
CONCURRENT_ITEMS = 4
DNS_TIMEOUT = 10

# -- pipeline and export -----------------------------------------------------------------------------------------
ITEM_PIPELINES = {
    "arabtoday.pipelines.BoilerplatePipeline": 100,
    "arabtoday.pipelines.RemovalPipeline": 150,
    "arabtoday.pipelines.RequiredFieldsPipeline": 200,
    "arabtoday.pipelines.SchemaPipeline": 250,
    "arabtoday.pipelines.WindowPipeline": 300,
    "arabtoday.pipelines.ArticleIdPipeline": 400,
    "arabtoday.pipelines.IncrementalPipeline": 500,
    "arabtoday.pipelines.ContentDedupPipeline": 600,
    "arabtoday.pipelines.MaxArticlesPipeline": 900,
}
# Every format writes the schema's fields only and tells the state what is on
# disk (arabtoday/exporters.py); pickle and marshal stay Scrapy's and do not.
FEED_EXPORTERS = {
    "jsonl": "arabtoday.export.exporters.DurableJsonLinesExporter",
    "jsonlines": "arabtoday.export.exporters.DurableJsonLinesExporter",
    "jl": "arabtoday.export.exporters.DurableJsonLinesExporter",
    "json": "arabtoday.export.exporters.DurableJsonExporter",
    "csv": "arabtoday.export.exporters.DurableCsvExporter",
    "xml": "arabtoday.export.exporters.DurableXmlExporter",
}
FEED_EXPORT_FIELDS = list(_schema.EXPORT_FIELDS)  # the record's columns in every format (never lastmod/change)
FEED_EXPORT_ENCODING = "utf-8"
FEED_STORE_EMPTY = True

# Extensions own the run's shared parts; pipelines and middlewares reach them with
# crawler.get_extension(...). The state opens (and recovers) first and closes last.
EXTENSIONS = {
    # Scrapy's feed exporter, made to fail once, stop the run, and count only what was written
    "scrapy.extensions.feedexport.FeedExporter": None,
    "arabtoday.export.feeds.FeedExporter": 0,
    "arabtoday.state.extension.StateExtension": 100,
    "arabtoday.state.history.History": 105,
    "arabtoday.run.ledger.Ledger": 110,
    "arabtoday.run.blocking.BlockWatch": 120,
    "arabtoday.dedup.ordering.OrderingHold": 130,
    "arabtoday.discovery.frontier.Frontier": 140,
    "arabtoday.discovery.sitemaps.StreamCap": 150,
    "arabtoday.run.reporter.RunReport": 500,
    "arabtoday.run.progress.Progress": 510,
    "arabtoday.run.stopping.StopWatch": 520,
}
# Distributed mode: switched on by ARABTODAY_REDIS_URL, carries all scrapy-redis wiring.
ADDONS = {"arabtoday.distributed.addon.DistributedAddon": 100}
# `scrapy check`: @site_url paths are relative to ARABTODAY_BASE_URL (arabtoday.spiders.contracts)
SPIDER_CONTRACTS = {"arabtoday.spiders.contracts.SiteUrlContract": 1}
# The project's `crawl` command: Scrapy's, with validated settings and exit statuses.
COMMANDS_MODULE = "arabtoday.commands"

# -- the project's own settings: declared, documented and validated in arabtoday.config --------------------------
globals().update(_arabtoday_defaults())

# Breadth-first (FIFO) order: pages are fetched in the order they were found,
# so an original, listed before its republished copy, is usually fetched first.
SCHEDULER_MEMORY_QUEUE = "scrapy.squeues.FifoMemoryQueue"
SCHEDULER_DISK_QUEUE = "scrapy.squeues.PickleFifoDiskQueue"

LOG_LEVEL = "INFO"
LOG_FORMATTER = "arabtoday.run.logformatter.ArticleLogFormatter"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
