"""Pages nested deeper than the HTML parser can hold.

libxml2 (under lxml and parsel) stops building the tree at about 2,048
levels and *drops* everything deeper: a broken template that repeats a
wrapper 10,000 times loses its article text silently. Such a page is
re-serialised with every element deeper than :data:`MAX_DEPTH` unwrapped
(its text and inline content kept, its start and end tags dropped) and parsed
again. The tokenizer is the standard library's, which keeps no tree and does
not recurse.
"""

from __future__ import annotations

import html
from html.parser import HTMLParser

from lxml import etree

# Deeper than any real layout (news pages stay under ~60 levels), well under libxml2's limit.
MAX_DEPTH = 512
# The parser's own limit is 2,048 (XML_PARSE_HUGE); a tree that reaches this far has been cut.
TRUNCATION_DEPTH = 2000
_TOO_DEEP = etree.XPath(f"boolean(//*[count(ancestor::*) >= {TRUNCATION_DEPTH}])")
VOID_TAGS = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
                       "source", "track", "wbr"})
RAW_TEXT_TAGS = frozenset({"script", "style"})


def too_deep(root: etree._Element) -> bool:
    """True when the parser reached its depth limit (and so may have dropped text)."""
    return bool(_TOO_DEEP(root))


class _Flattener(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.stack: list[tuple[str, bool]] = []  # (tag, written)
        self.raw = 0  # inside <script>/<style>: text is written as is

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID_TAGS:
            self.out.append(_start(tag, attrs))
            return
        written = sum(1 for _, w in self.stack if w) < MAX_DEPTH
        self.stack.append((tag, written))
        if written:
            self.out.append(_start(tag, attrs))
        if tag in RAW_TEXT_TAGS:
            self.raw += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.out.append(_start(tag, attrs))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID_TAGS:
            return
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                for name, written in reversed(self.stack[i:]):
                    if written:
                        self.out.append(f"</{name}>")
                    if name in RAW_TEXT_TAGS:
                        self.raw -= 1
                del self.stack[i:]
                return
        # an end tag nothing opened: dropped, as browsers do

    def handle_data(self, data: str) -> None:
        self.out.append(data if self.raw else html.escape(data, quote=False))

    def handle_comment(self, data: str) -> None:
        return  # comments are never text

    def handle_decl(self, decl: str) -> None:
        self.out.append(f"<!{decl}>")


def _start(tag: str, attrs: list[tuple[str, str | None]]) -> str:
    parts = [tag] + [name if value is None else f'{name}="{html.escape(value)}"' for name, value in attrs]
    return "<" + " ".join(parts) + ">"


def flatten(markup: str) -> str:
    """The page with elements deeper than ``MAX_DEPTH`` unwrapped (text kept)."""
    parser = _Flattener()
    parser.feed(markup)
    parser.close()
    return "".join(parser.out)
