"""The reconciler: the index is the record of work, the queue only a doorbell.

Run periodically by beat (a static entry, tasks/celery_app.py), it makes the index and the
queues agree again after anything was lost:

* captures archived but still ``pending`` long after they were queued are queued again
  (Redis keeps no data on disk by default: a restart empties the queues);
* crawls whose lease expired (their worker died) are marked failed and restarted as a new
  job, at most ``max_attempts`` times;
* crawl jobs still ``queued`` long after they were queued are sent again.

Every message it sends is harmless if the original still arrives: processing is keyed by
capture and re-checks the capture's state; a crawl job is claimed once (tasks/leases.py).

The re-crawl policy lives here too: each known article is fetched again on a decaying
schedule after it was first seen, so stealth edits and corrections become new versions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from storage.db import session_scope
from storage.models import Article, Capture, CrawlJob, Site, utcnow
from tasks import leases
from tasks.schedules import ScheduleError, parse_duration

log = logging.getLogger(__name__)

# Default re-crawl offsets after an article was first seen (a site's ``recrawl`` overrides).
DEFAULT_RECRAWL = ("1h", "6h", "24h", "3d", "7d")
# At most this many articles per re-crawl job: a job stays short and its lease meaningful.
RECRAWL_BATCH = 500

# send(task_name, args, queue, task_id): publishes one message (app.send_task in production).
Send = Callable[[str, list[Any], str, str], None]


@dataclass
class ReconcileReport:
    requeued_captures: int = 0
    restarted_jobs: list[int] = field(default_factory=list)
    resent_jobs: list[int] = field(default_factory=list)
    given_up_jobs: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "requeued_captures": self.requeued_captures,
            "restarted_jobs": self.restarted_jobs,
            "resent_jobs": self.resent_jobs,
            "given_up_jobs": self.given_up_jobs,
        }


def process_task_id(capture_id: int) -> str:
    return f"process-capture-{capture_id}"


def crawl_task_id(job_id: int) -> str:
    return f"crawl-job-{job_id}"


def send_crawl(send: Send, job_id: int) -> None:
    send("tasks.crawl_site", [job_id], "crawl", crawl_task_id(job_id))


def reconcile(
    db_url: str,
    send: Send,
    *,
    pending_after: float,
    queued_after: float,
    max_attempts: int = 3,
    batch: int = 2000,
    now: datetime | None = None,
) -> ReconcileReport:
    """One pass; safe to run any number of times, from any number of places."""
    now = now or utcnow()
    report = ReconcileReport()
    report.requeued_captures = requeue_pending(
        db_url, send, older_than=now - timedelta(seconds=pending_after), now=now, batch=batch
    )
    restart_expired(db_url, send, now=now, max_attempts=max_attempts, report=report)
    resend_queued(db_url, send, older_than=now - timedelta(seconds=queued_after), report=report)
    return report


def requeue_pending(
    db_url: str, send: Send, *, older_than: datetime, now: datetime, batch: int
) -> int:
    with session_scope(db_url) as session:
        ids = list(
            session.scalars(
                select(Capture.id)
                .where(
                    Capture.process_state == "pending",
                    func.coalesce(Capture.queued_at, Capture.fetched_at) < older_than,
                )
                .order_by(Capture.id)
                .limit(batch)
            )
        )
    sent: list[int] = []
    for capture_id in ids:
        try:
            send("tasks.process_capture", [capture_id], "process", process_task_id(capture_id))
        except Exception:  # the broker is down again: what was not sent stays due
            log.warning("reconcile: broker unavailable after %d re-queued captures", len(sent))
            break
        sent.append(capture_id)
    if sent:
        with session_scope(db_url) as session:
            session.execute(update(Capture).where(Capture.id.in_(sent)).values(queued_at=now))
        log.info("reconcile: re-queued %d pending captures", len(sent))
    return len(sent)


def restart_expired(
    db_url: str, send: Send, *, now: datetime, max_attempts: int, report: ReconcileReport
) -> None:
    restarts: list[int] = []
    with session_scope(db_url) as session:
        for job in leases.expired(session, now):
            locked = session.get(CrawlJob, job.id, with_for_update=True)
            if locked is None or locked.lease_until is None or locked.lease_until >= now:
                continue
            locked.state = "failed"
            locked.finished_at = now
            locked.lease_until = None
            if locked.attempt >= max_attempts:
                locked.message = f"lease expired (worker died); gave up after {locked.attempt}"
                report.given_up_jobs.append(locked.id)
                continue
            again = CrawlJob(
                site_id=locked.site_id,
                target=locked.target,
                state="queued",
                kind=locked.kind,
                stats={"options": dict((locked.stats or {}).get("options", {}))},
                attempt=locked.attempt + 1,
                restart_of=locked.id,
                queued_at=now,
            )
            session.add(again)
            session.flush()
            locked.message = f"lease expired (worker died); restarted as crawl job {again.id}"
            restarts.append(again.id)
            report.restarted_jobs.append(locked.id)
    for job_id in restarts:
        # If this send fails the new job stays queued, and resend_queued sends it later.
        try:
            send_crawl(send, job_id)
        except Exception:
            log.warning("reconcile: could not queue restarted crawl job %s", job_id)


def resend_queued(
    db_url: str, send: Send, *, older_than: datetime, report: ReconcileReport
) -> None:
    with session_scope(db_url) as session:
        ids = list(
            session.scalars(
                select(CrawlJob.id).where(
                    CrawlJob.state == "queued",
                    CrawlJob.lease_until.is_(None),
                    CrawlJob.queued_at < older_than,
                )
            )
        )
    for job_id in ids:
        try:
            send_crawl(send, job_id)
        except Exception:
            log.warning("reconcile: could not re-send crawl job %s", job_id)
            return
        with session_scope(db_url) as session:
            session.execute(
                update(CrawlJob).where(CrawlJob.id == job_id).values(queued_at=utcnow())
            )
        report.resent_jobs.append(job_id)


# Re-crawl policy ---------------------------------------------------------------------------


def recrawl_offsets(definition: dict[str, Any] | None) -> list[timedelta]:
    """The site's re-crawl offsets (its ``recrawl`` list, else the default), ascending."""
    values: Sequence[str] = (definition or {}).get("recrawl") or DEFAULT_RECRAWL
    offsets = []
    for value in values:
        try:
            offsets.append(parse_duration(str(value)))
        except ScheduleError:
            log.warning("recrawl: ignoring bad offset %r", value)
    return sorted(offsets)


