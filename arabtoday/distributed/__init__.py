"""Distributed mode: several processes, one crawl, through one Redis (scrapy-redis).

One setting (``ARABTODAY_REDIS_URL``) and the add-on (:mod:`.addon`) does the rest.

Several ``scrapy crawl arabtoday`` processes, on one machine or many, share
one crawl through one Redis: scrapy-redis' request filter and a shared queue
(each page fetched once by whichever worker takes it), the Redis state store
(each article emitted once, copies found across workers), and the run
bookkeeping below. The add-on is listed in ``ADDONS`` and does nothing unless
the URL is set; with it, it switches the scheduler and filter, gives each
worker its own output file, and adds :class:`DistributedRun`.

What the bookkeeping promises:

- a worker stays while the crawl has work anywhere: requests queued, or in
  flight on any worker (downloading, retrying, in the item pipelines), however
  long a slow page takes;
- a worker that dies loses nothing for good: the requests it had taken from
  the shared queue are registered under its name and put back in the queue
  once its ``alive`` key expires, and its article claims pass to whoever
  reaches those articles (:meth:`arabtoday.state.redis.RedisStore.claim_run`);
  what no live worker takes back is not in the state as emitted, so the next
  run fetches it;
- a lost Redis stops a worker within ``ARABTODAY_REDIS_TIMEOUT`` (plus one call
  and the close) with an ERROR line and exit status 4, never a hang: every
  client has that socket timeout and no hidden retries.

Modules: :mod:`.addon` (the settings), :mod:`.scheduler` (the shared queue),
:mod:`.workers` (the run's bookkeeping), :mod:`.engine` (the two engine
internals it needs). May import every other part of the package; nothing
imports it but the settings (``ADDONS``).

Keys (``ARABTODAY_REDIS_PREFIX``, default ``arabtoday``), besides the state's
(:mod:`arabtoday.state.redis`): ``{p}:requests`` (the shared queue, a sorted set
as scrapy-redis' priority queue) and ``{p}:dupefilter``; ``{p}:activity`` (when
any worker last had work); ``{p}:busy:<worker>`` (requests a worker has in
flight) and ``{p}:taken:<worker>`` (the requests it popped and has not
finished, to put back if it dies); ``{p}:alive:<worker>``. The busy and alive
keys expire unless the worker's heartbeat refreshes them, so a dead worker
neither keeps the others up forever nor keeps its requests.
"""
