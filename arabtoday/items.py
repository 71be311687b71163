"""The two shapes an article takes on its way through the crawler.

``RawArticle`` is what a page object reads off a page: text already decoded
and whitespace-folded, but body blocks still carrying datelines, source lines,
"Read also" links and whatever chrome a fallback parser let through.
``Article`` is the cleaned record of the SPEC, in its field order; it is what
the feed exporters write.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields


@dataclass(slots=True)
class RawArticle:
    url: str  # canonical address
    lang: str
    number: str  # numeric id within the edition
    extractor: str  # parser that produced the body ("article-v1", "fallback")
    extractor_version: str = ""  # arabtoday.extraction.EXTRACTOR_VERSION when the page was read
    title: str | None = None
    section: str | None = None
    published_at: str | None = None
    modified_at: str | None = None
    dateline: str | None = None  # when the markup says which block it is
    source: str | None = None  # likewise, without its label
    image_url: str | None = None
    image_caption: str | None = None
    kicker: str | None = None
    tags: list[str] = field(default_factory=list)
    blocks: list[str] = field(default_factory=list)
    fallback_fields: list[str] = field(default_factory=list)  # fields filled from metadata, not selectors
    lastmod: str | None = None  # what the sitemap said, for the incremental state
    requested_id: str | None = None  # the id the request was made for (differs after an id-changing redirect)

    @property
    def id(self) -> str:
        return f"{self.lang}-{self.number}"

    def __repr__(self) -> str:  # log lines name the article, not its whole text
        return f"RawArticle({self.id} {self.url})"


@dataclass(slots=True)
class Article:
    id: str
    url: str
    lang: str
    section: str | None
    title: str
    published_at: str | None
    modified_at: str | None
    dateline: str | None
    author: str | None
    source: str | None
    image_url: str | None
    image_caption: str | None
    body: str
    tags: list[str]
    word_count: int
    content_hash: str
    extractor: str
    extractor_version: str
    crawled_at: str
    duplicate_of: str | None = None
    # Not exported: what the sitemap or feed said when the page was found,
    # kept for the incremental state.
    lastmod: str | None = field(default=None, compare=False)
    change: str = field(default="new", compare=False)  # "new" or "updated" (a changed text), for the report
    requested_id: str | None = field(default=None, compare=False)  # the ledger's account (see RawArticle)

    def __repr__(self) -> str:
        return f"Article({self.id} {self.url})"


# The SPEC record, in order: what the feed exporters write.
EXPORT_FIELDS = tuple(f.name for f in fields(Article) if f.name not in ("lastmod", "change", "requested_id"))
REQUIRED_FIELDS = ("title", "body", "published_at")
