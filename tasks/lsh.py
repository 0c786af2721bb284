"""Which near-duplicate index this process uses: Redis when configured, else in memory.

Both hold the same thing, the LSH bands of each article's current version; the index
database keeps the signatures, so either can be rebuilt from it at any time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from processing.dedup import LshIndex, MemoryLshIndex, signature_from_bytes
from storage.db import session_scope
from storage.models import Article, Version
from tasks.redis_lsh import RedisLshIndex

if TYPE_CHECKING:
    from tasks.config import TasksConfig

REDIS_PREFIX = "newsvault:lsh:"

_indexes: dict[str, LshIndex] = {}


def near_duplicate_index(settings: TasksConfig) -> LshIndex:
    """This process's index, created on first use."""
    key = settings.shared_redis_url or settings.index_url
    if key not in _indexes:
        _indexes[key] = _open_index(settings)
    return _indexes[key]


def _open_index(settings: TasksConfig) -> LshIndex:
    if settings.shared_redis_url:
        import redis

        client = redis.Redis.from_url(settings.shared_redis_url)
        return RedisLshIndex(client, prefix=REDIS_PREFIX)
    index = MemoryLshIndex()
    rebuild(index, settings)
    return index


def rebuild(index: LshIndex, settings: TasksConfig) -> int:
    """Insert every article's current signature; returns how many were inserted."""
    count = 0
    with session_scope(settings.index_url) as session:
        rows = session.execute(
            select(Article.id, Version.minhash)
            .join(Version, Version.id == Article.current_version_id)
            .where(Version.minhash.is_not(None))
        )
        for article_id, minhash in rows:
            if minhash is not None:
                index.query_and_insert(article_id, signature_from_bytes(minhash))
                count += 1
    return count


def forget_indexes() -> None:
    """Drop this process's cached indexes (tests switch databases between cases)."""
    _indexes.clear()


def reset_after_reindex(settings: TasksConfig) -> None:
    """The index keys on article ids, which ``newsvault reindex`` renumbered: rebuild it."""
    forget_indexes()
    if not settings.shared_redis_url:
        return  # the in-memory index is rebuilt from the database on first use
    import redis

    client = redis.Redis.from_url(settings.shared_redis_url)
    keys = list(client.scan_iter(match=REDIS_PREFIX + "*", count=1000))
    for start in range(0, len(keys), 1000):
        client.delete(*keys[start : start + 1000])
    rebuild(RedisLshIndex(client, prefix=REDIS_PREFIX), settings)
