"""Downloader middlewares.

``BackoffRetryMiddleware``: Scrapy's retry, with exponential backoff between
attempts (and ``Retry-After`` honoured), so that a struggling server is given
time to recover instead of being hit again at once.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from scrapy import Request
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Response

logger = logging.getLogger(__name__)


class BackoffRetryMiddleware(RetryMiddleware):
    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.base = settings.getfloat("ARABTODAY_RETRY_BACKOFF_BASE")
        self.cap = settings.getfloat("ARABTODAY_RETRY_BACKOFF_MAX")

    def delay(self, request: Request, response: Response | None = None) -> float:
        attempt = int(request.meta.get("retry_times", 1))
        delay = min(self.cap, self.base * 2 ** (attempt - 1))
        if response is not None:
            retry_after = response.headers.get(b"Retry-After")
            if retry_after and retry_after.isdigit():
                delay = min(self.cap, max(delay, float(retry_after)))
        return delay

    async def _wait(self, result: Any, response: Response | None = None) -> Any:
        if isinstance(result, Request):
            delay = self.delay(result, response)
            if delay > 0:
                logger.debug("retrying %s in %.1f s", result.url, delay)
                await asyncio.sleep(delay)
        return result

    async def process_response(self, request: Request, response: Response) -> Any:  # type: ignore[override]
        return await self._wait(super().process_response(request, response), response)

    async def process_exception(self, request: Request, exception: Exception) -> Any:  # type: ignore[override]
        return await self._wait(super().process_exception(request, exception))
