"""arabtoday: the Arab Today news site as a clean, deduplicated dataset of articles (a Scrapy project).

Where each job happens (``docs/ARCHITECTURE.md`` follows one page through them):

=====================  ===================================================================
Scrapy's entry points  ``settings.py``, ``spiders/`` (what to request), ``middlewares.py``
                       (scope, retries, truncation, block pages; the incremental skip and
                       the frontier), ``pipelines.py`` (clean, check, dedup, skip), ``items.py``,
                       ``commands/`` (``scrapy crawl`` with exit statuses)
declared once          ``config.py`` (settings), ``params.py`` (spider arguments), ``schema.py``
                       (the record), ``items.py``, ``signals.py``, ``stats.py``, ``meta.py``
                       (request meta keys), ``exitstatus.py``, ``files.py`` (the atomic
                       write), ``version.py``
``site/``              what an address of the site is; the rule for "inside the site"
``discovery/``         sitemaps, feeds, listings read as streams; the bounded frontier
``extraction/``        page in, raw record out: layouts, metadata, the fallback cascade
``cleaning/``          raw record -> clean record: boilerplate, dateline, dates, text
``dedup/``             fingerprints of republished copies; original-before-copy ordering
``state/``             what earlier runs did (SQLite, Redis): opened, locked, recovered
``run/``               the ledger of outcomes, failures, block watch, report, progress
``export/``            feed exporters, the dataset export (Parquet, datasets), merge
``distributed/``       several machines, one crawl (scrapy-redis add-on)
``offline/``           saved pages and WARC files through the same pipelines (``extract``)
``cli.py``             the ``arabtoday`` helper command: argument parsing only
=====================  ===================================================================

Every subpackage's docstring says what it may import; ``tests/unit/test_layout.py``
holds the package to it and to having no import cycle.
"""
