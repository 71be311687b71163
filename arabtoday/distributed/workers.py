"""The run's bookkeeping across workers: who is alive, who has work, what a dead worker leaves.

What it promises:

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
"""

from __future__ import annotations

import logging
import time
from typing import Any

import redis
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Request
from twisted.internet import task

from arabtoday.discovery.frontier import Frontier
from arabtoday.distributed.engine import requests_in_progress, wake
from arabtoday.exitstatus import ExitStatus, mark
from arabtoday.params import params_of
from arabtoday.run.stopping import running_engine, stop_run
from arabtoday.state.extension import StateExtension
from arabtoday.state.redis import ALIVE_KEY, RedisStore, connect, worker_name
from arabtoday.stats import Stat

logger = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 2.0
BUSY_TTL_FACTOR = 5  # a worker silent for this many heartbeats is gone
SCAN_COUNT = 100  # keys per SCAN step when looking for other workers' keys
REDIS_LOST = "redis_lost"  # the close reason (and unfinished/<reason>) of a worker whose Redis is gone

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
        engine = running_engine(self.crawler)
        if engine is None:
            return 0
        frontier = self.crawler.get_extension(Frontier)
        return len(requests_in_progress(engine)) + int(frontier is not None and frontier.pending)

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
        engine = running_engine(self.crawler)
        if engine is not None:
            wake(engine)

    def taken(self, request: Request, field: str) -> None:
        """The scheduler popped ``request`` for this worker (registered as ``field``)."""
        self._taken[request] = field

    def _finished_fields(self) -> list[str]:
        """Requests popped by this worker that the engine no longer holds: done (or handed on, as a
        retry, to the shared queue)."""
        engine = running_engine(self.crawler)
        active = requests_in_progress(engine) if engine is not None else set()
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
                self.crawler.stats.inc_value(Stat.REQUEUED, n)
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
            self.crawler.stats.inc_value(Stat.REDIS_ERROR)
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
        stop_run(self.crawler, REDIS_LOST)

    def spider_closed(self) -> None:
        if self._beat is not None and self._beat.running:
            self._beat.stop()
        store = self.crawler.get_extension(StateExtension).store
        if isinstance(store, RedisStore) and store.taken_over:
            self.crawler.stats.set_value(Stat.TAKEN_OVER, store.taken_over)
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
