"""The shared state for distributed crawls: one Redis for every worker.

Same operations as the SQLite store, each atomic on the server: claiming an
article id for this run (a lease, :data:`CLAIM_RUN`), and the duplicate
check-and-insert (a Lua script: exact hash, LSH bands, signature comparison
and insert happen as one step, so two workers holding two copies of one story
can never both pass).

Redis is the system of record here, so the store refuses to start on a server
that may evict our keys (see :func:`check_eviction_policy`: an evicted
``{p}:articles`` entry is an article emitted again, an evicted index entry a
duplicate let through, both silent). Every call has a socket timeout
(``ARABTODAY_REDIS_TIMEOUT``) and no hidden retries, so that a lost server is
an error within a known time, never a hang.

Keys (``ARABTODAY_REDIS_PREFIX``, default ``arabtoday``):

=============================  ==================================================
``{p}:articles``               hash: id -> ``status|content_hash|lastmod|checked|extractor|revision|url``
``{p}:revisions:<id>``         hash: revision -> ``content_hash|crawled_at``
``{p}:exact``                  hash: ``lang:content_hash`` -> id (an original)
``{p}:bands``                  hash: LSH band key -> an original with that band
``{p}:sig``                    hash: id -> MinHash signature (bytes) of an original
``{p}:published``              hash: id -> publication time (which of two copies is the original)
``{p}:original``               hash: a copy's id -> its original's
``{p}:copies:<id>``            set: the copies of an original
``{p}:outputs``                hash: ``host:path`` -> committed byte offset and writer pid
``{p}:params``                 the fingerprint parameters the index was built with
``{p}:run``                    hash: id -> worker holding its claim in the current run (reset by the seeder)
``{p}:alive:<worker>``         exists while the worker lives (expires unless its heartbeat refreshes it)
=============================  ==================================================

The run's bookkeeping keys (shared queue, request filter, busy and in-flight
keys) belong to :mod:`arabtoday.distributed.addon`.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import datetime, timezone

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from arabtoday.cleaning.dates import iso
from arabtoday.dedup.fingerprints import Fingerprint, Fingerprinter
from arabtoday.exitstatus import ExitStatus, StartError
from arabtoday.schema import LIVE, SUPERSEDED
from arabtoday.state.store import Emitted, Match, Seen, StateStore, Status

logger = logging.getLogger(__name__)
DEFAULT_TIMEOUT = 30.0  # ARABTODAY_REDIS_TIMEOUT's default, for callers that pass none
# The one policy under which Redis never evicts our keys. The volatile-* ones spare the state (no TTL)
# but may evict a live worker's ``alive`` key (it has one): the others would take its claims over and
# emit its articles a second time.
SAFE_EVICTION_POLICY = "noeviction"
ALIVE_KEY = "alive:{worker}"
SEP = "|"  # between the fields of an {p}:articles value

# KEYS: exact, bands, sig, published, original (copy -> original)
# ARGV: id, exact_field, signature, threshold, nbands, published_at, copies-key prefix, band1..bandN
# Finds the original an article's text matches (through any chain of copies) and decides, on the
# server, which of the two is the original: published first, the lower id breaking ties.
# Returns false (no match: the article is indexed as an original) or {kind, relation, other}.
CLAIM_INDEX = """
local id, exact_field, sig = ARGV[1], ARGV[2], ARGV[3]
local threshold, nbands, published, copies = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6], ARGV[7]
local url = ARGV[8 + nbands]
local function root(x)
  local seen = {}
  for _ = 1, 64 do
    local o = redis.call('HGET', KEYS[5], x)
    if not o or seen[o] then return x end
    seen[x] = true
    x = o
  end
  return x
end
local match, kind = nil, nil
local owner = redis.call('HGET', KEYS[1], exact_field)
if owner then
  local r = root(owner)
  if r ~= id then match, kind = r, 'exact' end
