"""Distributed mode: one setting (``ARABTODAY_REDIS_URL``) and this add-on does the rest.

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

Keys (``ARABTODAY_REDIS_PREFIX``, default ``arabtoday``), besides the state's
(:mod:`arabtoday.state.redis`): ``{p}:requests`` (the shared queue, a sorted set
as scrapy-redis' priority queue) and ``{p}:dupefilter``; ``{p}:activity`` (when
any worker last had work); ``{p}:busy:<worker>`` (requests a worker has in
flight) and ``{p}:taken:<worker>`` (the requests it popped and has not
finished, to put back if it dies); ``{p}:alive:<worker>``. The busy and alive
keys expire unless the worker's heartbeat refreshes them, so a dead worker
neither keeps the others up forever nor keeps its requests.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Request
from scrapy.settings import SETTINGS_PRIORITIES
from scrapy.utils.defer import deferred_from_coro
from scrapy_redis.scheduler import Scheduler as RedisScheduler
from twisted.internet import task

from arabtoday.accounting import Ledger
from arabtoday.outcome import ExitStatus, StartError, mark
from arabtoday.params import params_of
from arabtoday.state.extension import StateExtension
from arabtoday.state.redis import ALIVE_KEY, RedisStore, connect, worker_name

logger = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 2.0
BUSY_TTL_FACTOR = 5  # a worker silent for this many heartbeats is gone
SCAN_COUNT = 100  # keys per SCAN step when looking for other workers' keys
REDIS_LOST = "redis_lost"  # the close reason (and unfinished/<reason>) of a worker whose Redis is gone
REQUEUED = "arabtoday/distributed/requests_requeued"
TAKEN_OVER = "arabtoday/distributed/claims_taken_over"
REDIS_ERROR = "arabtoday/errors/redis"
SCHEDULER_PATH = "arabtoday.distributed.SharedScheduler"
ADDON_PRIORITY = SETTINGS_PRIORITIES["addon"]
RUN_ORDER = 160  # after the state (100) and the ledger (110): it reads both

# KEYS: queue, this worker's taken hash. Pops the best request and registers it as taken, in one
# step: a worker killed right after the pop still has it registered, so it can be put back.
POP_AND_TAKE = """
local got = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #got == 0 then return false end
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, 0)
local field = redis.sha1hex(got[1])
redis.call('HSET', KEYS[2], field, got[2] .. '|' .. got[1])
return {got[1], field}
"""
# KEYS: a worker's taken hash, its alive key, queue. Puts its requests back if it is gone.
REQUEUE_IF_GONE = """
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local all = redis.call('HGETALL', KEYS[1])
local n = 0
for i = 2, #all, 2 do
  local v = all[i]
  local sep = string.find(v, '|', 1, true)
  redis.call('ZADD', KEYS[3], tonumber(string.sub(v, 1, sep - 1)), string.sub(v, sep + 1))
  n = n + 1
