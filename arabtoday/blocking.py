"""Is an answer with status 200 a block page rather than an article?

Sites that block crawlers often answer 200 with a captcha, an "access denied"
page or a generic error page, the same for every address. Left alone, such a
page becomes a ``missing_body`` drop or, worse, a record of boilerplate. A
page served for an article address is a block page when it states so in its
few words (a short page with a block phrase and no article markup), or when
the very same body was served for several different article addresses.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict

SAME_BODY_ADDRESSES = 3  # one body for this many article addresses: not articles
REMEMBERED_BODIES = 4096  # bodies whose addresses are counted (oldest forgotten first)
SHORT_PAGE_BYTES = 20_000  # block and error pages are small; articles with their chrome are not
_BLOCK_PHRASES = re.compile(
    rb"captcha|access denied|access to this page has been denied|you have been blocked|are you a robot|"
    rb"verify you are (?:a )?human|unusual traffic|too many requests|rate limit|attention required|"
    rb"request blocked|forbidden|\xd8\xaa\xd9\x85 \xd8\xad\xd8\xb8\xd8\xb1",  # "تم حظر" (has been blocked)
    re.I)
_ARTICLE_MARKUP = re.compile(rb"<article\b|og:type[\"'][^>]*article|\"@type\"\s*:\s*\"NewsArticle\"", re.I)


class BlockPageDetector:
    def __init__(self) -> None:
        self._addresses: OrderedDict[bytes, set[str]] = OrderedDict()

    def served_for_many(self, body: bytes, url: str) -> bool:
        """The very same bytes were served for several article addresses (always checked)."""
        digest = hashlib.blake2b(body, digest_size=16).digest()
        seen = self._addresses.get(digest)
        if seen is None:
            seen = self._addresses[digest] = set()
            if len(self._addresses) > REMEMBERED_BODIES:
                self._addresses.popitem(last=False)
        if len(seen) < SAME_BODY_ADDRESSES:
            seen.add(url)
        return len(seen) >= SAME_BODY_ADDRESSES


def says_blocked(body: bytes) -> bool:
    """A short page without article markup that says it blocks (checked only on pages that
    yielded no article: an article may well contain the word "forbidden")."""
    return len(body) < SHORT_PAGE_BYTES and not _ARTICLE_MARKUP.search(body) and bool(_BLOCK_PHRASES.search(body))