end
if not match then
  local best, best_score, seen = nil, -1, {}
  for i = 1, nbands do
    local other = redis.call('HGET', KEYS[2], ARGV[7 + i])
    if other and not seen[other] then
      seen[other] = true
      local r = root(other)
      local osig = redis.call('HGET', KEYS[3], other)
      if r ~= id and osig and #osig == #sig then
        local same, n = 0, #sig / 4
        for j = 0, n - 1 do
          if string.sub(sig, j * 4 + 1, j * 4 + 4) == string.sub(osig, j * 4 + 1, j * 4 + 4) then same = same + 1 end
        end
        local score = same / n
        if score >= threshold and score > best_score then best, best_score = r, score end
      end
    end
  end
  if best then match, kind = best, 'near' end
end
local function index(replace)
  redis.call('HSET', KEYS[1], exact_field, id)
  for i = 1, nbands do
    if replace then redis.call('HSET', KEYS[2], ARGV[7 + i], id) else redis.call('HSETNX', KEYS[2], ARGV[7 + i], id) end
  end
  redis.call('HSET', KEYS[3], id, sig)
  redis.call('HSET', KEYS[4], id, published)
  if url ~= '' then redis.call('HSET', KEYS[6], id, url) end
end
local function make_copy(copy, original)
  redis.call('HSET', KEYS[5], copy, original)
  redis.call('HDEL', KEYS[5], original)
  redis.call('SADD', copies .. original, copy)
  for _, c in ipairs(redis.call('SMEMBERS', copies .. copy)) do
    redis.call('HSET', KEYS[5], c, original)
    redis.call('SADD', copies .. original, c)
  end
  redis.call('DEL', copies .. copy)
  redis.call('SREM', copies .. original, original)
end
if not match then
  index(false)
  return false
end
local other_published = redis.call('HGET', KEYS[4], match) or ''
local function key(stamp, x)
  if stamp == '' then stamp = '9999' end
  return stamp, tonumber(string.match(x, '(%d+)$') or '0')
end
local a_time, a_num = key(published, id)
local b_time, b_num = key(other_published, match)
if a_time < b_time or (a_time == b_time and a_num < b_num) then
  make_copy(match, id)
  index(true)
  return {kind, 'original_of', match, redis.call('HGET', KEYS[6], match) or ''}
end
make_copy(id, match)
return {kind, 'copy_of', match, ''}
"""


def _pack(seen: Seen) -> str:
    return SEP.join((str(int(seen.status)), seen.content_hash or "", seen.lastmod or "", seen.checked or "",
                     seen.extractor_version or "", str(seen.revision), seen.url or ""))


def _unpack(value: str, original: str | None = None) -> Seen:
    status, content_hash, lastmod, checked, extractor, revision, url = [*value.split(SEP), "", "", "", "", "", ""][:7]
    return Seen(Status(int(status)), content_hash or None, lastmod or None, checked or None, extractor or None,
                int(revision or 0), url or None, original)


# KEYS: run hash, alive-key prefix   ARGV: id, this worker.
# 1: claimed now; 2: taken over from a worker that is gone; 0: held by a live worker, by us already,
# or settled (emitted and committed: the claim is final, whoever holds it now).
CLAIM_RUN = """
local DONE = '!'
local owner = redis.call('HGET', KEYS[1], ARGV[1])
if not owner then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  return 1
end
if owner == ARGV[2] or string.sub(owner, 1, 1) == DONE then return 0 end
if redis.call('EXISTS', KEYS[2] .. owner) == 1 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 2
"""
CLAIMED, TAKEN_OVER = 1, 2
# KEYS: run hash   ARGV: this worker, ids. Claims of ours whose records are committed become final:
# no one takes them over once we are gone. Only our own: records recovered from an older run's file
# must not settle claims of this run.
SETTLE_CLAIMS = """
for i = 2, #ARGV do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[1] then redis.call('HSET', KEYS[1], ARGV[i], '!' .. ARGV[1]) end
end
"""


def worker_name() -> str:
    """This process's name among the workers (the spider's ``%(worker)s`` is the same)."""
    return f"{socket.gethostname()}-{os.getpid()}"


def connect(url: str, timeout: float) -> redis.Redis:
    """A client whose every call gives up after ``timeout`` seconds, without silent retries:
    the caller decides what a failure means (the run's heartbeat gives a lost server its grace)."""
    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                retry=Retry(NoBackoff(), 0))


