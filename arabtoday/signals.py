"""The project's own signals: how the parts tell each other what happened.

The spider, the middlewares, the pipelines and the exporters never call each
other; they send these (``crawler.signals.send_catch_log``) and the extensions
that own the run's shared parts listen (:mod:`arabtoday.run.ledger`,
:mod:`arabtoday.state.extension`, :mod:`arabtoday.dedup.ordering`,
:mod:`arabtoday.discovery.frontier`). An article's account opens on Scrapy's
own ``request_scheduled``. Imports nothing: every layer may import it.
"""

from __future__ import annotations

# An article page ended without an item: ``article_id``, ``url``, ``bucket``
# (``failed``, ``dropped``, ``duplicate``, ``skipped``), ``reason``. Items close their account through
# Scrapy's item_scraped / item_dropped / item_error signals instead.
ARTICLE_OUTCOME = object()

# Sent by the ledger once an article's account is closed: ``article_id``, ``bucket``, ``reason``.
# The ordering hold wakes the items waiting for it; the state forgets failures on success.
ARTICLE_DECIDED = object()

# The sitemap named a lastmod for an article already requested in this run (found first on a
# listing): ``article_id``, ``lastmod``. The state keeps it as the baseline for the next run.
LASTMOD_SEEN = object()

# Sent by a feed exporter after its records are durable: ``records``, ``path`` and ``offset``
# (``None`` for outputs without a journal: stdout, pipes, whole-document formats).
RECORDS_DURABLE = object()

# Sent by a feed exporter when it opens a file: ``path``, ``offset`` where this run's records start.
OUTPUT_OPENED = object()

# The run is stopping early (``max_articles``, blocked, an output or Redis lost): ``reason``. Sent by
# :func:`arabtoday.run.stopping.stop_run` before the engine closes, so that the parts that wait for
# room or for other articles (the frontier, the ordering hold) let go at once.
RUN_STOPPING = object()

# Sent by the feed exporter when it closes: records it was given that no output announced durable
# (an output failed): ``records`` (``{article id: (lang, change)}``), ``reason``. The ledger moves
# them from emitted to ``failed/<reason>``.
RECORDS_LOST = object()

# A source of addresses was read: ``url``, ``complete`` (read to its end: not failed, not cut short
# at a bound). Sent by the spider; the state's history keeps which sources a run read completely, so
# that an article is found gone from the site only by sources that could have listed it.
SOURCE_READ = object()
