"""Connections to the index database, and its migrations.

SQLite is the embedded default: WAL mode so readers never block the writer, a busy timeout,
and ``BEGIN IMMEDIATE`` for every transaction, because a deferred transaction that later
upgrades to a write fails at once with "database is locked" and ignores the busy timeout.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
READ_ONLY = "newsvault_read_only"


class IndexUnavailable(Exception):
    """The index database cannot be reached or opened; the message says which and how to fix."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own transaction handling would issue a deferred BEGIN; we issue our own.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # Writers take the lock up front; read-only work (see read_scope) need not wait for it.
    readonly = connection.get_execution_options().get(READ_ONLY)
    connection.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with the settings newsvault needs on that backend."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # No pool_pre_ping: it costs a round trip on every checkout, which is most of a lookup's
    # time. A connection broken by a server restart fails one transaction, is invalidated by
    # the pool, and the caller's retry (Celery's autoretry, the user) gets a fresh one.
    return create_engine(url, pool_size=5, max_overflow=5, pool_recycle=1800)


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """One engine per database URL per process."""
    return make_engine(url)


def session_factory(url: str) -> sessionmaker[Session]:
    return sessionmaker(engine_for(url), expire_on_commit=False)


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A transaction: committed when the block ends, rolled back if it raises."""
    session = session_factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def read_scope(url: str) -> Iterator[Session]:
    """A read-only transaction: on SQLite it does not take the write lock."""
    with engine_for(url).connect() as connection:
        session = Session(connection.execution_options(**{READ_ONLY: True}))
        try:
            yield session
        finally:
            session.close()


@contextmanager
def scratch_database(admin_url: str, prefix: str = "newsvault_scratch") -> Iterator[str]:
    """A new, empty PostgreSQL database for a test or a benchmark, dropped afterwards.

    ``admin_url`` is any database on the server the user may create databases from; the
    URL of the new one is yielded.
    """
    import uuid

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield url
    finally:
        engine_for(url).dispose()
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _alembic_config(url: str) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str) -> None:
    """Bring the index schema up to date (Alembic ``upgrade head``); safe to call every start."""
    from alembic import command

    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    try:
        with engine_for(url).begin() as connection:
            config = _alembic_config(url)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except OperationalError as exc:
        raise IndexUnavailable(
            f"index database {_redacted(url)} is unreachable: {exc.orig}; "
            "check NEWSVAULT_DATABASE_URL and that the server runs"
        ) from None


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
