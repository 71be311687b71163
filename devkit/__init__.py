"""The project's development tools: not part of the product, not in the wheel (run from a clone).

``server`` (the dev HTTP server: a copy of the site on loopback, and on demand
a faulty or hostile one), ``site`` (the bundled snapshot, its answer key and
private copies a test may alter), ``sitegen`` (large generated copies of the
site), ``archives`` (loopback Wayback and Common Crawl servers built from the
snapshot, for backfill tests), ``launch`` (the one way code starts a crawl: a
``scrapy crawl`` command line or Scrapy's ``CrawlerRunner`` in process), ``probes`` (extensions
a test adds to a real crawl to make a moment happen on cue).
``python -m devkit serve|demo|generate`` is the command line (``make serve``,
``make demo``).

May import: the ``arabtoday`` package (never the other way round: the product
does not know this package exists), the tests' and benchmarks' libraries.
"""
