"""Pages read for their links: home, section listings and an article's own links (a page object)."""

from __future__ import annotations

from datetime import datetime

from lxml import etree

from arabtoday.cleaning.dates import find_site_dates, parse_iso
from arabtoday.extraction import selectors as S
from arabtoday.extraction.page import compiled, parse_html
from arabtoday.site.addresses import absolute


class ListingPage:
    """A page seen for its links: home, section listing, or an article's own links."""

    def __init__(self, html: str, url: str, root: etree._Element | None = None) -> None:
        self.url = url
        self.root = root if root is not None else parse_html(html)

    def hrefs(self, limit: int | None = None) -> list[str]:
        """Link targets as written (cheap: nothing resolved or normalised yet), the first ``limit``."""
        found = compiled(S.LINKS)(self.root)
        return [str(h) for h in (found[:limit] if limit is not None else found)]

    def links(self) -> list[str]:
        return [u for u in (absolute(h, self.url) for h in self.hrefs()) if u]

    def canonical(self) -> str | None:
        found = compiled(S.CANONICAL)(self.root)
        return absolute(str(found[0]), self.url) if found else None

    def next_page(self) -> str | None:
        for query in S.LISTING_NEXT:
            found = compiled(query)(self.root)
            if found:
                return absolute(str(found[0]), self.url)
        return None

    def dates(self) -> list[datetime]:
        """Article dates shown on the page (site format or ``<time datetime>``)."""
        found = [d for d in (parse_iso(str(t)) for t in compiled("time::attr(datetime)")(self.root)) if d]
        main = compiled("#content, main, [role=main]")(self.root) or compiled("body")(self.root)
        return found + find_site_dates(" ".join(t for node in main for t in node.itertext()))


