"""Distributed mode: several processes, on one machine or many, one crawl, through one Redis.

One setting (``ARABTODAY_REDIS_URL``) and the add-on does the rest: scrapy-redis'
request filter and a shared queue (each page fetched once by whichever worker
takes it), the Redis state store (each article emitted once, copies found
across workers), and the run's bookkeeping across workers.

``addon`` (the settings; inert without the URL), ``scheduler`` (the shared
queue, made safe for shared runs), ``workers`` (who is alive, who has work,
what a dead worker leaves), ``engine`` (the two engine internals the
bookkeeping needs, in one place). Redis keys: ``docs/operations.md``.

May import: every other package, and the declared-once modules (nothing imports it but ``ADDONS``).
"""
