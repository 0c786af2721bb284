"""Writing rebuilt index rows in bulk: the second half of ``newsvault reindex``.

Rebuilt: ``warc_files``, ``captures``, ``articles``, ``versions`` and ``clusters``. Kept as
they are: ``sites`` and ``crawl_jobs`` (configuration and history that no WARC record holds)
and ``fetch_events`` (failed fetches never reach a WARC file, so a deleted database loses
them). Core statements throughout: no ORM objects for a million rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, text, update
from sqlalchemy.orm import Session

from storage.models import Article, Capture, CrawlJob, Site, WarcFile
from storage.warc_scan import ScannedCapture, ScannedFile

REBUILT_TABLES = ("warc_files", "captures", "versions", "articles", "clusters")
_BATCH = 5000


def crawl_jobs(session: Session) -> dict[int, dict[str, Any]]:
    """Every crawl job still in the index, with its site's definition (extraction hints)."""
    rows = session.execute(
        select(CrawlJob.id, Site.definition).join(Site, Site.id == CrawlJob.site_id, isouter=True)
    )
    return {job_id: dict(definition or {}) for job_id, definition in rows}


def replace_files_and_captures(
    session: Session, files: Iterable[ScannedFile], captures: list[ScannedCapture]
) -> None:
    """Empty the rebuilt tables, then insert the files and captures (versions come later)."""
    empty_rebuilt_tables(session)
    insert_files(session, files)
    insert_captures(session, captures)


def empty_rebuilt_tables(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        # RESTART IDENTITY: ids start again at 1, so a second reindex gives the same rows.
        # CASCADE: tables derived from versions (the search index) are rebuilt after too.
        session.execute(text(f"TRUNCATE {', '.join(REBUILT_TABLES)} RESTART IDENTITY CASCADE"))
        return
    # SQLite checks foreign keys row by row and these tables point at each other: cut the
    # links first. An emptied rowid table numbers again from 1.
    session.execute(update(Capture).values(version_id=None))
    session.execute(update(Article).values(current_version_id=None, cluster_id=None))
    for table in ("versions", "captures", "articles", "clusters", "warc_files"):
        session.execute(text(f"DELETE FROM {table}"))


def insert_files(session: Session, files: Iterable[ScannedFile]) -> None:
    rows = [
        {
            "name": name,
            "state": state,
            "size": size,
            "created_at": created or closed_at,
            "closed_at": closed_at if state == "closed" else None,
        }
        for name, state, size, created, closed_at in files
    ]
    if rows:
        session.execute(insert(table_of(WarcFile)), rows)


def insert_captures(session: Session, captures: list[ScannedCapture]) -> None:
    statement = insert(table_of(Capture))
    for start in range(0, len(captures), _BATCH):
        session.execute(
            statement,
            [capture_row(cap) for cap in captures[start : start + _BATCH]],
        )


def capture_row(cap: ScannedCapture) -> dict[str, Any]:
    """The ``captures`` columns of a scanned capture (``version_id`` is set afterwards)."""
    return {
        "id": cap.id,
        "crawl_job_id": cap.crawl_job_id,
        "url": cap.url,
        "canonical_url": cap.canonical_url,
        "fetched_at": cap.fetched_at,
        "status": cap.status,
        "mime_type": cap.mime,
        "content_length": cap.content_length,
        "payload_digest": cap.payload_digest,
        "record_id": cap.record_id,
        "record_type": cap.record_type,
        "refers_to_record_id": cap.refers_to,
        "warc_name": cap.warc_name,
        "warc_offset": cap.offset,
        "warc_length": cap.length,
        "etag": cap.etag,
        "last_modified": cap.last_modified,
        "kind": cap.kind,
        "process_state": cap.state,
        "process_note": cap.note,
        "version_id": None,  # set once the versions exist (they point back at captures)
        "dom_warc_name": cap.dom[0] if cap.dom else None,
        "dom_warc_offset": cap.dom[1] if cap.dom else None,
        "dom_warc_length": cap.dom[2] if cap.dom else None,
    }


def finish_captures(session: Session, captures: list[ScannedCapture]) -> None:
    """Once the versions are in: point captures at them, and move the id sequences on."""
    set_capture_versions(session, captures)
    reset_sequences(session)


def set_capture_versions(session: Session, captures: list[ScannedCapture]) -> None:
    table = table_of(Capture)
    statement = (
        update(table).where(table.c.id == bindparam("cid")).values(version_id=bindparam("vid"))
    )
    rows = [{"cid": cap.id, "vid": cap.version_id} for cap in captures if cap.version_id]
    for start in range(0, len(rows), _BATCH):
        session.execute(statement, rows[start : start + _BATCH])


def reset_sequences(session: Session) -> None:
    """PostgreSQL: explicit ids do not move the sequences; move them past the new rows."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in ("captures", "versions", "articles", "warc_files"):
        session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"COALESCE(MAX(id), 0) + 1, false) FROM {table}"
            )
        )


def table_of(model: type[Any]) -> Table:
    """The Core table of a model."""
    table = model.__table__
    assert isinstance(table, Table)
    return table
