"""Bytes to text, and DOM to text blocks, for any layout.

Decoding follows the HTML rules (BOM, then the HTTP header, then ``<meta>``)
through w3lib, as Scrapy does, and then checks the result: old pages declare
windows-1256 in one place and not the other, or declare the wrong charset
outright. A declaration that produces replacement characters while another
candidate decodes cleanly loses to that candidate; the choice is reported so
that it can be counted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from lxml import etree
from w3lib.encoding import html_body_declared_encoding, html_to_unicode, http_content_type_encoding

from arabtoday.cleaning.text import normalize
from arabtoday.extraction.selectors import JUNK_TAGS, JUNK_TOKEN_PARTS, JUNK_TOKEN_SPLIT

# Tried in this order when the declared charset does not decode cleanly.
CANDIDATE_ENCODINGS = ("utf-8", "cp1256", "cp1252")
_ARABIC_LETTER = re.compile(r"[\u0621-\u064a]")
_MOJIBAKE_LEADS = "ØÙÚÛ"
_MOJIBAKE = re.compile(rf"[{_MOJIBAKE_LEADS}][\u0080-\u00ff]")  # UTF-8 Arabic read as a Latin charset
# A page is UTF-8 despite invalid bytes when valid multi-byte characters
# outnumber the invalid sequences this many times (legacy text read as UTF-8
# has fewer valid characters than invalid ones), and there are enough of them
# to judge.
UTF8_VALID_PER_INVALID = 20
UTF8_MIN_VALID_CHARS = 20
# Distinct class/id values whose verdict is kept (a page has tens; the cache bounds a long crawl).
JUNK_CACHE_SIZE = 4096
_ENCODED_REPLACEMENT = "\ufffd".encode()


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    encoding: str
    declared: str | None  # what the header or meta said, if anything
    corrected: bool  # True when the declaration was wrong and another charset was used


def _badness(text: str) -> int:
    return text.count("\ufffd") + len(_MOJIBAKE.findall(text))


def _is_clean(text: str) -> bool:
    """``_badness(text) == 0``, without the pattern's scan of the page when none of its first letters occurs."""
    if "\ufffd" in text:
        return False
    return not any(c in text for c in _MOJIBAKE_LEADS) or _MOJIBAKE.search(text) is None


def decode_html(body: bytes, content_type: str | None = None) -> Decoded:
    """Decode an HTML page, trusting declarations only when they decode cleanly."""
    declared = http_content_type_encoding(content_type) if content_type else None
    declared = declared or html_body_declared_encoding(body)
    encoding, text = html_to_unicode(content_type, body, auto_detect_fun=_auto_detect)
    if not _is_utf8_name(encoding) and not body.isascii():
        # Non-ASCII bytes that are (almost all) valid UTF-8 are UTF-8, whatever
        # the page says: legacy-encoded Arabic or Latin text practically never
        # is, and a stray bad byte in a UTF-8 page must cost that byte only.
        utf8 = mostly_utf8(body)
        if utf8 is not None:
            return Decoded(utf8, "utf-8", declared, corrected=True)
    if _is_utf8_name(encoding) and "\ufffd" not in text:
        return Decoded(text, encoding, declared, corrected=False)  # decoded without a single error: valid UTF-8
    if _is_clean(text) or (_is_utf8_name(encoding) and mostly_utf8(body) is not None):
        return Decoded(text, encoding, declared, corrected=False)
    best = (_badness(text), encoding, text)
    for candidate in CANDIDATE_ENCODINGS:
        try:
            alt = body.decode(candidate)
        except UnicodeDecodeError:
            continue
        score = _badness(alt)
        if score < best[0] or (score == best[0] and len(_ARABIC_LETTER.findall(alt)) > len(
                _ARABIC_LETTER.findall(best[2]))):
            best = (score, candidate, alt)
    return Decoded(best[2], best[1], declared, corrected=best[1] != encoding)


