"""The shared state for distributed crawls: one Redis for every worker.

Same operations as the SQLite store, each atomic on the server: claiming an
article id for this run (``SADD``), and the duplicate check-and-insert (a Lua
script: exact hash, LSH bands, signature comparison and insert happen as one
step, so two workers holding two copies of one story can never both pass).

Keys (``ARABTODAY_REDIS_PREFIX``, default ``arabtoday``):

=============================  ==================================================
``{p}:articles``               hash: id -> ``status|content_hash|lastmod|checked``
``{p}:exact``                  hash: ``lang:content_hash`` -> id
``{p}:bands``                  hash: LSH band key -> first id with that band
``{p}:sig``                    hash: id -> MinHash signature (bytes)
``{p}:outputs``                hash: ``host:path`` -> committed byte offset
``{p}:run``                    set: ids claimed in the current run (reset by the seeder)
``{p}:requests``, ``{p}:dupefilter``  scrapy-redis' shared queue and request filter
``{p}:activity``               time of the last response any worker received
=============================  ==================================================
"""

from __future__ import annotations

import os
import socket
import time
from datetime import datetime, timezone

import redis

from arabtoday.dates import iso
from arabtoday.dedup import Fingerprint, Fingerprinter
from arabtoday.state import Emitted, Seen, StateStore, Status

# KEYS: exact, bands, sig   ARGV: id, exact_field, signature, threshold, nbands, band1..bandN
CLAIM_INDEX = """
local id, exact_field, sig = ARGV[1], ARGV[2], ARGV[3]
local threshold, nbands = tonumber(ARGV[4]), tonumber(ARGV[5])
local owner = redis.call('HGET', KEYS[1], exact_field)
if owner and owner ~= id then return {'exact', owner} end
local best, best_score = nil, -1
local seen = {}
for i = 1, nbands do
  local other = redis.call('HGET', KEYS[2], ARGV[5 + i])
  if other and other ~= id and not seen[other] then
    seen[other] = true
    local osig = redis.call('HGET', KEYS[3], other)
    if osig and #osig == #sig then
      local same, n = 0, #sig / 4
      for j = 0, n - 1 do
        if string.sub(sig, j * 4 + 1, j * 4 + 4) == string.sub(osig, j * 4 + 1, j * 4 + 4) then same = same + 1 end
      end
      local score = same / n
      if score >= threshold and score > best_score then best, best_score = other, score end
    end
  end
end
if best then return {'near', best} end
redis.call('HSET', KEYS[1], exact_field, id)
for i = 1, nbands do redis.call('HSETNX', KEYS[2], ARGV[5 + i], id) end
redis.call('HSET', KEYS[3], id, sig)
return false
"""
SEP = "|"


def _pack(status: Status, content_hash: str | None, lastmod: str | None, checked: str | None,
          extractor_version: str | None = None) -> str:
    return SEP.join((str(int(status)), content_hash or "", lastmod or "", checked or "", extractor_version or ""))


def _unpack(value: str) -> Seen:
    status, content_hash, lastmod, checked, extractor = [*value.split(SEP), "", "", "", ""][:5]
    return Seen(Status(int(status)), content_hash or None, lastmod or None, checked or None, extractor or None)


class RedisStore(StateStore):
    def __init__(self, url: str, fingerprinter: Fingerprinter, prefix: str | None = None) -> None:
        self.fingerprinter = fingerprinter
        self.prefix = prefix or "arabtoday"
        self.r = redis.Redis.from_url(url, decode_responses=False)
        self.r.ping()  # fail at start-up, with redis' own message, when the server cannot be reached
        self.host = socket.gethostname()
        self._claim = self.r.register_script(CLAIM_INDEX)
        self._check_params()

    def key(self, name: str) -> str:
        return f"{self.prefix}:{name}"

    def _check_params(self) -> None:
        from arabtoday.state.sqlite import SCHEMA_VERSION, StateMismatch

        want = f"v{SCHEMA_VERSION} perm={self.fingerprinter.num_perm} bands={self.fingerprinter.bands}" \
               f"x{self.fingerprinter.rows}".encode()
        self.r.setnx(self.key("params"), want)
        have = self.r.get(self.key("params"))
        if have != want:
            raise StateMismatch(f"Redis state {self.prefix!r} was built with {have!r}, these settings need {want!r}")

    def get(self, article_id: str) -> Seen | None:
        value = self.r.hget(self.key("articles"), article_id)
        return _unpack(value.decode()) if value else None

    def mark(self, article_id: str, status: Status, content_hash: str | None = None,
             lastmod: str | None = None, extractor_version: str | None = None) -> None:
        old = self.get(article_id)
        if old is not None and status is Status.FAILED and old.status is Status.EMITTED:
            return  # a failed refetch never demotes an article that is in the dataset
        content_hash = content_hash or (old.content_hash if old else None)
        lastmod = lastmod or (old.lastmod if old else None)
        extractor_version = extractor_version or (old.extractor_version if old else None)
        self.r.hset(self.key("articles"), article_id,
                    _pack(status, content_hash, lastmod, _now(), extractor_version))

    def commit_emitted(self, records: list[Emitted], path: str | None, offset: int | None) -> None:
        pipe = self.r.pipeline(transaction=True)
        for rec in records:
            pipe.hset(self.key("articles"), rec.id, _pack(Status.EMITTED, rec.content_hash, rec.lastmod,
                                                          rec.crawled_at or _now(), rec.extractor_version))
        if path is not None and offset is not None:
            pipe.hset(self.key("outputs"), f"{self.host}:{path}", f"{offset}|{os.getpid()}")
        pipe.execute()

    def claim_index(self, article_id: str, fp: Fingerprint) -> tuple[str, str] | None:
        args = [article_id, f"{fp.lang}:{fp.content_hash}", fp.signature, self.fingerprinter.threshold,
                len(fp.bands), *fp.bands]
        result = self._claim(keys=[self.key("exact"), self.key("bands"), self.key("sig")], args=args)
        if not result:
            return None
        kind, other = result
        return kind.decode(), other.decode()

    def claim_run(self, article_id: str) -> bool:
        return bool(self.r.sadd(self.key("run"), article_id))

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

    # -- the distributed crawl's own bookkeeping -------------------------------------------------------------------

    def reset_run(self) -> None:
        """The seeder starts a new run: empty the shared queue, request filter and run claims."""
        self.r.delete(self.key("requests"), self.key("dupefilter"), self.key("run"))
        self.touch()

    def touch(self) -> None:
        self.r.set(self.key("activity"), time.time())

    def seconds_since_activity(self) -> float:
        value = self.r.get(self.key("activity"))
        return time.time() - float(value) if value else float("inf")

    def queue_length(self) -> int:
        return int(self.r.zcard(self.key("requests")))

    def close(self) -> None:
        self.r.close()


def _now() -> str:
    return iso(datetime.now(timezone.utc))
