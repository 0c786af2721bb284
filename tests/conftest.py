"""Shared fixtures: an isolated data folder and index per test, real PostgreSQL on demand."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from newsvault.config import Settings, load_settings
from processing.dedup import LshIndex, MemoryLshIndex
from tasks.redis_lsh import RedisLshIndex

PG_ADMIN_URL = os.environ.get(
    "NEWSVAULT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's NEWSVAULT_* variables or newsvault.toml."""
    for name in list(os.environ):
        if name.startswith("NEWSVAULT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("NEWSVAULT_CONFIG", str(tmp_path / "absent.toml"))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Embedded-mode settings with a fresh data folder and SQLite index, migrated."""
    from storage.db import migrate
    from tasks.lsh import forget_indexes

    forget_indexes()
    configured = load_settings(home=tmp_path / "data", allowed_networks=["127.0.0.0/8"])
    configured.ensure_home()
    migrate(configured.index_url)
    return configured


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A new, empty PostgreSQL database for one test, dropped afterwards."""
    from storage.db import scratch_database

    with scratch_database(PG_ADMIN_URL, "newsvault_t") as url:
        yield url


LSH_REDIS_DB = 13
LSH_PREFIX = "test:lsh:"


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    """Redis database 13 on 127.0.0.1, emptied before and after the test."""
    client = redis.Redis(host="127.0.0.1", port=6379, db=LSH_REDIS_DB)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture(params=["memory", "redis"])
def lsh_index(request: pytest.FixtureRequest) -> LshIndex:
    """The near-duplicate index, once in memory and once in the real Redis."""
    if request.param == "memory":
        return MemoryLshIndex()
    return RedisLshIndex(request.getfixturevalue("redis_client"), prefix=LSH_PREFIX)


@pytest.fixture
def archive(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """An archive of sample-site captures and versions (tests/test_reindex.py builds it), with
    the environment pointing the command line at it."""
    from tests.test_reindex import build_archive

    monkeypatch.setenv("NEWSVAULT_HOME", str(settings.home))
    monkeypatch.setenv("COLUMNS", "200")
    build_archive(settings)
    return settings
