"""Stopping a run early, one way for every cause.

``max_articles`` reached, the site blocking the crawler, an output that
cannot be written, a lost Redis: each stops the run through :func:`stop_run`,
which first tells the parts that wait (``RUN_STOPPING``: the frontier's paused
sources, the ordering hold's waiting items) so that the engine's close does
not wait on them, then asks Scrapy's engine to close the spider with that reason
(the reason becomes ``unfinished/<reason>`` for what was still queued or in flight).
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.utils.defer import deferred_from_coro

from arabtoday.signals import RUN_STOPPING

logger = logging.getLogger(__name__)


def stop_run(crawler: Any, reason: str) -> bool:
    """Close the spider with ``reason``; False when no spider is open (nothing to stop)."""
    engine = running_engine(crawler)
    if engine is None or engine.spider is None:
        return False
    crawler.signals.send_catch_log(signal=RUN_STOPPING, reason=reason)
    deferred_from_coro(engine.close_spider_async(reason=reason))
    return True


def running_engine(crawler: Any) -> Any:
    """The crawler's engine, or None before the crawl has started (Scrapy raises then)."""
    try:
        return crawler.engine
    except RuntimeError:
        return None
