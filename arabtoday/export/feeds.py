"""Scrapy's feed exporter, made to fail once and say what was really written (``EXTENSIONS``).

Scrapy opens a feed's file when the first record arrives; a file that cannot be
opened then fails again for every record, one traceback each, while the run
goes on and counts every record as emitted. This subclass (in place of Scrapy's
``FeedExporter``) turns the first failure into one ERROR line naming the output
and the reason, counts it (``arabtoday/errors/output``), marks exit status 4 and
stops the run; nothing more is written.

It also keeps the run's count honest: when every feed is one of the project's
durable formats (``arabtoday.export.exporters``), a record is written only once
its exporter announces it (``RECORDS_DURABLE``). Records given to the feeds but
never announced by the time they close (an output that failed) are reported to
the ledger (``RECORDS_LOST``), which moves them from ``emitted`` to
``failed/not_written``: the state never counted them, so the next run fetches them.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.crawler import Crawler
from scrapy.extensions.feedexport import FeedExporter as ScrapyFeedExporter
from scrapy.utils.misc import load_object

from arabtoday.exitstatus import ExitStatus, mark
from arabtoday.export.exporters import OUTPUT_ERROR, DurableMixin
from arabtoday.run.ledger import article_key
from arabtoday.run.stopping import stop_run
from arabtoday.signals import RECORDS_DURABLE, RECORDS_LOST
from arabtoday.stats import Stat

logger = logging.getLogger(__name__)
NOT_WRITTEN = "not_written"  # the failure reason of a record no output received


class FeedExporter(ScrapyFeedExporter):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.crawler = crawler
        self.failed: BaseException | None = None
        self.unwritten: dict[str, tuple[str, str]] | None = {} if self._all_durable(crawler) else None
        crawler.signals.connect(self.records_durable, signal=RECORDS_DURABLE)

    @staticmethod
    def _all_durable(crawler: Crawler) -> bool:
        """Every feed announces what it writes (the project's formats, not pickle or marshal)."""
        exporters = crawler.settings.getwithbase("FEED_EXPORTERS")
        feeds = crawler.settings.getdict("FEEDS")
        formats = [options.get("format") for options in feeds.values()]
        return bool(formats) and all(
            fmt in exporters and issubclass(load_object(exporters[fmt]), DurableMixin) for fmt in formats)

    def item_scraped(self, item: Any, spider: Any = None) -> None:
        if self.failed is not None:
            return  # the run is stopping: nothing more goes to the outputs
        if self.unwritten is not None:
            key = article_key(item)
            if key:
                self.unwritten[key] = (getattr(item, "lang", "") or "", getattr(item, "change", "new"))
        try:
            super().item_scraped(item, spider)
        except OSError as exc:  # Scrapy could not open the feed's file (its storage)
            self._output_failed(exc)

    def records_durable(self, records: list[Any], path: str | None, offset: int | None) -> None:
        if self.unwritten is not None:
            for record in records:
                self.unwritten.pop(record.requested_id or record.id, None)

    def _output_failed(self, exc: OSError) -> None:
        self.failed = exc
        target = getattr(exc, "filename", None) or "the output"
        logger.error("Output %s cannot be written (%s): the run stops; records from here on are not emitted",
                     target, exc.strerror or exc)
        self.crawler.stats.inc_value(Stat.OUTPUT_ERROR)
        mark(self.crawler.stats, ExitStatus.WRITE_FAILED)
        stop_run(self.crawler, OUTPUT_ERROR)

    async def close_spider(self, spider: Any = None) -> None:  # type: ignore[override]
        await super().close_spider(spider)
        if self.unwritten:  # given to the feeds, never announced: no output holds them
            lost, self.unwritten = self.unwritten, {}
            logger.error("%d record(s) were given to the outputs but not written: counted as failed/%s",
                         len(lost), NOT_WRITTEN)
            self.crawler.signals.send_catch_log(signal=RECORDS_LOST, records=lost, reason=NOT_WRITTEN)
