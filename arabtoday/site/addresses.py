"""What an address on the site is, and its canonical form.

The crawler follows a whitelist: only the kinds below that it needs (home,
section listings, articles, feeds, sitemaps) on the site's own host. Print,
send-to-friend, comment, search and tag pages, social networks and ad servers
are never requested, whatever the pages link to.

Kept library helpers where they fit: ``w3lib.url.safe_url_string`` escapes
(behind a one-regex fast path: most links are already escaped, and w3lib's
full parse was a measurable share of a crawl); Scrapy's
``sitemap_urls_from_robots`` reads robots.txt. Ours where theirs fall short:
``strip_tracking`` removes parameters by prefix (``utm_*``), which
``w3lib.url.url_query_cleaner`` (exact names) cannot, and keeps everything else
exactly as written, which ``courlan.normalize_url`` (lower-cases, reorders,
drops what it judges useless) does not promise; ``classify`` is the site's own
address grammar, which no library knows.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from w3lib.url import safe_url_string

SITE_URL = "https://www.arabstoday.net"  # the live site: the default of ARABTODAY_BASE_URL and base_url
LANGS = ("en", "ar")
# Query parameters that only say where a reader came from.
TRACKING_PREFIXES = ("utm_", "ga_", "mc_", "pk_")
TRACKING_PARAMS = frozenset({"ref", "fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "share", "from"})
# Path segments after /{lang}/ that are not sections.
RESERVED = frozenset({"amp", "print", "send", "comment", "comments", "tag", "tags", "search", "rss", "terms",
                      "author", "authors", "video", "videos", "login", "register", "contact"})

_ARTICLE = re.compile(r"^/(?P<lang>en|ar)/(?P<section>[^/]+)/(?P<num>\d+)(?:/[^/]*)?/?$")
_AMP = re.compile(r"^/(?P<lang>en|ar)/amp/(?P<num>\d+)/?$")
_PRINT = re.compile(r"^/(?:en|ar)/(?:print|send|comment|comments)(?:/|$)")
_LISTING = re.compile(r"^/(?P<lang>en|ar)/(?P<section>[a-z][a-z0-9-]*)/?$")
_HOME = re.compile(r"^/(?P<lang>en|ar)/?$")
_FEED = re.compile(r"^/(?:(?P<lang>en|ar)/)?(?:(?P<section>[a-z][a-z0-9-]*)/)?(?:rss|feed)(?:\.xml)?/?$")
_SITEMAP = re.compile(r"^/(?:sitemap[^/]*\.xml|sitemaps/[^/]+\.xml)(?:\.gz)?$")  # .xml.gz: inflated as a stream
_SITEMAP_MONTH = re.compile(r"(?P<lang>en|ar)-(?P<y>\d{4})-(?P<m>\d{2})\.xml(?:\.gz)?$")


class Kind(enum.Enum):
    ARTICLE = "article"
    AMP = "amp"
    PRINT = "print"  # print, send-to-friend and comment copies: disallowed by robots.txt
    LISTING = "listing"
    HOME = "home"
    FEED = "feed"
    SITEMAP = "sitemap"
    OTHER = "other"  # same host, but nothing the crawler needs (tags, search, terms, assets)
    FOREIGN = "foreign"  # another host: social networks, ad servers, CDNs


@dataclass(frozen=True, slots=True)
class ArticleRef:
    lang: str
    number: str
    section: str | None = None

    @property
    def id(self) -> str:
        return f"{self.lang}-{self.number}"


@dataclass(frozen=True, slots=True)
class Classified:
    kind: Kind
    url: str  # canonical form (tracking parameters and fragment removed)
    lang: str | None = None
    section: str | None = None
    article: ArticleRef | None = None


_NEEDS_ESCAPING = re.compile(r"[^\x21-\x7e]|%(?![0-9A-Fa-f]{2})")


def safe_url(url: str) -> str:
    """Percent-encode what needs it (Arabic slugs, spaces), as browsers do; the
    common case, an address already ASCII and escaped, costs one regex scan
    instead of w3lib's full parse."""
    return safe_url_string(url) if _NEEDS_ESCAPING.search(url) else url


