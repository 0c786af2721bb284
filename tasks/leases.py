"""Crawl leases in the index database: one crawl of a site at a time, across all workers.

A crawl outlives the broker's visibility timeout, so the queue cannot say whether a crawl is
still running; its lease can. The supervising task acquires the lease before starting the
crawl process, renews it while the process runs and frees it at the end. If the worker dies,
nobody renews: the lease expires and the reconciler (tasks/reconcile.py) restarts the crawl.

The site row is locked while deciding (``FOR UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on
SQLite), so two requests deciding at the same instant still see each other.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.db import session_scope
from storage.models import CrawlJob, Site, utcnow

ACTIVE_STATES = ("queued", "running")


class Claim(StrEnum):
    acquired = "acquired"  # this job holds the site's lease now: start the crawl
    skipped = "skipped"  # another crawl of the site holds it: this job is recorded as skipped
    duplicate = "duplicate"  # this job was claimed before (a second delivery): do nothing
    missing = "missing"  # no such job


def lease_owner() -> str:
    """Who holds a lease: this host and process (the Celery pool child)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def acquire(db_url: str, job_id: int, owner: str, *, ttl: float) -> Claim:
    """Claim crawl job ``job_id`` for ``owner`` for ``ttl`` seconds, or record it skipped."""
    now = utcnow()
    with session_scope(db_url) as session:
        if _lock_site_of(session, job_id) is None:
            return Claim.missing
        job = session.get(CrawlJob, job_id, with_for_update=True)
        if job is None:
            return Claim.missing
        if job.state != "queued" or job.lease_until is not None:
            return Claim.duplicate
        holder = _current_holder(session, job, now)
        if holder is not None:
            job.state = "skipped"
            job.finished_at = now
            job.message = f"crawl job {holder.id} of {job.target} was running; this one skipped"
            return Claim.skipped
        job.lease_until = now + timedelta(seconds=ttl)
        job.lease_owner = owner
        return Claim.acquired


def renew(db_url: str, job_id: int, owner: str, *, ttl: float) -> bool:
    """Extend the lease; False when it is no longer ours (expired and taken over)."""
    with session_scope(db_url) as session:
        result = session.execute(
            update(CrawlJob)
            .where(
                CrawlJob.id == job_id,
                CrawlJob.lease_owner == owner,
                CrawlJob.lease_until.is_not(None),
                CrawlJob.state.in_(ACTIVE_STATES),
            )
            .values(lease_until=utcnow() + timedelta(seconds=ttl))
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def release(db_url: str, job_id: int, owner: str) -> None:
    """Free the lease (the crawl ended, whatever its outcome)."""
    with session_scope(db_url) as session:
        session.execute(
            update(CrawlJob)
            .where(CrawlJob.id == job_id, CrawlJob.lease_owner == owner)
            .values(lease_until=None)
        )


def expired(session: Session, now: datetime) -> list[CrawlJob]:
    """Jobs still marked active whose lease ran out: their worker died."""
    return list(
        session.scalars(
            select(CrawlJob)
            .where(
                CrawlJob.state.in_(ACTIVE_STATES),
                CrawlJob.lease_until.is_not(None),
                CrawlJob.lease_until < now,
            )
            .order_by(CrawlJob.id)
        )
    )


def _lock_site_of(session: Session, job_id: int) -> CrawlJob | None:
    job = session.get(CrawlJob, job_id)
    if job is not None and job.site_id is not None:
        session.get(Site, job.site_id, with_for_update=True)
    return job


def _current_holder(session: Session, job: CrawlJob, now: datetime) -> CrawlJob | None:
    same_target = (
        CrawlJob.site_id == job.site_id
        if job.site_id is not None
        else (CrawlJob.site_id.is_(None) & (CrawlJob.target == job.target))
    )
    return session.scalar(
        select(CrawlJob)
        .where(
            same_target,
            CrawlJob.id != job.id,
            CrawlJob.state.in_(ACTIVE_STATES),
            CrawlJob.lease_until > now,
        )
        .limit(1)
    )
