"""The body of a page as a decision between candidates, not a first match.

Every way of finding the article text can be wrong on markup it has never
seen: a known layout's container may match an empty or unrelated element, a
JSON-LD ``articleBody`` may be a teaser, a generic extractor tuned for
precision may throw a short article away. So each one is a *candidate*,
scored for plausibility against the page itself, and the best wins:

1. ``<layout name>`` (``article-v1``) — the known-layout parser's body, when the layout proved the page is its own;
2. ``fallback`` — trafilatura tuned for precision, on a copy of the tree without comments;
3. ``fallback-recall`` — trafilatura's balanced settings, run only when the candidates so far are
   implausibly short (precision mode throws short articles and tables away);
4. ``fallback-ld-body`` — the publisher's own JSON-LD ``articleBody`` (markup inside it read as HTML);
   after the generic passes because on real pages it is as often a teaser or a body with chrome as the article;
5. ``fallback-dense-block`` — the container holding most of the page's paragraph text (readability-style),
   the last resort that keeps a page with text from being dropped; tried *first* on table-laid-out pages
   (the pre-2015 generation: text in a ``<td>`` as ``<br><br>`` paragraphs), where generic extractors
   flatten menus and article together (:attr:`PageText.table_layout`).

Plausibility (:func:`score`): how much of the page's main text the candidate
covers (length against the densest block's link-free text), discounted by
its share of link text and of known boilerplate lines. Candidates are tried
in the order above, each only while no earlier one is plausible; when none
is, the best-scoring one wins. The winner's name becomes the record's
``extractor`` (counted in the run report), so a redesign shows as a shift
from the layout's name to the others.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property

from lxml import etree
from lxml.etree import ParserError

from arabtoday.cleaning.text import normalize
from arabtoday.extraction.html import is_junk, text_blocks
from arabtoday.extraction.page import Page, parse_html

logger = logging.getLogger(__name__)

# Extractor names written to records (besides the layouts' own names). All
# start with "fallback": the run report's layout-change alarm counts them.
FALLBACK_PREFIX = "fallback"
LD_BODY = "fallback-ld-body"
GENERIC = "fallback"
GENERIC_RECALL = "fallback-recall"
DENSE_BLOCK = "fallback-dense-block"
NON_LAYOUT_EXTRACTORS = (LD_BODY, GENERIC, GENERIC_RECALL, DENSE_BLOCK)


def is_fallback(extractor: str) -> bool:
    """True when no known layout produced the body (the pages a redesign moves)."""
    return extractor.startswith(FALLBACK_PREFIX)


# A candidate this good is taken without trying the later ones.
PLAUSIBLE_SCORE = 0.6
# Below this many characters a body is implausible whatever the page: a
# headline, a caption or a "subscribe" line, not an article.
MIN_BODY_CHARS = 120
# Paragraph-like text shorter than this (menu entries, labels) does not count
# towards the page's main text.
MIN_PARAGRAPH_CHARS = 25
# A paragraph mostly made of link text is navigation, not article.
MAX_PARAGRAPH_LINK_SHARE = 0.5
# Share of a paragraph's weight its grandparent receives (readability's rule):
# an article split into several sibling containers still adds up in theirs.
GRANDPARENT_SHARE = 0.5
# A block that is exactly the text of one of the page's links is navigation
# (menus, "latest news" lists), whatever its length.
MIN_LINK_WORDS = 1
# Folding whitespace only shortens a text, but NFC may lengthen it (characters excluded from composition are
# decomposed), by at most this factor (Unicode's normalization FAQ).
NFC_MAX_EXPANSION = 3
# Links whose text is at least $shortest characters long (XPath's string-length counts characters, as
# len() does), and an element's text as one string.
_LONG_LINKS = etree.XPath("//a[string-length(.) >= $shortest]")
_TEXT = etree.XPath("string(.)")
# Table rows as trafilatura writes them in text output: "| cell | cell |".
_TABLE_ROW = re.compile(r"^\|.*\|$")
_CELL_SPLIT = re.compile(r"(?<!\\)\|")
_RULE_CELL = re.compile(r"^:?-{3,}:?$")
CELL_SEPARATOR = " | "
LAYOUT_CELL_TAGS = frozenset({"td", "th"})

PARAGRAPH_TAGS = frozenset({"p", "li", "blockquote", "pre", "dd", "dt", "h2", "h3", "h4", "h5", "h6", "figcaption"})
INLINE_TAGS = frozenset({"a", "b", "i", "em", "strong", "span", "font", "u", "small", "big", "sup", "sub", "abbr",
                         "cite", "q", "mark", "time", "s", "strike", "tt", "code", "bdi", "bdo", "wbr", "nobr"})

TRAFILATURA_COMMON = {"include_comments": False, "include_tables": True, "include_images": False,
                      "include_links": False, "deduplicate": False}
TRAFILATURA_PRECISION = {**TRAFILATURA_COMMON, "favor_precision": True}
# The first pass: precision without trafilatura's own second opinion (its comparison with readability and
# jusText, 40% of its time). Where it comes out plausible (181 of the 192 real pages) it is the body; where
# not, the full passes below run as before, so the pages that needed the second opinion still get it.
TRAFILATURA_FAST = {**TRAFILATURA_PRECISION, "fast": True}
# The second pass: trafilatura's balanced defaults. On the real-page benchmark
# they recover what precision mode threw away better than ``favor_recall``,
# which lets more chrome in (body F1 after cleaning 0.954 against 0.945).
TRAFILATURA_RECALL = dict(TRAFILATURA_COMMON)


@dataclass(frozen=True, slots=True)
class Candidate:
    name: str
    blocks: list[str]
    score: float
    chars: int

    @property
    def plausible(self) -> bool:
        return self.chars >= MIN_BODY_CHARS and self.score >= PLAUSIBLE_SCORE


class PageText:
    """What the scores compare against, computed once per page: the densest
    block of paragraph text, and the texts of the page's links."""

    def __init__(self, page: Page, is_boilerplate: Callable[[str], bool]) -> None:
        self.page = page
        self.is_boilerplate = is_boilerplate

    @cached_property
    def densest(self) -> tuple[etree._Element | None, int]:
        """The container with most link-free paragraph text, and that text's length."""
        return densest_container(self.page.root)

    @property
    def main_chars(self) -> int:
        return self.densest[1]

    @cached_property
    def table_layout(self) -> bool:
        """The page is laid out with tables (the pre-2015 generation, 2000s
        CMSes): the main text sits in a table cell, written as ``<br><br>``
        paragraphs. Generic extractors flatten such cells together with the
        menus around them, so the densest block is tried before them."""
        container, _ = self.densest
        if container is None:
            return False
        cell = container if container.tag in LAYOUT_CELL_TAGS else next(
            (a for a in container.iterancestors() if a.tag in LAYOUT_CELL_TAGS), None)
        return cell is not None and not self.page.css("p", container)

    def link_texts(self, blocks: list[str]) -> frozenset[str]:
        """The page's link texts (normalised) that could equal one of ``blocks``: a link whose raw
        text is too short to normalise into the shortest block cannot equal any, so most links, menu
        entries of a word or two, are filtered out by the XPath engine and never normalised."""
        shortest = min((len(b) for b in blocks), default=0)
        texts = set()
        for link in _LONG_LINKS(self.page.root, shortest=-(-shortest // NFC_MAX_EXPANSION)):
            text = normalize(_TEXT(link))
            if len(text.split()) >= MIN_LINK_WORDS:
                texts.add(text)
        return frozenset(texts)

    def candidate(self, name: str, blocks: list[str], reference: int) -> Candidate:
        return Candidate(name, blocks, score(blocks, reference, self.link_texts(blocks), self.is_boilerplate),
                         sum(len(b) for b in blocks))


def score(blocks: list[str], reference: int, link_texts: frozenset[str],
          is_boilerplate: Callable[[str], bool]) -> float:
    """Plausibility in [0, 1]: coverage of the page's main text, minus link and boilerplate shares."""
    chars = sum(len(b) for b in blocks)
    if not chars:
        return 0.0
    coverage = min(chars / reference, 1.0) if reference else 1.0
    links = sum(len(b) for b in blocks if b in link_texts) / chars
    boilerplate = sum(len(b) for b in blocks if is_boilerplate(b)) / chars
    return coverage * (1 - links) * (1 - boilerplate)


def decide(producers: list[tuple[str, Callable[[], list[str]]]], text: PageText) -> Candidate:
    """The first plausible candidate in order, else the best-scoring one.

    Producers run lazily: once a candidate is plausible the later (slower,
    less specific) ones are never computed.
    """
    tried: list[Candidate] = []
    for name, produce in producers:
        blocks = produce()
        if not blocks:
            continue
        candidate = text.candidate(name, blocks, text.main_chars)
        if candidate.plausible:
            return candidate
        tried.append(candidate)
    best = max(tried, key=lambda c: c.score, default=None)  # max keeps the first of equals: the more specific one
    if best is None or best.score <= 0:
        return Candidate(DENSE_BLOCK, [], 0.0, 0)  # only links and chrome: no body (dropped as missing_body)
    return best


# --- candidates ------------------------------------------------------------------------------------------------

def ld_body_blocks(raw: object) -> list[str]:
    """JSON-LD ``articleBody`` as paragraphs. Some CMSes put the body's HTML
    there (escaped ``<p>`` in the JSON): that is parsed, never taken as text."""
    if isinstance(raw, list):
        raw = "\n".join(str(r) for r in raw if isinstance(r, str))
    if not isinstance(raw, str) or not raw.strip():
        return []
    if "<" in raw and ">" in raw:
        try:
            fragment = etree.fromstring(f"<div>{raw}</div>", etree.HTMLParser())
        except (etree.LxmlError, ValueError):
            fragment = None
        if fragment is not None:
            return text_blocks(fragment)
    return [b for b in (normalize(p) for p in raw.splitlines()) if b]


def generic_tree(page: Page) -> etree._Element:
    """A copy of the page for trafilatura (it prunes what it is given; the
    spider reads the tree afterwards), without comments: a commented-out
    block is not text, whatever a generic extractor makes of it. Parsed again
    from the page's text rather than deep-copied: trafilatura accepts only
    ``lxml.html`` elements, and parsing costs less than copying (1.2 against
    2 ms on the real pages)."""
    tree = parse_html(page.html, html_elements=True)
    etree.strip_elements(tree, etree.Comment, etree.ProcessingInstruction, with_tail=False)
    return tree


def generic_blocks(page: Page, options: dict[str, bool]) -> list[str]:
    """trafilatura's main text with ``options``, as paragraphs ([] when it finds none)."""
    import trafilatura  # 40 ms to import: paid on the first page that needs it, not at start-up

    try:
        text = trafilatura.extract(generic_tree(page), url=page.url, **options)
    except (RecursionError, ParserError, ValueError, TypeError) as exc:  # its own tree walks recurse
        logger.warning("generic extractor failed on %s: %s", page.url, type(exc).__name__)
        return []
    return [b for line in (text or "").splitlines() for b in _line_blocks(line)]


def _line_blocks(line: str) -> list[str]:
    """A line of trafilatura's text. A table row ("| a | b |") becomes one
    block with its cells separated by " | " (the separator row under a header
    is dropped), so a data table in an article reads row by row."""
    line = normalize(line)
    if not _TABLE_ROW.match(line):
        return [line] if line else []
    cells = [normalize(c.replace("\\|", "|")) for c in _CELL_SPLIT.split(line[1:-1])]
    cells = [c for c in cells if c]
    if all(_RULE_CELL.match(c) for c in cells):
        return []
    return [CELL_SEPARATOR.join(cells)] if cells else []


def dense_blocks(text: PageText) -> list[str]:
    container, _ = text.densest
    return text_blocks(container) if container is not None else []


def densest_container(root: etree._Element) -> tuple[etree._Element | None, int]:
    """Readability's idea, kept small: every paragraph's link-free text counts
    for its container (and half for the one above); the best-scoring
    container holds the article. Text directly in a ``<div>``/``<td>``
    (``<br><br>`` paragraphs of old CMSes) counts for that element itself.
    Walks with its own stack: depth is unbounded on broken pages."""
    body = root.find("body")
    start = body if body is not None else root
    scores: dict[etree._Element, float] = {}
    chars: dict[etree._Element, int] = {}
    for owner, text_len, link_len in _paragraphs(start):
        if text_len < MIN_PARAGRAPH_CHARS or link_len > MAX_PARAGRAPH_LINK_SHARE * (text_len + link_len):
            continue
        container = owner.getparent() if owner.tag in PARAGRAPH_TAGS else owner
        if container is None:
            continue
        scores[container] = scores.get(container, 0.0) + text_len
        chars[container] = chars.get(container, 0) + text_len
        above = container.getparent()
        if above is not None:
            scores[above] = scores.get(above, 0.0) + GRANDPARENT_SHARE * text_len
            chars[above] = chars.get(above, 0) + text_len
    if not scores:
        return None, 0
    best = max(scores, key=scores.__getitem__)
    return best, chars[best]


def _paragraphs(start: etree._Element) -> Iterator[tuple[etree._Element, int, int]]:
    """``(block element, its own text length, its link text length)`` for every
    non-inline element outside junk; inline children's text counts for the
    block that holds them."""
    own: dict[etree._Element, list[int]] = {}
    stack: list[tuple[etree._Element, etree._Element, bool]] = [(start, start, False)]
    order: list[etree._Element] = []
    while stack:
        el, owner, in_link = stack.pop()
        tag = el.tag if isinstance(el.tag, str) else ""
        if el is not start and tag not in INLINE_TAGS:
            owner = el
        if owner not in own:
            own[owner] = [0, 0]
            order.append(owner)
        link = in_link or tag == "a"
        if el.text:
            own[owner][1 if link else 0] += len(el.text.strip())
        for child in el:
            if child.tail:  # a child's tail is its parent's text
                own[owner][1 if link else 0] += len(child.tail.strip())
            if isinstance(child.tag, str) and not is_junk(child):
                stack.append((child, owner, link))
    for owner in order:
        yield owner, own[owner][0], own[owner][1]
