"""What every route shares: the app's settings, database sessions, auth, parameter parsing.

Read routes use their own SQLite engine whose transactions begin DEFERRED: the index's
writers use ``BEGIN IMMEDIATE`` (storage/db.py), and a page view must never queue behind a
crawl's write lock. In WAL mode a deferred read transaction sees a consistent snapshot.
"""

from __future__ import annotations

import base64
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session

from newsvault.config import Settings
from storage.db import engine_for, session_scope

MAX_PAGE_SIZE = 200
# Integer primary keys are 32-bit on PostgreSQL: a larger id in a URL is a 404, not a 500.
MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class WebConfig:
    """How the app was created (``create_app`` arguments the routes need)."""

    settings: Settings
    # Origin (scheme://host[:port]) that serves raw captures, or None: served from this one.
    replay_origin: str | None = None
    # When True, GET endpoints under /api/ need the bearer token as well.
    protect_reads: bool = False


def web_config(request: Request) -> WebConfig:
    config: WebConfig = request.app.state.web
    return config


Config = Annotated[WebConfig, Depends(web_config)]


# --- sessions ------------------------------------------------------------------------------


def _sqlite_read_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()


def _sqlite_begin_deferred(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")


@lru_cache(maxsize=8)
def read_engine(url: str) -> Engine:
    if not url.startswith("sqlite"):
        return engine_for(url)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
    event.listen(engine, "connect", _sqlite_read_pragmas)
    event.listen(engine, "begin", _sqlite_begin_deferred)
    return engine


def open_read_session(settings: Settings) -> Session:
    return Session(read_engine(settings.index_url), expire_on_commit=False)


def read_session(config: Config) -> Iterator[Session]:
    session = open_read_session(config.settings)
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def write_session(config: Config) -> Iterator[Session]:
    with session_scope(config.settings.index_url) as session:
        yield session


ReadSession = Annotated[Session, Depends(read_session)]
WriteSession = Annotated[Session, Depends(write_session)]


# --- auth ----------------------------------------------------------------------------------


def _token_matches(expected: str, authorization: str | None) -> bool:
    scheme, _, given = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), expected.encode()
    )


def require_writer(
    config: Config,
    authorization: Annotated[str | None, Header()] = None,
    sec_fetch_site: Annotated[str | None, Header()] = None,
) -> None:
    """Write and admin endpoints: same-site requests carrying the configured bearer token."""
    # A browser says where a request comes from; a cross-site form or fetch is never an
    # archivist's own tool (the CSRF defence Datasette uses, reliability notes §6.4).
    if sec_fetch_site == "cross-site":
        raise HTTPException(403, "cross-site requests may not change the archive")
    token = config.settings.api_token
    if not token:
        raise HTTPException(
            403, "write endpoints are disabled: set NEWSVAULT_API_TOKEN to enable them"
        )
    if not _token_matches(token, authorization):
        raise HTTPException(
            401,
            "this endpoint needs 'Authorization: Bearer <token>' with the configured API token",
            headers={"WWW-Authenticate": 'Bearer realm="newsvault"'},
        )


def require_reader(config: Config, authorization: Annotated[str | None, Header()] = None) -> None:
    """Read endpoints: open unless the app was created with ``protect_reads``."""
    if not config.protect_reads:
        return
    token = config.settings.api_token
    if not token or not _token_matches(token, authorization):
        raise HTTPException(
            401,
            "reading this archive needs 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": 'Bearer realm="newsvault"'},
        )


Writer = Depends(require_writer)
Reader = Depends(require_reader)


# --- parameters ----------------------------------------------------------------------------


def parse_datetime(value: str | None, name: str) -> datetime | None:
    """An ISO 8601 date or datetime as UTC (naive means UTC); 400 naming ``name`` otherwise."""
    if value is None or value == "":
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise HTTPException(
            400,
            f"{name}: {value!r} is not an ISO 8601 date such as 2021-05-15 or 2021-05-15T18:30Z",
        ) from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def encode_cursor(*values: Any) -> str:
    """An opaque, URL-safe cursor for keyset pagination."""
    raw = json.dumps([v.isoformat() if isinstance(v, datetime) else v for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, size: int) -> list[Any] | None:
    if not cursor:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:
        values = None
    if not isinstance(values, list) or len(values) != size:
        raise HTTPException(400, "cursor: not a cursor this server gave out")
    return values


def cursor_datetime(value: Any) -> datetime:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise HTTPException(400, "cursor: not a cursor this server gave out") from None
