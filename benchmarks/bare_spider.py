"""A bare Scrapy spider that only downloads a list of URLs: the baseline of bench_crawl.

    scrapy runspider bare_spider.py -a urls=FILE -a stats=OUT.json
"""

import json
import time

from scrapy import Request, Spider


class BareSpider(Spider):
    name = "bare"

    def __init__(self, urls: str, stats: str, **kwargs):
        super().__init__(**kwargs)
        self.url_file, self.stats_file = urls, stats
        self.started = time.monotonic()

    async def start(self):
        self.started = time.monotonic()
        with open(self.url_file, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    yield Request(line.strip(), dont_filter=True)

    def parse(self, response):
        return None

    def closed(self, reason):
        stats = self.crawler.stats.get_stats()
        elapsed = time.monotonic() - self.started
        with open(self.stats_file, "w", encoding="utf-8") as fh:
            json.dump({"responses": stats.get("response_received_count", 0), "seconds": elapsed,
                       "peak_rss_bytes": stats.get("memusage/max", 0)}, fh)