def _is_utf8_name(encoding: str) -> bool:
    return encoding.replace("-", "").replace("_", "").lower().startswith("utf8")


def mostly_utf8(body: bytes) -> str | None:
    """The page decoded as UTF-8 when the bytes as a whole are UTF-8 (invalid
    sequences become U+FFFD), else ``None``.

    Judged on the whole page, not on its first bad byte: legacy Arabic or Latin
    text read as UTF-8 is invalid at nearly every non-ASCII byte, while a UTF-8
    page with a damaged byte or two has thousands of valid multi-byte
    characters for each invalid one.
    """
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    text = body.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") - body.count(_ENCODED_REPLACEMENT)
    valid = len(text) - len(text.encode("ascii", "ignore")) - text.count("\ufffd")
    if valid >= UTF8_MIN_VALID_CHARS and bad * UTF8_VALID_PER_INVALID <= valid:
        return text
    return None


def _auto_detect(body: bytes) -> str | None:
    """No declaration at all: UTF-8 if the bytes as a whole are, else the Arabic Windows code page."""
    return "utf-8" if mostly_utf8(body) is not None else "cp1256"


def is_junk(el: etree._Element) -> bool:
    """Elements that are never article text in any layout: scripts, forms,
    navigation, and ad/share/related widgets recognised by class or id."""
    tag = el.tag
    if not isinstance(tag, str):
        return True  # comments, processing instructions
    if tag.lower() in JUNK_TAGS:
        return True
    for attr in ("class", "id"):
        value = el.get(attr)
        if value and _junk_attribute(value):
            return True
    return False


@lru_cache(maxsize=JUNK_CACHE_SIZE)
def _junk_attribute(value: str) -> bool:
    """A class or id value naming a widget. Pages repeat the same few values on
    hundreds of elements: each is split and looked up once."""
    for token in value.split():
        parts = JUNK_TOKEN_SPLIT.split(token.lower())
        if JUNK_TOKEN_PARTS.intersection(parts) or "".join(parts) in JUNK_TOKEN_PARTS:
            return True
    return False


BLOCK_TAGS = frozenset({
    "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "blockquote", "section", "article", "main",
    "table", "tbody", "thead", "tr", "td", "th", "figure", "figcaption", "pre", "dl", "dt", "dd", "center",
    "header", "footer", "aside", "address", "hr",
})


def text_blocks(root: etree._Element, skip: Callable[[etree._Element], bool] = is_junk) -> list[str]:
    """The text of ``root`` as paragraphs: block elements and ``<br>`` end a
    paragraph (old CMS pastes separate paragraphs with ``<br><br>``); skipped
    elements contribute nothing but their tail text.

    The walk keeps its own stack instead of recursing: a page may nest
    thousands of elements (broken markup, generated pages), which would
    exhaust Python's recursion limit.
    """
    blocks: list[str] = []
    buf: list[str] = []

    def flush() -> None:
        text = normalize("".join(buf))
        buf.clear()
        if text:
            blocks.append(text)

    if root.text:
        buf.append(root.text)
    # each entry: the children still to visit, and the element they belong to (closed when they run out)
    stack: list[tuple[Iterator[etree._Element], etree._Element | None]] = [(iter(root), None)]
    while stack:
        children, parent = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            if parent is not None:
                if parent.tag in BLOCK_TAGS:
                    flush()
                if parent.tail:
                    buf.append(parent.tail)
            continue
        tag = child.tag
        if not isinstance(tag, str) or skip(child):
            if child.tail:
                buf.append(child.tail)
        elif tag == "br":
            flush()
            if child.tail:
                buf.append(child.tail)
        else:
            if tag in BLOCK_TAGS:
                flush()
            if child.text:
                buf.append(child.text)
            stack.append((iter(child), child))
    flush()
    return blocks


def element_text(el: etree._Element | None) -> str:
    """All text of an element, whitespace folded, junk inside it ignored."""
    if el is None:
        return ""
    return " ".join(text_blocks(el))
