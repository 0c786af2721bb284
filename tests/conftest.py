"""Shared fixtures: an isolated data folder and index per test, real PostgreSQL on demand."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsvault.config import Settings, load_settings

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
    from sqlalchemy import create_engine, text

    name = f"newsvault_t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        from storage.db import engine_for

        engine_for(url).dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
