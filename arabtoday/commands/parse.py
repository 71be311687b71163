"""``scrapy parse URL``: Scrapy's own command, reading the address named, and printing the record.

A Scrapy user expects ``scrapy parse URL`` to read that address. The spider
stays inside its site (``base_url``), so this command, unless told otherwise
(``-a base_url=…``, ``--spider``), takes the spider of the project and the
site from the address itself: a copy served on loopback is read as the live
site would be. An article page prints the record the dataset would hold (the
page object's reading, cleaned as the item pipelines clean it), not the
unfinished internal item; ``--pipelines`` still runs every pipeline. A run
that downloaded nothing, or could not start, exits non-zero with one line.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any
from urllib.parse import urlsplit

from scrapy.commands.parse import Command as ScrapyParse
from scrapy.exceptions import UsageError

from arabtoday.exitstatus import ExitStatus

SPIDER = "arabtoday"


class Command(ScrapyParse):
    def short_desc(self) -> str:
        return "Read one address of the site (or of a copy) and print what the crawl makes of it"

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give exactly one address")
        url = args[0]
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise UsageError(f"not an http(s) address: {url}")
        opts.spider = opts.spider or SPIDER
        if opts.spider == SPIDER:
            opts.spargs.setdefault("base_url", f"{parts.scheme}://{parts.netloc}")
        self._without_run_report()
        super().run(args, opts)
        if self.first_response is None and not self.exitcode:
            sys.stderr.write(f"arabtoday: nothing was read from {url} (see the log above)\n")
            self.exitcode = int(ExitStatus.ARTICLES_FAILED)

    def _without_run_report(self) -> None:
        """No run report and no progress lines: they account for a crawl (articles requested through
        the ledger), and of one page read here they would say "0 article pages parsed, emitted 0"
        right under the record this command prints."""
        from arabtoday.run.progress import Progress
        from arabtoday.run.reporter import RunReport

        extensions = dict(self.settings.getdict("EXTENSIONS"))
        for component in (RunReport, Progress):
            extensions[f"{component.__module__}.{component.__qualname__}"] = None
        self.settings.set("EXTENSIONS", extensions, priority="cmdline")

    def add_items(self, lvl: int, new_items: list[Any]) -> None:
        super().add_items(lvl, [record_of(item) for item in new_items])


def record_of(item: Any) -> Any:
    """What the dataset would hold for an item the spider yields (a raw article is cleaned)."""
    from arabtoday.extraction.api import as_record
    from arabtoday.items import RawArticle

    if isinstance(item, RawArticle):
        from arabtoday.cleaning.record import clean

        return as_record(clean(item))
    return item
