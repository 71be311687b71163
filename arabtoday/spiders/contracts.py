"""Spider contracts for ``scrapy check``, against whichever copy of the site is configured.

Scrapy's ``@url`` needs an absolute address written in the docstring, which
would tie ``scrapy check`` to the live site. ``@site_url PATH`` takes the path
relative to the spider's ``base_url`` (``ARABTODAY_BASE_URL``), so the same
contracts check the live site, the bundled snapshot served on loopback
(``scrapy check -s ARABTODAY_BASE_URL=http://127.0.0.1:8000 arabtoday``), or a mirror.
"""

from __future__ import annotations

from typing import Any

from scrapy.contracts import Contract


class SiteUrlContract(Contract):
    """``@site_url /en/section/id/slug``: the sample page, relative to the site's address."""

    name = "site_url"

    def __init__(self, method: Any, *args: Any) -> None:
        super().__init__(method, *args)
        self.method = method

    def adjust_request_args(self, args: dict[str, Any]) -> dict[str, Any]:
        spider = getattr(self.method, "__self__", None)
        base = getattr(spider, "base_url", "").rstrip("/")
        args["url"] = base + "/" + self.args[0].lstrip("/")
        return args
