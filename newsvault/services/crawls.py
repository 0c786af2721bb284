"""Crawls: record a job, then run the crawler in its own process, here or on a crawl worker.

The crawler always runs as ``python -m newsvault.crawl_process --job-id N`` (a Twisted
reactor cannot be restarted, so a process per crawl is the only safe shape). Every way of
starting one goes through this module: the command line waits for it (:func:`run_job_here`),
the API starts it detached or queues it (:func:`launch`), the crawl worker supervises it under
the site's lease (:func:`supervise`). However it ends, :func:`settle` records the outcome:
a failure in the job row (``storage.jobs.fail_job``) and the site's health flags.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
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
from newsvault.services.errors import Invalid
from storage.db import session_scope
from storage.jobs import fail_job
from storage.models import Capture, CrawlJob, FetchEvent, Site, utcnow
from tasks import leases
from tasks.app import CRAWL_GRACE_SECONDS, OpsConfig, app_for, sender

log = logging.getLogger(__name__)

TERMINAL_STATES = ("done", "failed", "skipped")


class UnknownTarget(Invalid):
    """The crawl target is neither a known site nor an http(s) URL."""


@dataclass(frozen=True)
class JobProgress:
    job_id: int
    state: str
    captures: int
    processed: int
    errors: int

    @property
    def settled(self) -> bool:
        """The crawl ended and every capture it archived has been processed."""
        return self.state in TERMINAL_STATES and self.processed >= self.captures


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
    return [sys.executable, "-m", "newsvault.crawl_process", "--job-id", str(job_id)]


def crawl_log_path(settings: Settings, job_id: int) -> Path:
    """Where the crawler process of job ``job_id`` writes its log (Scrapy's, and ours)."""
    return settings.home / "logs" / f"crawl-{job_id}.log"


def _environment(settings: Settings, **extra: str) -> dict[str, str]:
    """The crawl process reads its settings from the environment: pass on the ones in force."""
    env = dict(os.environ, NEWSVAULT_HOME=str(settings.home), **extra)
    if settings.database_url:
        env["NEWSVAULT_DATABASE_URL"] = settings.database_url
    return env


def _spawn(settings: Settings, job_id: int, **extra: str) -> subprocess.Popen[bytes]:
    log_path = crawl_log_path(settings, job_id)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log_file:
        # Own session = own process group: the whole crawl can be signalled at once.
        return subprocess.Popen(
            crawler_command(job_id),
            env=_environment(settings, **extra),
            start_new_session=True,
            stdout=log_file,
            stderr=log_file,
        )


# Starting a crawl ---------------------------------------------------------------------------


def run_job_here(
    settings: Settings,
    job_id: int,
    *,
    on_progress: Callable[[JobProgress], None] | None = None,
    poll_seconds: float = 0.5,
) -> JobProgress:
    """Run crawl job ``job_id`` in a child process and wait for it, reporting progress."""
    process = _spawn(settings, job_id)
    try:
        while process.poll() is None:
            if on_progress is not None:
                on_progress(job_progress(settings, job_id))
            time.sleep(poll_seconds)
    except BaseException:
        process.terminate()
        process.wait(timeout=30)
        raise
    failure = None
    if process.returncode != 0:
        failure = (
            f"crawler exited with code {process.returncode}; "
            f"its log: {crawl_log_path(settings, job_id)}"
        )
    settle(settings, job_id, failure)
    progress = job_progress(settings, job_id)
    if on_progress is not None:
        on_progress(progress)
    return progress


def queue(settings: Settings, job_id: int) -> None:
    """Put job ``job_id`` on the crawl queue (distributed mode).

    If the broker is unreachable the job stays queued in the index and the reconciler sends
    it later; the caller decides whether that is an error worth telling.
    """
    from tasks.reconcile import send_crawl

    send_crawl(sender(app_for(settings)), job_id)


def launch(settings: Settings, job_id: int) -> None:
    """Start job ``job_id`` without waiting: queued (distributed) or a detached process here."""
    if not settings.embedded:
        queue(settings, job_id)
        return
    _spawn(settings, job_id)  # the crawl process records its own end and health


def wait_for(
    settings: Settings,
    job_id: int,
    on_progress: Callable[[JobProgress], None],
    poll_seconds: float = 0.5,
) -> JobProgress:
    """Follow a queued job and its processing until both are over."""
    while True:
        progress = job_progress(settings, job_id)
        on_progress(progress)
        if progress.settled:
            return progress
        time.sleep(poll_seconds)


# Supervising a crawl on a worker -----------------------------------------------------------


def supervise(settings: Settings, job_id: int) -> str:
    """Claim the site's lease, run the crawl process, renew while it runs, free it at the end.

    Returns the outcome: done, failed, lease_lost, timed_out, or the lease claim's answer
    when another worker has the site.
    """
    from celery.exceptions import SoftTimeLimitExceeded

    lease_seconds = OpsConfig.from_settings(settings).lease_seconds
    owner = leases.lease_owner()
    claim = leases.acquire(settings.index_url, job_id, owner, ttl=lease_seconds)
    if claim is not leases.Claim.acquired:
        log.info("crawl job %s: %s", job_id, claim)
        return str(claim)
    outcome, failure = "done", None
    try:
        process = _spawn(settings, job_id, NEWSVAULT_CRAWL_PARENT_PID=str(os.getpid()))
        try:
            code = _wait_renewing(process, settings.index_url, job_id, owner, lease_seconds)
            if code is None:
                outcome, failure = "lease_lost", "lease lost (expired and restarted elsewhere)"
                _stop_group(process)
            elif code != 0:
                log_path = crawl_log_path(settings, job_id)
                outcome, failure = "failed", f"crawler exited with {code}; log: {log_path}"
        except SoftTimeLimitExceeded:
            outcome, failure = "timed_out", "time limit reached; the crawl was stopped"
            _stop_group(process)
    finally:
        leases.release(settings.index_url, job_id, owner)
    settle(settings, job_id, failure)
    return outcome


def _wait_renewing(
    process: subprocess.Popen[bytes], db_url: str, job_id: int, owner: str, ttl: float
) -> int | None:
    """The crawler's exit code; None if the lease was lost while it ran."""
    while True:
        try:
            return process.wait(timeout=max(ttl / 3, 0.5))
        except subprocess.TimeoutExpired:
            try:
                if not leases.renew(db_url, job_id, owner, ttl=ttl):
                    return None
            except Exception:  # the database blinked: keep crawling, try again next time
                log.warning("crawl job %s: lease renewal failed", job_id, exc_info=True)


def _stop_group(process: subprocess.Popen[bytes], grace: float = CRAWL_GRACE_SECONDS) -> None:
    """SIGINT the crawl's group (graceful: WARC closed), then SIGKILL it after ``grace``."""
    try:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    except ProcessLookupError:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


# How a crawl ended ---------------------------------------------------------------------------


def settle(settings: Settings, job_id: int, failure: str | None = None) -> None:
    """Record the end of job ``job_id``: ``failure`` (if any) in its row, then site health."""
    if failure is not None:
        fail_job(settings.index_url, job_id, failure)
    record_health(settings, job_id)


def record_health(settings: Settings, job_id: int) -> None:
    """Store the site's health flags on the finished job (shown by `newsvault status`)."""
    from tasks.health import site_flags

    try:
        with session_scope(settings.index_url) as session:
            job = session.get(CrawlJob, job_id)
            if job is None or job.site_id is None:
                return
            job.health = {
                "flags": [f.as_dict() for f in site_flags(session, job.site_id, utcnow())]
            }
    except Exception:  # health is advice; it must never fail a crawl
        log.warning("crawl job %s: health check failed", job_id, exc_info=True)


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
