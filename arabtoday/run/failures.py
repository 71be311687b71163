"""Why a request failed, as a short name the stats and the ledger can count.

The spider's errbacks only report; this decides the name (``http_503``,
``timeout``, ``truncated``, ``redirect/offsite`` …) and, for an article, the
ledger's bucket: a page that is gone or forbidden by robots.txt is dropped
with that reason, anything else failed (and retried by the next run). A new
kind of failure is named here. Also here: when a response that arrived is
nonetheless cut short (:func:`looks_cut`, :class:`Truncated`).
"""

from __future__ import annotations

import re

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import ConnectionRefusedError as TxConnectionRefusedError
from twisted.internet.error import DNSLookupError, TCPTimedOutError
from twisted.internet.error import TimeoutError as TxTimeoutError
from twisted.python.failure import Failure
from twisted.web.client import ResponseFailed

from arabtoday.run.blocking import BLOCKED, BlockedPage
from arabtoday.run.stopping import Interrupted
from arabtoday.site.scope import OutOfScope
from arabtoday.stats import Bucket

GONE_STATUSES = (404, 410)
GONE = "gone"  # the reason of an article whose address answers 404 or 410 (and of its drop, when not in the dataset)
BLOCKED_STATUSES = (403, 429)
# The end of a complete HTML document; an old page may omit it, but then it ends on a tag, not mid-text.
_COMPLETE_END = re.compile(rb"(?:</html\s*>|</body\s*>)\s*$", re.I)
_ENDS_ON_TAG = re.compile(rb">\s*$")
TAIL_BYTES = 512


class Truncated(IgnoreRequest):
    """A response that stayed cut short after its retries."""


def looks_cut(body: bytes) -> bool:
    """Does an HTML document end mid-way? Complete pages end with ``</html>`` or ``</body>``;
    old pages that omit them still end on a tag. A document that stops inside a tag or in the
    middle of text was cut. (Used only when the transport could not tell: no Content-Length.)"""
    tail = body[-TAIL_BYTES:].rstrip()
    if not tail:
        return True
    if _COMPLETE_END.search(tail):
        return False
    if tail.rfind(b"<") > tail.rfind(b">"):
        return True  # stops inside a tag
    return not _ENDS_ON_TAG.search(tail)


def failure_kind(failure: Failure) -> str:
    """A short, countable name for why a request failed."""
    if failure.check(HttpError):
        return f"http_{failure.value.response.status}"
    if failure.check(OutOfScope):
        return f"redirect/{failure.value.why}"
    if failure.check(BlockedPage):
        return BLOCKED
    if failure.check(Interrupted):
        return "interrupted"
    if failure.check(Truncated, ResponseDataLossError):
        return "truncated"
    if failure.check(DNSLookupError, CannotResolveHostError):
        return "dns"
    if failure.check(TxTimeoutError, TCPTimedOutError, TimeoutError, DownloadTimeoutError):
        return "timeout"
    if failure.check(TxConnectionRefusedError, DownloadConnectionRefusedError):
        return "connection_refused"
    if failure.check(DownloadFailedError):
        return "download_failed"
    if failure.check(ResponseFailed):
        return "truncated" if "_DataLoss" in repr(failure.value.reasons) else "response_failed"
    if failure.check(IgnoreRequest):
        text = str(failure.value).lower()
        if "robots.txt" in text:
            return "robots"
        if "redirect" in text:
            return "redirect/loop"  # REDIRECT_MAX_TIMES reached
        if "offsite" in text:
            return "redirect/offsite"  # Scrapy's own offsite filter, behind ours
        if "max size" in text or "download_maxsize" in text or "maxsize" in text:
            return "too_large"
        return "ignored"
    return slug(type(failure.value).__name__)


def article_failure(failure: Failure) -> tuple[str, str]:
    """The ledger bucket and reason of a failed article request."""
    kind = failure_kind(failure)
    if failure.check(HttpError):
        status = failure.value.response.status
        if status in GONE_STATUSES:
            return Bucket.DROPPED, GONE
        if status in BLOCKED_STATUSES:
            return Bucket.FAILED, BLOCKED
    if kind == "robots":
        return Bucket.DROPPED, "robots_forbidden"
    return Bucket.FAILED, kind


def slug(text: str) -> str:
    """``Some Reason/Here`` -> ``some_reason_here``: a stat name part."""
    return "_".join(text.lower().replace("/", " ").split())
