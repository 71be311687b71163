"""The shared queue: scrapy-redis' scheduler, made safe for shared runs.

A pop registers the request as taken by this worker, in one step on the
server (put back in the queue if the worker dies); article accounts move with
their requests (the ledger's ``hand_off``/``take_on``); a Redis error is
reported to the run's bookkeeping instead of escaping into the engine's loop.
"""

from __future__ import annotations

import redis
from scrapy.crawler import Crawler
from scrapy.http import Request
from scrapy.utils.request import request_from_dict
from scrapy_redis.scheduler import Scheduler as RedisScheduler

from arabtoday.distributed.workers import REDIS_LOST, DistributedRun
from arabtoday.exitstatus import ExitStatus, StartError
from arabtoday.meta import ARTICLE_ID
from arabtoday.run.ledger import Ledger
from arabtoday.state.redis import worker_name
from arabtoday.stats import Bucket

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
        scheduler.pop_and_take = scheduler.server.register_script(POP_AND_TAKE)
        return scheduler

    @property
    def run(self) -> DistributedRun:
        return self.crawler.get_extension(DistributedRun)

    def enqueue_request(self, request: Request) -> bool:
        article_id = request.meta.get(ARTICLE_ID)
        try:
            queued = bool(super().enqueue_request(request))
        except redis.RedisError as exc:
            self.run.redis_failed(exc)
            # lost for this run (the state never saw it emitted: the next run fetches it)
            self.crawler.get_extension(Ledger).close(article_id, Bucket.UNFINISHED, REDIS_LOST, request.url)
            return True  # not "dropped": that would count it as a duplicate address
        if queued and article_id:
            self.crawler.get_extension(Ledger).hand_off(article_id)
        return queued

    def next_request(self) -> Request | None:
        try:
            got = self.pop_and_take(keys=[self.queue.key, self.run.key(f"taken:{self.worker}")])
        except redis.RedisError as exc:
            self.run.redis_failed(exc)
            return None
        if not got:
            return None
        data, field = got
        request = request_from_dict(self.queue.serializer.loads(data), spider=self.spider)
        self.run.taken(request, field.decode() if isinstance(field, bytes) else field)
        if self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        article_id = request.meta.get(ARTICLE_ID)
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
