"""The two things the workers' bookkeeping needs from Scrapy's engine that Scrapy has no public API for.

Kept here alone, each with why, and held to the pinned Scrapy by
``tests/unit/test_distributed_engine.py``: an upgrade that renames them fails
that test at once, not a distributed crawl an hour in.

- Which requests the engine still holds (downloading, waiting for a retry, or
  whose response is still in the callbacks and item pipelines): a worker must
  not tell the others it is idle while its last page is in the pipelines, and
  a request it took from the shared queue is finished only when the engine lets
  it go. Scrapy's signals say when a download ends, not when its items are done.
- Waking an idle engine: it looks at its scheduler every 5 s (its heartbeat);
  a worker that sees work in the shared queue asks it to look now.
"""

from __future__ import annotations

from typing import Any

from scrapy import Request


def requests_in_progress(engine: Any) -> set[Request]:
    """The requests the engine holds until their responses are fully processed (empty when closed)."""
    slot = getattr(engine, "_slot", None)  # private: Scrapy's ExecutionEngine._slot (a _Slot)
    return set(slot.inprogress) if slot is not None else set()


def wake(engine: Any) -> None:
    """Ask the engine to look at its scheduler now, as ``engine.crawl()`` does after queueing."""
    slot = getattr(engine, "_slot", None)  # private, as above
    if slot is not None and slot.closing is None:
        slot.nextcall.schedule()
