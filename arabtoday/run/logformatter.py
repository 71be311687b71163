"""Log lines for dropped items that name the article, not its whole body."""

from __future__ import annotations

from typing import Any

from scrapy import logformatter


class ArticleLogFormatter(logformatter.LogFormatter):
    def dropped(self, item: Any, exception: BaseException, response: Any, spider: Any = None) -> dict[str, Any]:
        entry = dict(super().dropped(item, exception, response, spider))
        entry["msg"] = "Dropped: %(exception)s"
        entry["args"] = {"exception": exception}
        return entry

    def scraped(self, item: Any, response: Any, spider: Any = None) -> dict[str, Any]:
        entry = dict(super().scraped(item, response, spider))
        entry["msg"] = "Scraped %(id)s from %(src)s"
        entry["args"] = {"id": getattr(item, "id", "?"), "src": getattr(response, "url", response)}
        return entry
