"""Starting crawls: a crawl job row, then the crawler in its own process.

The crawler always runs as ``python -m crawler --job-id N`` (a Twisted reactor cannot be
restarted, so a process per crawl is the only safe shape); this module creates the job and
either runs that process here (embedded mode) or queues it for a crawl worker.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select

from newsvault.config import Settings
from storage.db import session_scope
from storage.models import Capture, CrawlJob, FetchEvent, Site, utcnow


class UnknownTarget(ValueError):
    """The crawl target is neither a known site nor an http(s) URL."""


@dataclass(frozen=True)
class JobProgress:
    job_id: int
    state: str
    captures: int
    processed: int
    errors: int


def looks_like_url(target: str) -> bool:
    return urlsplit(target).scheme in ("http", "https") and bool(urlsplit(target).netloc)


def create_job(
    settings: Settings,
    target: str,
    *,
    options: dict[str, Any] | None = None,
    schedule_key: str | None = None,
    kind: str = "crawl",
) -> int:
    """Record a queued crawl of ``target`` (a site name or a URL); returns the job id.

    ``kind`` is crawl (asked for now), scheduled (fired by beat) or recrawl (due articles).
    A ``schedule_key`` already used raises ``sqlalchemy.exc.IntegrityError``: that scheduled
    run was fired already (by another beat during a lock hand-over).
    """
    with session_scope(settings.index_url) as session:
        site = session.scalar(select(Site).where(Site.name == target))
        if site is None and not looks_like_url(target):
            raise UnknownTarget(
                f"{target!r} is neither a site (see `newsvault sites list`) nor an http(s) URL"
            )
        job = CrawlJob(
            site_id=site.id if site else None,
            target=target,
            state="queued",
            stats={"options": options or {}},
            schedule_key=schedule_key,
            kind=kind,
            queued_at=utcnow(),
        )
        session.add(job)
        session.flush()
        return job.id


def crawler_command(job_id: int) -> list[str]:
    return [sys.executable, "-m", "crawler", "--job-id", str(job_id)]


def run_job_here(
    settings: Settings,
    job_id: int,
    *,
    on_progress: Callable[[JobProgress], None] | None = None,
    poll_seconds: float = 0.5,
) -> JobProgress:
    """Run crawl job ``job_id`` in a child process and wait for it, reporting progress."""
    env = dict(os.environ, NEWSVAULT_HOME=str(settings.home))
    if settings.database_url:
        env["NEWSVAULT_DATABASE_URL"] = settings.database_url
    log_path = crawl_log_path(settings, job_id)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            crawler_command(job_id), env=env, start_new_session=True, stdout=log, stderr=log
        )
    try:
        while process.poll() is None:
            if on_progress is not None:
                on_progress(job_progress(settings, job_id))
            time.sleep(poll_seconds)
    except BaseException:
        process.terminate()
        process.wait(timeout=30)
        raise
    if process.returncode != 0:
        _mark_failed(
            settings,
            job_id,
            f"crawler exited with code {process.returncode}; its log: {log_path}",
        )
    progress = job_progress(settings, job_id)
    if on_progress is not None:
        on_progress(progress)
    return progress


def crawl_log_path(settings: Settings, job_id: int) -> Path:
    """Where the crawler process of job ``job_id`` writes its log (Scrapy's, and ours)."""
    return settings.home / "logs" / f"crawl-{job_id}.log"


def _mark_failed(settings: Settings, job_id: int, message: str) -> None:
    with session_scope(settings.index_url) as session:
        job = session.get(CrawlJob, job_id)
        if job is not None and job.state in ("queued", "running"):
            job.state = "failed"
            job.message = message
            job.finished_at = utcnow()


def job_progress(settings: Settings, job_id: int) -> JobProgress:
    with session_scope(settings.index_url) as session:
        job = session.get(CrawlJob, job_id)
        state = job.state if job else "missing"
        captures = session.scalar(
            select(func.count(Capture.id)).where(Capture.crawl_job_id == job_id)
        )
        processed = session.scalar(
            select(func.count(Capture.id)).where(
                Capture.crawl_job_id == job_id, Capture.process_state != "pending"
            )
        )
        errors = session.scalar(
            select(func.count(FetchEvent.id)).where(FetchEvent.crawl_job_id == job_id)
        )
    return JobProgress(job_id, state, captures or 0, processed or 0, errors or 0)