def due_for_recrawl(
    first_seen: datetime, last_fetched: datetime, now: datetime, offsets: Sequence[timedelta]
) -> bool:
    """True when a re-crawl moment (first_seen + offset) has passed since the last fetch."""
    return any(last_fetched < first_seen + offset <= now for offset in offsets)


def recrawl_due(
    db_url: str, send: Send, *, now: datetime | None = None, batch: int = RECRAWL_BATCH
) -> list[int]:
    """Create (and queue) a re-crawl job per site with due articles; returns the job ids."""
    now = now or utcnow()
    created: list[int] = []
    with session_scope(db_url) as session:
        sites = list(session.scalars(select(Site).order_by(Site.id)))
        for site in sites:
            offsets = recrawl_offsets(site.definition)
            if not offsets or _has_active_recrawl(session, site.id):
                continue
            # Articles past their last re-crawl moment (plus a day of slack) are settled.
            candidates = session.execute(
                select(Article.canonical_url, Article.first_seen, Article.last_seen)
                .where(
                    Article.site_id == site.id,
                    Article.first_seen <= now - offsets[0],
                    Article.first_seen >= now - offsets[-1] - timedelta(days=1),
                )
                .order_by(Article.first_seen)
            ).all()
            urls = [
                url for url, first, last in candidates if due_for_recrawl(first, last, now, offsets)
            ][:batch]
            if not urls:
                continue
            job = CrawlJob(
                site_id=site.id,
                target=site.name,
                state="queued",
                kind="recrawl",
                stats={"options": {"urls": urls}},
                queued_at=now,
            )
            session.add(job)
            session.flush()
            created.append(job.id)
    for job_id in created:
        try:
            send_crawl(send, job_id)
        except Exception:
            log.warning("recrawl: could not queue job %s; the reconciler re-sends it", job_id)
    return created


def _has_active_recrawl(session: Any, site_id: int) -> bool:
    return (
        session.scalar(
            select(func.count(CrawlJob.id)).where(
                CrawlJob.site_id == site_id,
                CrawlJob.kind == "recrawl",
                CrawlJob.state.in_(leases.ACTIVE_STATES),
            )
        )
        or 0
    ) > 0