end
redis.call('DEL', KEYS[1])
return n
"""


class DistributedAddon:
    """Carries every scrapy-redis setting; inert without ``ARABTODAY_REDIS_URL``."""

    def update_settings(self, settings: Any) -> None:
        url = settings.get("ARABTODAY_REDIS_URL")
        if not url:
            return
        prefix = settings.get("ARABTODAY_REDIS_PREFIX")
        timeout = settings.getfloat("ARABTODAY_REDIS_TIMEOUT")
        for name, value in {
            "SCHEDULER": SCHEDULER_PATH,
            "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
            "REDIS_URL": url,
            # scrapy-redis' own client (queue and filter): the same bound as ours, no hidden retries
            "REDIS_PARAMS": {"socket_timeout": timeout, "socket_connect_timeout": timeout,
                             "retry_on_timeout": False, "retry": Retry(NoBackoff(), 0)},
            "SCHEDULER_PERSIST": True,  # a worker that finishes must not wipe the queue of the others
            "SCHEDULER_QUEUE_KEY": f"{prefix}:requests",
            "SCHEDULER_DUPEFILTER_KEY": f"{prefix}:dupefilter",
            "DUPEFILTER_KEY": f"{prefix}:dupefilter",
        }.items():
            settings.set(name, value, priority="addon")
        # The engine pulls requests until CONCURRENT_REQUESTS are in its downloader, even when
        # the per-host limit lets only a few run: a worker would hoard the shared queue.
        # (at the project's priority: the project sets CONCURRENT_REQUESTS, and an add-on's priority is lower)
        per_host = settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
        if settings.getint("CONCURRENT_REQUESTS") > per_host:
            settings.set("CONCURRENT_REQUESTS", per_host, priority="project")
        default_feed = settings.get("ARABTODAY_DEFAULT_FEED") or ""
        feeds = settings.getdict("FEEDS")
        if default_feed in feeds and "%(worker)s" not in default_feed:  # one file per worker
            feeds[default_feed.replace(".jsonl", "-%(worker)s.jsonl")] = feeds.pop(default_feed)
            # at the priority the default was given (the crawl command's): an add-on's would lose to it
            settings.set("FEEDS", feeds, priority=max(settings.getpriority("FEEDS") or 0, ADDON_PRIORITY))
        # a key added to the component dict itself: setting the whole dict at the add-on's priority
        # would lose to the project's EXTENSIONS and silently leave the run without its bookkeeping
        settings["EXTENSIONS"].set("arabtoday.distributed.DistributedRun", RUN_ORDER, priority="addon")


class SharedScheduler(RedisScheduler):
    """scrapy-redis' scheduler, made safe for shared runs: a pop registers the request as taken by
    this worker (put back if the worker dies), article accounts move with their requests, and a
    Redis error is reported to :class:`DistributedRun` (which gives it its grace, then stops the
    worker) instead of escaping into the engine's loop, where it would stop the engine's
    heartbeat and leave the process hanging."""

    crawler: Crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedScheduler:
        try:
            scheduler = super().from_crawler(crawler)
        except redis.RedisError as exc:
            raise StartError(f"Redis unreachable: {exc}", ExitStatus.WRITE_FAILED) from None
        scheduler.crawler = crawler
        scheduler.worker = worker_name()
        scheduler._pop = scheduler.server.register_script(POP_AND_TAKE)
        return scheduler

    @property
    def run(self) -> DistributedRun:
        return self.crawler.get_extension(DistributedRun)

    def enqueue_request(self, request: Request) -> bool:
        article_id = request.meta.get("article_id")
        try:
            queued = bool(super().enqueue_request(request))
        except redis.RedisError as exc:
            self.run.redis_failed(exc)
            # lost for this run (the state never saw it emitted: the next run fetches it)
            self.crawler.get_extension(Ledger).close(article_id, "unfinished", REDIS_LOST, request.url)
            return True  # not "dropped": that would count it as a duplicate address
        if queued and article_id:
            self.crawler.get_extension(Ledger).hand_off(article_id)
        return queued

    def next_request(self) -> Request | None:
        try:
            got = self._pop(keys=[self.queue.key, self.run.key(f"taken:{self.worker}")])
        except redis.RedisError as exc:
            self.run.redis_failed(exc)
            return None
        if not got:
            return None
        data, field = got
        request = self.queue._decode_request(data)
        self.run.taken(request, field.decode() if isinstance(field, bytes) else field)
        if self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        article_id = request.meta.get("article_id")
        if article_id:
            self.crawler.get_extension(Ledger).take_on(article_id, request.url)
        return request

    def __len__(self) -> int:
        try:
            return int(super().__len__())
        except redis.RedisError as exc:
            self.run.redis_failed(exc)
            return 0

    def has_pending_requests(self) -> bool:
        return len(self) > 0


class DistributedRun:
    """The seeder starts a run (empties the shared queue, filter and claims); every worker
    stays while any worker has work, queued or in flight, and closes after
    ``ARABTODAY_REDIS_IDLE_SECONDS`` of calm everywhere."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.prefix = settings.get("ARABTODAY_REDIS_PREFIX")
        self.calm = settings.getfloat("ARABTODAY_REDIS_IDLE_SECONDS")
        self.timeout = settings.getfloat("ARABTODAY_REDIS_TIMEOUT")
        self.r = connect(settings.get("ARABTODAY_REDIS_URL"), self.timeout)
        self.worker = worker_name()
        self.ttl = int(HEARTBEAT_SECONDS * BUSY_TTL_FACTOR)
        self._requeue = self.r.register_script(REQUEUE_IF_GONE)
        self._taken: dict[Request, str] = {}  # requests popped by this worker -> their field in taken:<worker>
        self._idle_since: float | None = None
        self._failing_since: float | None = None  # when Redis last started failing (monotonic)
        self._stopping = False
        self._beat: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DistributedRun:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(ext.response_received, signal=signals.response_received)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def key(self, name: str) -> str:
        return f"{self.prefix}:{name}"

    # -- the run's start and the heartbeat ---------------------------------------------------------------------------

    def spider_opened(self, spider: Any) -> None:
        store = self.crawler.get_extension(StateExtension).store
        if isinstance(store, RedisStore):  # opened before this extension, maybe without the bound
            store.use_timeout(self.timeout)
        if params_of(self.crawler).role == "seed":
            self.reset_run()
        self.touch()
        self._beat = task.LoopingCall(self.heartbeat)
        self._beat.start(HEARTBEAT_SECONDS, now=True)

    def reset_run(self) -> None:
        """The seeder starts a new run: empty the shared queue, request filter, claims and the
        taken requests of the previous run's workers (what they never finished is not in the state
        as emitted, so this run fetches it again)."""
        stale = list(self.r.scan_iter(match=self.key("taken:*"), count=SCAN_COUNT))
        self.r.delete(self.key("requests"), self.key("dupefilter"), self.key("run"), *stale)

    def touch(self) -> None:
        self.r.set(self.key("activity"), time.time())

    def seconds_since_activity(self) -> float:
        value = self.r.get(self.key("activity"))
        return time.time() - float(value) if value else float("inf")

    def queue_length(self) -> int:
        return int(self.r.zcard(self.key("requests")))

    def in_flight(self) -> int:
        """Requests this worker holds: downloading, waiting for a retry, or in the scraper and item
        pipelines (the engine keeps a request in progress until its items are processed); plus
        one while the frontier holds discovered requests not yet queued."""
        engine = self.crawler.engine
        slot = getattr(engine, "_slot", None)  # the engine has no public view of its requests in progress
        if engine is None or slot is None:
            return 0
        return len(slot.inprogress) + int(self._frontier_pending())

    def _frontier_pending(self) -> bool:
        from arabtoday.frontier import Frontier

        return bool(self.crawler.get_extension(Frontier).pending)

    def heartbeat(self) -> None:
        """Say this worker lives and how busy it is; give back what it finished; put back the
        requests of workers that are gone. Never raises: a failing Redis is judged by
        :meth:`redis_failed`, and an exception here would silently stop the loop."""
        if self._stopping:
            return
        try:
            self._beat_once()
        except redis.RedisError as exc:
            self.redis_failed(exc)
            return
        self._redis_ok()

    def _beat_once(self) -> None:
        busy = self.in_flight()
        pipe = self.r.pipeline(transaction=False)
        pipe.set(self.key(ALIVE_KEY.format(worker=self.worker)), busy, ex=self.ttl)
        if busy:
            pipe.set(self.key(f"busy:{self.worker}"), busy, ex=self.ttl)
            pipe.set(self.key("activity"), time.time())
        else:
            pipe.delete(self.key(f"busy:{self.worker}"))
        done = self._finished_fields()
        if done:
            pipe.hdel(self.key(f"taken:{self.worker}"), *done)
        pipe.execute()
        if self.requeue_lost() or self.queue_length():
            self._wake_engine()

    def _wake_engine(self) -> None:
        """An idle engine looks at its scheduler only every 5 s (Scrapy's slot heartbeat): with work
        in the shared queue, look now, so that a worker joining a run takes its share at once."""
        slot = getattr(self.crawler.engine, "_slot", None)
        if slot is not None and slot.closing is None:
            slot.nextcall.schedule()

    def taken(self, request: Request, field: str) -> None:
        """The scheduler popped ``request`` for this worker (registered as ``field``)."""
        self._taken[request] = field

    def _finished_fields(self) -> list[str]:
        """Requests popped by this worker that the engine no longer holds: done (or handed on, as a
        retry, to the shared queue)."""
        slot = getattr(self.crawler.engine, "_slot", None)
        active = slot.inprogress if slot is not None else set()
        done = [request for request in self._taken if request not in active]
        return [self._taken.pop(request) for request in done]

    def requeue_lost(self) -> int:
        """Put back in the shared queue the requests of workers whose ``alive`` key expired."""
        mine = self.key(f"taken:{self.worker}")
        moved = 0
        for raw in self.r.scan_iter(match=self.key("taken:*"), count=SCAN_COUNT):
            taken = raw.decode()
            if taken == mine:
                continue
            other = taken[len(self.key("taken:")):]
            n = int(self._requeue(keys=[taken, self.key(ALIVE_KEY.format(worker=other)), self.key("requests")]))
            if n:
                logger.warning("worker %s is gone: %d request(s) it had taken are back in the shared queue",
                               other, n)
                self.crawler.stats.inc_value(REQUEUED, n)
                moved += n
        return moved

    # -- when to close ---------------------------------------------------------------------------------------------

    def response_received(self) -> None:
        self._idle_since = None

    def others_busy(self) -> bool:
        """Another worker has requests in flight, or has taken requests it has not finished (alive,
        or dead and not yet put back)."""
        mine = {self.key(f"busy:{self.worker}").encode(), self.key(f"taken:{self.worker}").encode()}
        for pattern in ("busy:*", "taken:*"):
            if any(k not in mine for k in self.r.scan_iter(match=self.key(pattern), count=SCAN_COUNT)):
                return True
        return False

    def spider_idle(self) -> None:
        if self._stopping:
            return  # closing already, for the reason given then
        try:
            self._keep_open_while_work()
        except redis.RedisError as exc:
            self.redis_failed(exc)
            raise DontCloseSpider("Redis unreachable: waiting for it (ARABTODAY_REDIS_TIMEOUT)") from None

    def _keep_open_while_work(self) -> None:
        if self.requeue_lost() or self.queue_length() > 0:
            self._idle_since = None
            raise DontCloseSpider("the shared queue has requests")
        if self.others_busy():
            self._idle_since = None
            raise DontCloseSpider("another worker has requests in flight")
        now = time.monotonic()
        self._idle_since = self._idle_since or now
        if now - self._idle_since < self.calm or self.seconds_since_activity() < self.calm:
            raise DontCloseSpider("other workers may still add requests")

    # -- a lost Redis ------------------------------------------------------------------------------------------------

    def redis_failed(self, exc: BaseException) -> None:
        """A Redis call failed. The first failure starts the clock; once Redis has been failing
        for ``ARABTODAY_REDIS_TIMEOUT`` the worker stops (exit status 4)."""
        now = time.monotonic()
        if self._failing_since is None:
            self._failing_since = now
            self.crawler.stats.inc_value(REDIS_ERROR)
            logger.warning("Redis call failed (%s: %s); stopping unless it answers within %.0f s",
                           type(exc).__name__, exc, self.timeout)
        if now - self._failing_since >= self.timeout and not self._stopping:
            self._stop_lost(exc)

    def _redis_ok(self) -> None:
        if self._failing_since is not None:
            logger.warning("Redis answers again")
        self._failing_since = None

    def _stop_lost(self, exc: BaseException) -> None:
        self._stopping = True
        mark(self.crawler.stats, ExitStatus.WRITE_FAILED)
        logger.error("Redis lost for %.0f s (%s: %s): stopping this worker; what it had not finished is "
                     "fetched by the next run", self.timeout, type(exc).__name__, exc)
        engine = self.crawler.engine
        if engine is not None and engine.spider is not None:
            deferred_from_coro(engine.close_spider_async(reason=REDIS_LOST))

    def spider_closed(self) -> None:
        if self._beat is not None and self._beat.running:
            self._beat.stop()
        store = self.crawler.get_extension(StateExtension).store
        if isinstance(store, RedisStore) and store.taken_over:
            self.crawler.stats.set_value(TAKEN_OVER, store.taken_over)
        try:
            pipe = self.r.pipeline(transaction=False)
            pipe.delete(self.key(f"busy:{self.worker}"), self.key(f"alive:{self.worker}"))
            done = self._finished_fields()
            if done:
                pipe.hdel(self.key(f"taken:{self.worker}"), *done)
            pipe.execute()
        except redis.RedisError as exc:
            logger.warning("could not clear this worker's keys in Redis (%s); they expire in %d s", exc, self.ttl)
        finally:
            self.r.close()
