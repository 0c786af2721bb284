"""Crash recovery at crawl start: close the ``.open`` files a crash left, index what they hold."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.db import session_scope
from storage.index_rows import capture_row, crawl_jobs
from storage.models import Capture, WarcFile, utcnow
from storage.warc import RecoveryReport, iter_records, recover_open_files
from storage.warc_scan import (
    ScannedCapture,
    attach_doms,
    crawl_job_of,
    dom_of,
    plan_capture,
    scanned_capture,
)

if TYPE_CHECKING:
    from storage.config import StorageConfig


def recover_and_index(config: StorageConfig) -> list[RecoveryReport]:
    """At start: close the ``.open`` files a crash left, and index what they hold.

    A crawl killed mid-way leaves a file whose last record may be cut and whose last records
    were written but not yet indexed (the index follows the fsync). Recovery cuts the file at
    its last complete record; this then adds an index row for every capture in it that has
    none, pending processing. Files that live writers hold are left alone.
    """
    reports = recover_open_files(config.warc_dir)
    closed = [r.file for r in reports if r.action == "closed"]
    if not closed:
        return reports
    with session_scope(config.index_url) as session:
        jobs = set(crawl_jobs(session))
        known = set(session.scalars(select(Capture.record_id).where(Capture.warc_name.in_(closed))))
        for name in closed:
            _index_missing(session, config.warc_dir / name, name, jobs, known)
            warc_file = session.scalar(select(WarcFile).where(WarcFile.name == name))
            if warc_file is None:
                session.add(WarcFile(name=name, state="recovered", closed_at=utcnow()))
            else:
                warc_file.state, warc_file.closed_at = "recovered", utcnow()
    return reports


def _index_missing(
    session: Session, path: Path, name: str, jobs: set[int], known: set[str]
) -> None:
    job: int | None = None
    found: list[ScannedCapture] = []
    doms: dict[str, tuple[str, int, int]] = {}
    for record in iter_records(path):
        if record.rec_type == "warcinfo":
            job = crawl_job_of(record, jobs)
        elif record.rec_type in ("response", "revisit") and record.record_id not in known:
            cap = scanned_capture(record, name, 0, job)
            plan_capture(cap)
            found.append(cap)
        elif (dom := dom_of(record, name)) is not None:
            doms[dom[0]] = dom[1]
    # A browser capture's DOM record follows its response: attach it once the file is read.
    attach_doms(found, doms)
    for cap in found:
        row = capture_row(cap)
        del row["id"]
        session.add(Capture(**row))
