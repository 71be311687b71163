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

A backfill (``-a backfill=…``) also reads a web archive: its hosts are inside
only at the :class:`Endpoint` addresses it names (an index query, a capture
whose archived address is an article of the site, the archive's robots.txt),
nowhere else on those hosts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest

from arabtoday.site.addresses import Kind, classify

WANTED = frozenset({Kind.ARTICLE, Kind.AMP, Kind.LISTING, Kind.HOME, Kind.FEED, Kind.SITEMAP})
ARCHIVED = frozenset({Kind.ARTICLE})  # the only kind of the site's pages a backfill reads from an archive
ORIGINAL = "original"  # the group of an endpoint's pattern that holds the site's address
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
class Endpoint:
    """Addresses of a web archive a backfill reads: ``prefix`` (scheme, host, port and path start, exactly),
    then a rest that ``pattern`` matches whole; a group named ``original`` must be an article of the site."""

    prefix: str
    pattern: str

    @property
    def robots(self) -> str:
        parts = urlsplit(self.prefix)
        return f"{parts.scheme}://{parts.netloc}/robots.txt"


@dataclass(frozen=True)
class Scope:
    base_url: str
    host: str
    port: int | None  # base_url's explicit port; None: each scheme's default
    endpoints: tuple[Endpoint, ...] = ()  # a backfill's archive addresses

    @classmethod
    def from_base_url(cls, base_url: str, endpoints: tuple[Endpoint, ...] = ()) -> Scope:
        parts = urlsplit(base_url)
        return cls(base_url.rstrip("/"), _host(parts.hostname), parts.port, endpoints)

    def why_not(self, url: str) -> str | None:
        """``None`` when ``url`` is inside the site or one of the archive endpoints; else ``offsite`` or
        ``not_wanted``."""
        why = self.site_why_not(url)
        if why != "offsite" or not self.endpoints:
            return why
        for endpoint in self.endpoints:
            if url == endpoint.robots:
                return None
            if not url.startswith(endpoint.prefix):
                continue
            match = re.fullmatch(endpoint.pattern, url[len(endpoint.prefix):])
            if match is None:  # another endpoint may share the prefix (a mirror serving index and data)
                why = "not_wanted"
                continue
            original = match.groupdict().get(ORIGINAL)
            if original is not None and (self.site_why_not(original) is not None
                                         or classify(original, self.base_url).kind not in ARCHIVED):
                return "not_wanted"
            return None
        return why

    def on_site(self, url: str) -> bool:
        """Is ``url`` the site's own (not an archive's)?"""
        return self.site_why_not(url) is None

    def site_why_not(self, url: str) -> str | None:
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
