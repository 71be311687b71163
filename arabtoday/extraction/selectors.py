"""Every selector the crawler knows, in one place.

After a redesign, this is the file to edit (``docs/extraction.md``, "After a redesign"):
add a new ``Layout`` with the new class names to ``LAYOUTS``, give the old one a
``valid_until`` date (``choose_parser`` picks, among the layouts that prove a
page, the one valid on its publication day), and add a golden page for it under
``tests/fixtures/golden/``. Pages whose layout no selector matches still come
out through the metadata + generic fallback, counted in the run report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Layout:
    """CSS selectors for one generation of the article page."""

    name: str  # written to each record as ``extractor``
    valid_until: date | None  # last day pages were served in this layout (None: current)
    scope: str  # the article's container (header, picture, body, tags); the page when it is missing
    body: str
    title: str
    date: str
    section: str
    dateline: str
    source: str
    image: str
    caption: str
    kicker: str
    tags: str
    junk: str  # inside the body: ads, share bars, embedded widgets
    proof: tuple[str, ...]  # all must match before the layout claims a page (more than one class name)


# The 2017-2021 layout (the reconstructed snapshot, matching the seed page).
ARTICLE_V1 = Layout(
    name="article-v1",
    valid_until=None,
    scope="div.article-page",
    body="div.article-body",
    title="h1.article-title",
    date=".article-meta .article-date",
    section=".article-meta .article-section a",
    dateline=".article-dateline",
    source=".article-source",
    image=".article-image img::attr(src)",
    caption=".article-image .image-caption",
    kicker=".article-kicker",
    tags=".article-tags a",
    junk=".inner-ad, .share-bar, script, style, noscript, iframe, ins, form",
    proof=("div.article-page div.article-body", "div.article-page h1.article-title"),
)

LAYOUTS: tuple[Layout, ...] = (ARTICLE_V1,)

# Metadata, the first fallback: it survives redesigns because search engines
# and social networks read it.
META_TITLE = ("meta[property='og:title']::attr(content)", "meta[name='twitter:title']::attr(content)")
META_SITE_NAME = ("meta[property='og:site_name']::attr(content)",)
META_IMAGE = ("meta[property='og:image']::attr(content)", "meta[name='twitter:image']::attr(content)")
META_IMAGE_ALT = ("meta[property='og:image:alt']::attr(content)",)
# <meta> keys (name, property or itemprop, compared lowercased) that carry the
# publication time, most specific first: OpenGraph (with and without the og:
# prefix), schema.org microdata, Dublin Core, and the CMS conventions seen on
# real pages.
META_PUBLISHED_KEYS = (
    "article:published_time", "og:article:published_time", "og:published_time", "datepublished",
    "dc.date.issued", "dcterms.issued", "dcterms.created", "dc.date.created", "dc.date", "dc:date", "dcterms.date",
    "publishdate", "publish-date", "publish_date", "pubdate", "sailthru.date", "parsely-pub-date",
    "article_date_original", "article.published", "cxenseparse:recs:publishtime", "date",
)
META_KEY_ATTRS = ("property", "name", "itemprop")
# Microdata on any element: the time in content or datetime, else the visible text.
ITEMPROP_PUBLISHED = "[itemprop='datePublished']"
TIME_PUBLISHED = (
    "time[itemprop='datePublished']::attr(datetime)",
    "article time[datetime]::attr(datetime)",
    "time[pubdate]::attr(datetime)",
    "time[datetime]::attr(datetime)",
)
META_MODIFIED = (
    "meta[property='article:modified_time']::attr(content)",
    "meta[itemprop='dateModified']::attr(content)",
    "time[itemprop='dateModified']::attr(datetime)",
)
META_SECTION = ("meta[property='article:section']::attr(content)",)
META_TAGS = "meta[property='article:tag']::attr(content)"
CANONICAL = "link[rel='canonical']::attr(href)"
AMP_MARKER = "html[amp], html[\u26a1]"
JSONLD = "script[type='application/ld+json']::text"
FIGCAPTION = "figure figcaption"
TAG_LINKS = "a[rel~='tag'], a[href*='/tag/'], a[href*='/tags/']"  # the usual CMS convention for tag pages
BREADCRUMB_LINKS = "[class*=breadcrumb] a, nav[aria-label*=readcrumb] a"

# Listing pages: where the next page is. Structural (rel=next) first.
LISTING_NEXT = (
    "link[rel='next']::attr(href)",
    "a[rel='next']::attr(href)",
    ".pagination a.next::attr(href)",
    "a.next::attr(href)",
)
LINKS = "a::attr(href)"

# Elements that are never article text, whatever the layout.
JUNK_TAGS = frozenset({"script", "style", "noscript", "iframe", "ins", "form", "button", "select", "textarea",
                       "input", "svg", "template", "object", "embed", "nav", "aside", "footer", "header"})
# Parts of class/id tokens (split on "-" and "_") that mark ad slots, share
# bars, related-links boxes and similar widgets.
JUNK_TOKEN_PARTS = frozenset({
    "ad", "ads", "advert", "adverts", "advertisement", "adsense", "dfp", "gpt", "sponsor", "sponsored", "promo",
    "banner", "share", "sharing", "social", "related", "newsletter", "outbrain", "taboola", "comment", "comments",
    "breadcrumb", "breadcrumbs", "ticker", "caption", "tags", "readalso", "morenews",
})
JUNK_TOKEN_SPLIT = re.compile(r"[-_\s]+")