def check_eviction_policy(client: redis.Redis, where: str) -> None:
    """Refuse a server that may evict our keys (anything but ``noeviction``); a server that hides
    ``CONFIG`` (managed Redis) gets a warning, since only its operator can tell."""
    try:
        policy = client.config_get("maxmemory-policy").get("maxmemory-policy")
    except redis.ResponseError as exc:
        logger.warning("cannot read maxmemory-policy of %s (%s): make sure it is noeviction: "
                       "an evicted key means articles emitted twice", where, exc)
        return
    if isinstance(policy, bytes):
        policy = policy.decode()
    if policy != SAFE_EVICTION_POLICY:
        raise StartError(f"Redis at {where} has maxmemory-policy {policy}: it may evict the crawl's state "
                         "(articles emitted twice, duplicates let through); set it to noeviction "
                         "(redis-cli CONFIG SET maxmemory-policy noeviction, and in redis.conf)",
                         ExitStatus.STATE_UNUSABLE)


class RedisStore(StateStore):
    """The state in Redis; ``timeout`` is ``ARABTODAY_REDIS_TIMEOUT`` (seconds per call)."""

    def __init__(self, url: str, fingerprinter: Fingerprinter, prefix: str | None = None,
                 timeout: float | None = None) -> None:
        self.fingerprinter = fingerprinter
        self.prefix = prefix or "arabtoday"
        self.worker = worker_name()
        self.taken_over = 0  # claims of dead workers taken over by this one (read by the run's bookkeeping)
        self._url = url
        self.r = connect(url, timeout or DEFAULT_TIMEOUT)
        where = _where(url)
        try:
            self.r.ping()
        except redis.RedisError as exc:
            raise StartError(f"Redis at {where} is unreachable: {exc}", ExitStatus.WRITE_FAILED) from None
        check_eviction_policy(self.r, where)
        self.host = socket.gethostname()
        self._register_scripts()
        self._check_params()

    def key(self, name: str) -> str:
        return f"{self.prefix}:{name}"

    def use_timeout(self, seconds: float) -> None:
        """Bound every later call by ``seconds`` (``ARABTODAY_REDIS_TIMEOUT``), for a store opened
        without it: a new client replaces the old one."""
        old, self.r = self.r, connect(self._url, seconds)
        old.close()
        self._register_scripts()

    def _register_scripts(self) -> None:
        self._claim = self.r.register_script(CLAIM_INDEX)
        self._claim_run = self.r.register_script(CLAIM_RUN)
        self._settle = self.r.register_script(SETTLE_CLAIMS)

    def _check_params(self) -> None:
        from arabtoday.state.sqlite import FINGERPRINT_VERSION
        from arabtoday.state.store import StateMismatch

        want = f"v{FINGERPRINT_VERSION} perm={self.fingerprinter.num_perm} bands={self.fingerprinter.bands}" \
               f"x{self.fingerprinter.rows}".encode()
        self.r.setnx(self.key("params"), want)
        have = self.r.get(self.key("params"))
        if have != want:
            raise StateMismatch(f"Redis state {self.prefix!r} was built with {have!r}, these settings need {want!r}")

    def get(self, article_id: str) -> Seen | None:
        value, original = self.r.pipeline(transaction=False).hget(self.key("articles"), article_id).hget(
            self.key("original"), article_id).execute()
        return _unpack(value.decode(), original.decode() if original else None) if value else None

    def mark(self, article_id: str, status: Status, content_hash: str | None = None,
             lastmod: str | None = None, extractor_version: str | None = None) -> None:
        old = self.get(article_id)
        if old is not None and status is Status.FAILED and old.status in (Status.EMITTED, Status.REMOVED):
            return  # a failed refetch never demotes an article that is in the dataset
        content_hash = content_hash or (old.content_hash if old else None)
        lastmod = lastmod or (old.lastmod if old else None)
        extractor_version = extractor_version or (old.extractor_version if old else None)
        self.r.hset(self.key("articles"), article_id, _pack(Seen(
            status, content_hash, lastmod, _now(), extractor_version, old.revision if old else 0,
            old.url if old else None)))

    def commit_emitted(self, records: list[Emitted], path: str | None, offset: int | None) -> None:
        olds = {rec.id: self.get(rec.id) for rec in records if rec.status != LIVE or rec.archived}
        pipe = self.r.pipeline(transaction=True)
        for rec in records:
            if rec.status == LIVE:
                old = olds.get(rec.id)
                status = Status.DUPLICATE if rec.duplicate_of else Status.EMITTED
                url, lastmod = rec.url, rec.lastmod
                if rec.archived and old is not None and old.status is Status.REMOVED:  # an archived capture
                    status, url, lastmod = Status.REMOVED, old.url or rec.url, rec.lastmod or old.lastmod
                pipe.hset(self.key("articles"), rec.id, _pack(Seen(
                    status, rec.content_hash, lastmod, rec.crawled_at or _now(), rec.extractor_version,
                    rec.revision, url)))
                if rec.content_hash:
                    pipe.hset(self.key(f"revisions:{rec.id}"), str(rec.revision),
                              f"{rec.content_hash}{SEP}{rec.crawled_at or ''}")
                if rec.published_at:
                    pipe.hsetnx(self.key("published"), rec.id, rec.published_at)
                continue
            old = olds.get(rec.id)
            status = Status.DUPLICATE if rec.status == SUPERSEDED else Status.REMOVED
            pipe.hset(self.key("articles"), rec.id, _pack(Seen(
                status, old.content_hash if old else None, rec.lastmod or (old.lastmod if old else None), _now(),
                old.extractor_version if old else None, old.revision if old else 0,
                (old.url if old else None) or rec.url)))
        if path is not None and offset is not None:
            pipe.hset(self.key("outputs"), f"{self.host}:{path}", f"{offset}|{os.getpid()}")
        if records:
            self._settle(keys=[self.key("run")], args=[self.worker, *(rec.id for rec in records)], client=pipe)
        pipe.execute()

    def claim_index(self, article_id: str, fp: Fingerprint, published_at: str | None = None,
                    url: str | None = None) -> Match | None:
        args = [article_id, f"{fp.lang}:{fp.content_hash}", fp.signature, self.fingerprinter.threshold,
                len(fp.bands), published_at or "", self.key("copies:"), *fp.bands, url or ""]
        result = self._claim(keys=[self.key("exact"), self.key("bands"), self.key("sig"), self.key("published"),
                                   self.key("original"), self.key("urls")], args=args)
        if not result:
            return None
        kind, relation, other, other_url = (part.decode() for part in result)
        return Match(kind, relation, other, other_url or None)

    def copies_of(self, article_id: str) -> list[str]:
        return sorted(member.decode() for member in self.r.smembers(self.key(f"copies:{article_id}")))

    def claim_run(self, article_id: str) -> bool:
        """A lease, not a mark: the claim of a worker that is gone (its ``alive`` key expired)
        passes to the worker that reaches the article again, so a killed worker's articles are
        not lost for the run; a live worker's claim holds."""
        result = int(self._claim_run(keys=[self.key("run"), self.key(ALIVE_KEY.format(worker=""))],
                                     args=[article_id, self.worker]))
        if result == TAKEN_OVER:
            self.taken_over += 1
            logger.warning("%s: claim of a worker that is gone taken over", article_id)
        return result in (CLAIMED, TAKEN_OVER)

    def register_output(self, path: str, offset: int) -> None:
        self.r.hset(self.key("outputs"), f"{self.host}:{path}", f"{offset}|{os.getpid()}")

    def outputs(self) -> list[tuple[str, int, int]]:
        mine = f"{self.host}:".encode()
        found = []
        for key, value in self.r.hgetall(self.key("outputs")).items():
            if key.startswith(mine):
                offset, _, pid = value.decode().partition("|")
                found.append((key[len(mine):].decode(), int(offset), int(pid or 0)))
        return found

    def close(self) -> None:
        self.r.close()


def _now() -> str:
    return iso(datetime.now(timezone.utc))


def _where(url: str) -> str:
    """The server's address for messages, without a password the URL may carry."""
    parts = redis.connection.parse_url(url)
    return f"{parts.get('host', parts.get('path', '?'))}:{parts.get('port', 6379)}"
