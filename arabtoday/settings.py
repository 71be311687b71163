"""Scrapy settings for arabtoday.

Defaults are for the live site: polite (one request at a time per host,
AutoThrottle, backoff on errors), bounded (timeouts, size limits) and honest
(a User-Agent that says who is crawling). Every value can be overridden with
``-s NAME=value``; the tests and benchmarks turn the delays off. The project's
own settings are prefixed ``ARABTODAY_`` and listed in the README.
"""

from __future__ import annotations

BOT_NAME = "arabtoday"
SPIDER_MODULES = ["arabtoday.spiders"]
NEWSPIDER_MODULE = "arabtoday.spiders"

# -- politeness --------------------------------------------------------------------------------------------------
USER_AGENT = "arabtoday-crawler/0.1 (news research dataset; +https://github.com/arabtoday/arabtoday)"
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
ARABTODAY_RETRY_BACKOFF_BASE = 2.0  # seconds before the first retry; doubles each attempt
ARABTODAY_RETRY_BACKOFF_MAX = 60.0
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "arabtoday.middlewares.BackoffRetryMiddleware": 550,
}
REDIRECT_MAX_TIMES = 5
DNS_TIMEOUT = 20

# -- pipeline and export -----------------------------------------------------------------------------------------
ITEM_PIPELINES = {
    "arabtoday.pipelines.BoilerplatePipeline": 100,
    "arabtoday.pipelines.RequiredFieldsPipeline": 200,
    "arabtoday.pipelines.WindowPipeline": 300,
    "arabtoday.pipelines.ArticleIdPipeline": 400,
    "arabtoday.pipelines.IncrementalPipeline": 500,
    "arabtoday.pipelines.ContentDedupPipeline": 600,
    "arabtoday.pipelines.MaxArticlesPipeline": 900,
}
FEED_EXPORTERS = {
    "jsonl": "arabtoday.exporters.DurableJsonLinesExporter",
    "jsonlines": "arabtoday.exporters.DurableJsonLinesExporter",
}
# Used when no feed is given (no FEEDS, -o or -O): one file per run.
ARABTODAY_DEFAULT_FEED = "output/arabtoday-%(lang)s-%(time)s.jsonl"
FEED_EXPORT_ENCODING = "utf-8"
FEED_STORE_EMPTY = True
ARABTODAY_FSYNC_EVERY = 200  # records between fsyncs of the output (and state commits); recovery covers the rest

EXTENSIONS = {
    "arabtoday.extensions.RunReport": 500,
    "arabtoday.state.extension.StateExtension": 100,
}

# -- state: incremental runs and deduplication -------------------------------------------------------------------
ARABTODAY_STATE_DIR = ".arabtoday/state"  # what earlier runs emitted (SQLite); share it between scheduled runs
ARABTODAY_INCREMENTAL = True  # False: fetch and emit everything again (the state still records it)
ARABTODAY_EMIT_DUPLICATES = False  # True: emit republished copies flagged with duplicate_of
ARABTODAY_NEAR_DUP_THRESHOLD = 0.5  # estimated Jaccard similarity (word 5-grams) from which texts are copies
ARABTODAY_NEAR_DUP_PERMUTATIONS = 64  # MinHash permutations (fixed for the life of a state directory)
ARABTODAY_DEDUP_HOLD_SECONDS = 10.0  # how long an item may wait for a lower-id article of its edition in flight
ARABTODAY_DEDUP_HOLD_MAX_ITEMS = 32  # how many items may wait at once (the rest go on: ordering is best effort)
ARABTODAY_REDIS_URL = None  # redis://host:6379/0: distributed mode (shared queue, dupefilter and state)
ARABTODAY_REDIS_PREFIX = "arabtoday"
ARABTODAY_REDIS_IDLE_SECONDS = 10.0  # a worker closes after the shared queue stayed empty and calm this long
ARABTODAY_REPORT_PATH = None  # default: <first output file>.report.json
ARABTODAY_FALLBACK_ALARM_RATIO = 0.5  # alarm when more than this share of article pages needed the fallback
ARABTODAY_FALLBACK_ALARM_MIN_PAGES = 5  # ...and at least this many were parsed

# Breadth-first (FIFO) order: pages are fetched in the order they were found,
# so an original, listed before its republished copy, is usually fetched first.
SCHEDULER_MEMORY_QUEUE = "scrapy.squeues.FifoMemoryQueue"
SCHEDULER_DISK_QUEUE = "scrapy.squeues.PickleFifoDiskQueue"

LOG_LEVEL = "INFO"
LOG_FORMATTER = "arabtoday.logformatter.ArticleLogFormatter"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
