"""The one rule for "inside the site", applied to every request however it arises.

A request is inside when (1) its host is the site's host, with or without
``www.`` (the site uses both), and its port is the site's port (``base_url``'s
explicit port, else the scheme's default, so ``http`` -> ``https`` on the same
host is an upgrade, not a move); (2) it is an address kind the crawler requests
on purpose (home, section listing, article, AMP copy, feed, sitemap,
robots.txt; never tag, search, print or comment pages); and (3) robots.txt
allows it (Scrapy's ``RobotsTxtMiddleware``, after this check). Links,
sitemap and feed entries, redirects, meta refreshes and retries all pass
through :class:`arabtoday.middlewares.ScopeMiddleware`, which applies it
and raises :class:`OutOfScope` for what is outside. Pure (but for that exception's base).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest

from arabtoday.site.addresses import Kind, classify

WANTED = frozenset({Kind.ARTICLE, Kind.AMP, Kind.LISTING, Kind.HOME, Kind.FEED, Kind.SITEMAP})
DEFAULT_PORTS = {"http": 80, "https": 443}
ALWAYS = frozenset({"/robots.txt"})


class OutOfScope(IgnoreRequest):
    """A request outside the site (its reason: ``offsite``, ``not_wanted``)."""

    def __init__(self, why: str, url: str, origin: str | None) -> None:
        super().__init__(f"outside the site ({why}): {url}" + (f" (redirected from {origin})" if origin else ""))
        self.why = why


def _host(netloc_host: str | None) -> str:
    return (netloc_host or "").lower().rstrip(".").removeprefix("www.")


@dataclass(frozen=True)
class Scope:
    base_url: str
    host: str
    port: int | None  # base_url's explicit port; None: each scheme's default

    @classmethod
    def from_base_url(cls, base_url: str) -> Scope:
        parts = urlsplit(base_url)
        return cls(base_url.rstrip("/"), _host(parts.hostname), parts.port)

    def why_not(self, url: str) -> str | None:
        """``None`` when ``url`` is inside the site; else ``offsite`` or ``not_wanted``."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:  # a port that is not a number
            return "offsite"
        if parts.scheme not in DEFAULT_PORTS or _host(parts.hostname) != self.host:
            return "offsite"
        effective = port if port is not None else DEFAULT_PORTS[parts.scheme]
        if effective != (self.port if self.port is not None else DEFAULT_PORTS[parts.scheme]):
            return "offsite"
        if parts.path in ALWAYS or classify(url, self.base_url).kind in WANTED:
            return None
        return "not_wanted"
