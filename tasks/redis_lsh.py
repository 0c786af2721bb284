"""The shared near-duplicate index in Redis: one Lua script call per article.

datasketch's own Redis storage takes about 30 round trips and 5 KB per document and is not
atomic across workers, so this index is ours (see ``processing/dedup.py`` for the recipe).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from processing.dedup import (
    BUCKET_BITS,
    BUCKET_BYTES,
    MAX_IDS_PER_BAND,
    IndexUpdate,
    Signature,
    band_digests,
    is_empty_signature,
    pack_id,
    unpack_ids,
)

# KEYS[i] is band i's bucket hash, ARGV[i] its field; ARGV[n+1] the packed id, ARGV[n+2] the
# per-band cap. Ids are compared at aligned offsets: a packed id may contain another's bytes.
_QUERY_AND_INSERT_LUA = """
local n = #KEYS
local id = ARGV[n + 1]
local width = #id
local max_len = tonumber(ARGV[n + 2]) * width
local found = {}
for i = 1, n do
  local ids = redis.call('HGET', KEYS[i], ARGV[i])
  if ids then
    local present = false
    for pos = 1, #ids, width do
      local other = string.sub(ids, pos, pos + width - 1)
      if other == id then present = true else found[#found + 1] = other end
    end
    if not present and #ids < max_len then
      redis.call('HSET', KEYS[i], ARGV[i], ids .. id)
    end
  else
    redis.call('HSET', KEYS[i], ARGV[i], id)
  end
end
return table.concat(found)
"""

_REMOVE_LUA = """
local n = #KEYS
local id = ARGV[n + 1]
local width = #id
for i = 1, n do
  local ids = redis.call('HGET', KEYS[i], ARGV[i])
  if ids then
    local kept = {}
    for pos = 1, #ids, width do
      local other = string.sub(ids, pos, pos + width - 1)
      if other ~= id then kept[#kept + 1] = other end
    end
    if #kept == 0 then
      redis.call('HDEL', KEYS[i], ARGV[i])
    elseif #kept * width < #ids then
      redis.call('HSET', KEYS[i], ARGV[i], table.concat(kept))
    end
  end
end
return 0
"""


class RedisLshIndex:
    """The shared index: one EVALSHA per article, query and insert atomic in Redis.

    Layout: band ``b`` of a document with band digest ``d`` is the field ``d[2:]`` of the hash
    ``{prefix}{b:02d}:{bucket:04x}`` (``bucket``: the top 15 bits of ``d[:2]``), whose value is
    the packed ids of the documents in that band. With 32,768 buckets per band, a million
    articles put about 30 entries in each hash, which Redis keeps as a compact listpack:
    18 entries of ~13 bytes plus the amortized key overhead per article (bench_dedup.py
    reports the measured total). The
    client must not decode responses (ids are bytes). The script touches several keys, so on
    Redis Cluster the prefix needs a hash tag.
    """

    def __init__(self, redis_client: Any, prefix: str = "newsvault:lsh:") -> None:
        if redis_client.connection_pool.connection_kwargs.get("decode_responses"):
            raise ValueError("RedisLshIndex needs a Redis client with decode_responses=False")
        self._redis = redis_client
        self._prefix = prefix
        # register_script runs EVALSHA and falls back to loading the script on NOSCRIPT
        # (a restarted or flushed Redis), so the script text crosses the wire once.
        self._query_and_insert = redis_client.register_script(_QUERY_AND_INSERT_LUA)
        self._remove = redis_client.register_script(_REMOVE_LUA)

    def _keys_and_fields(self, sig: Signature) -> tuple[list[str], list[bytes]]:
        digests = band_digests(sig)
        shift = 8 * BUCKET_BYTES - BUCKET_BITS
        keys = [
            f"{self._prefix}{band:02d}:{int.from_bytes(digest[:BUCKET_BYTES], 'big') >> shift:04x}"
            for band, digest in enumerate(digests)
        ]
        return keys, [digest[BUCKET_BYTES:] for digest in digests]

    def query_and_insert(self, doc_id: int, sig: Signature) -> list[int]:
        if is_empty_signature(sig):
            return []
        keys, fields = self._keys_and_fields(sig)
        packed = self._query_and_insert(
            keys=keys, args=[*fields, pack_id(doc_id), MAX_IDS_PER_BAND]
        )
        return list(dict.fromkeys(unpack_ids(packed or b"")))

    def remove(self, doc_id: int, sig: Signature) -> None:
        if is_empty_signature(sig):
            return
        keys, fields = self._keys_and_fields(sig)
        self._remove(keys=keys, args=[*fields, pack_id(doc_id)])

    def update_many(self, updates: Sequence[IndexUpdate]) -> list[list[int]]:
        # One pipeline (not a transaction): each script is atomic, and Redis runs one
        # connection's commands in order, so this equals the calls made one by one.
        pipe = self._redis.pipeline(transaction=False)
        queried: list[bool] = []
        for doc_id, sig, previous in updates:
            if previous is not None and not is_empty_signature(previous):
                keys, fields = self._keys_and_fields(previous)
                self._remove(keys=keys, args=[*fields, pack_id(doc_id)], client=pipe)
                queried.append(False)
            if not is_empty_signature(sig):
                keys, fields = self._keys_and_fields(sig)
                args = [*fields, pack_id(doc_id), MAX_IDS_PER_BAND]
                self._query_and_insert(keys=keys, args=args, client=pipe)
                queried.append(True)
        replies = iter(
            reply for reply, is_query in zip(pipe.execute(), queried, strict=True) if is_query
        )
        return [
            list(dict.fromkeys(unpack_ids(next(replies) or b"")))
            if not is_empty_signature(sig)
            else []
            for _, sig, _ in updates
        ]

    def insert_many(self, items: Iterable[tuple[int, Signature]], batch: int = 1000) -> int:
        """Insert many documents, ``batch`` script calls per round trip (rebuilds, loading).

        Each call is the same script as ``query_and_insert`` (its answers are dropped), so the
        result equals inserting one by one; only the round trips are saved. Returns the count.
        """
        count = 0
        pipe = self._redis.pipeline(transaction=False)
        for doc_id, sig in items:
            if is_empty_signature(sig):
                continue
            keys, fields = self._keys_and_fields(sig)
            self._query_and_insert(
                keys=keys, args=[*fields, pack_id(doc_id), MAX_IDS_PER_BAND], client=pipe
            )
            count += 1
            if count % batch == 0:
                pipe.execute()
        pipe.execute()
        return count