def strip_tracking(url: str) -> str:
    """Drop tracking parameters and the fragment; keep everything else as is."""
    parts = urlsplit(safe_url(url))
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not k.lower().startswith(TRACKING_PREFIXES) and k.lower() not in TRACKING_PARAMS]
    return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path or "/", urlencode(query), ""))


def same_host(url: str, base: str) -> bool:
    a, b = urlsplit(url).netloc.lower(), urlsplit(base).netloc.lower()
    return a == b or a.removeprefix("www.") == b.removeprefix("www.")


_ARTICLE_TAIL = re.compile(_ARTICLE.pattern.lstrip("^"))
# An article address, cheaply, before the full classification (most links of a page are menus,
# tickers and "more news" of articles already known): ``/{lang}/[amp/][{section}/]{id}``.
_ARTICLE_HINT = re.compile(r"/(en|ar)/(?:amp/)?(?:[^/?#]+/)?(\d+)(?:[/?#]|$)")
_AMP_TAIL = re.compile(_AMP.pattern.lstrip("^"))


def article_ref(url: str) -> ArticleRef | None:
    """The article an address stands for, from the end of its path, on any
    host: web-archive addresses (``/web/2017.../https://www.arabstoday.net/en/...``)
    and saved files keep the site's path at their end."""
    path = urlsplit(safe_url(url)).path
    m = _ARTICLE_TAIL.search(path)
    if m and m["section"] not in RESERVED:
        return ArticleRef(m["lang"], m["num"], m["section"])
    m = _AMP_TAIL.search(path)
    if m:
        return ArticleRef(m["lang"], m["num"])
    return None


def classify(url: str, base: str) -> Classified:
    """Say what kind of page ``url`` is, relative to the site at ``base``."""
    canon = strip_tracking(url)
    parts = urlsplit(canon)
    if parts.scheme not in ("http", "https") or not same_host(canon, base):
        return Classified(Kind.FOREIGN, canon)
    path = parts.path
    if _PRINT.match(path) or path.startswith("/search"):
        return Classified(Kind.PRINT, canon)
    m = _AMP.match(path)
    if m:
        return Classified(Kind.AMP, canon, m["lang"], article=ArticleRef(m["lang"], m["num"]))
    m = _ARTICLE.match(path)
    if m and m["section"] not in RESERVED:
        ref = ArticleRef(m["lang"], m["num"], m["section"])
        return Classified(Kind.ARTICLE, urlunsplit(parts._replace(query="")), m["lang"], m["section"], ref)
    m = _FEED.match(path)
    if m:
        return Classified(Kind.FEED, canon, m["lang"], m["section"])
    if _SITEMAP.match(path):
        return Classified(Kind.SITEMAP, canon)
    m = _HOME.match(path)
    if m:
        return Classified(Kind.HOME, canon, m["lang"])
    m = _LISTING.match(path)
    if m and m["section"] not in RESERVED:
        return Classified(Kind.LISTING, canon, m["lang"], m["section"])
    return Classified(Kind.OTHER, canon)


def sitemap_month(url: str) -> tuple[str, int, int] | None:
    """``(lang, year, month)`` for a monthly sitemap such as ``/sitemaps/en-2017-10.xml``."""
    m = _SITEMAP_MONTH.search(urlsplit(url).path)
    return (m["lang"], int(m["y"]), int(m["m"])) if m else None


def absolute(href: str | None, page_url: str) -> str | None:
    if not href or href.startswith(("javascript:", "mailto:", "tel:", "#", "data:")):
        return None
    return safe_url(urljoin(page_url, href.strip()))


def article_id_hint(href: str) -> str | None:
    """``en-104257`` for anything that looks like an article address, without parsing it
    (a pre-filter: :func:`classify` decides)."""
    m = _ARTICLE_HINT.search(href)
    return f"{m[1]}-{m[2]}" if m else None


def article_id_of(path_or_url: str) -> str | None:
    """``en-104257`` for an article address or its AMP copy (a path or a whole address), else None."""
    ref = article_ref(path_or_url)
    return ref.id if ref is not None else None
