"""Why a request failed, as a short name the stats and the ledger can count.

The spider's errbacks only report; this decides the name (``http_503``,
``timeout``, ``truncated``, ``redirect/offsite`` …) and, for an article, the
ledger's bucket: a page that is gone or forbidden by robots.txt is dropped
with that reason, anything else failed (and retried by the next run). A new
kind of failure is named here.
"""

from __future__ import annotations

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
from twisted.web._newclient import ResponseFailed

from arabtoday.middlewares import OutOfScope, Truncated

GONE = (404, 410)
BLOCKED = (403, 429)


def failure_kind(failure: Failure) -> str:
    """A short, countable name for why a request failed."""
    if failure.check(HttpError):
        return f"http_{failure.value.response.status}"
    if failure.check(OutOfScope):
        return f"redirect/{failure.value.why}"
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
        if status in GONE:
            return "dropped", "gone"
        if status in BLOCKED:
            return "failed", "blocked"
    if kind == "robots":
        return "dropped", "robots_forbidden"
    return "failed", kind


def slug(text: str) -> str:
    """``Some Reason/Here`` -> ``some_reason_here``: a stat name part."""
    return "_".join(text.lower().replace("/", " ").split())
