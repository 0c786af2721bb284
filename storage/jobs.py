"""Crawl job bookkeeping: what a crawl process reads at start and writes at the end."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from storage.db import session_scope
from storage.models import CrawlJob, utcnow


class JobNotRunnable(Exception):
    """The job does not exist or is not waiting to run; the message says which."""


@dataclass(frozen=True)
class JobSpec:
    job_id: int
    target: str
    # The site's stored definition, or None for a zero-configuration crawl of a URL.
    definition: dict[str, Any] | None
    options: dict[str, Any] = field(default_factory=dict)


def start_job(db_url: str, job_id: int) -> JobSpec:
    """Mark job ``job_id`` running in this process and return what to crawl."""
    with session_scope(db_url) as session:
        job = session.get(CrawlJob, job_id, with_for_update=True)
        if job is None:
            raise JobNotRunnable(f"crawl job {job_id} does not exist in the index")
        if job.state != "queued":
            raise JobNotRunnable(f"crawl job {job_id} is {job.state}, not queued")
        job.state = "running"
        job.started_at = utcnow()
        job.pid = os.getpid()
        definition = dict(job.site.definition) if job.site else None
        options = dict((job.stats or {}).get("options", {}))
        if definition is not None and options.get("urls"):
            definition = recrawl_definition(definition, list(options["urls"]))
        return JobSpec(
            job_id=job.id,
            target=job.target,
            definition=definition,
            options=options,
        )


def recrawl_definition(definition: dict[str, Any], urls: list[str]) -> dict[str, Any]:
    """The site's definition narrowed to fetching ``urls`` as articles (a re-crawl job).

    Same scope, politeness and selectors; no feeds, sitemaps, sections or discovery, so a
    re-crawl fetches exactly the articles that are due (conditionally: 304s stay cheap).
    """
    narrowed = dict(definition)
    narrowed["start"] = {"articles": urls}
    narrowed["discover"] = False
    limits = dict(narrowed.get("limits") or {})
    limits["max_pages"] = max(len(urls), 1)
    limits["max_depth"] = 0
    narrowed["limits"] = limits
    return narrowed


def finish_job(
    db_url: str, job_id: int, *, state: str, stats: dict[str, Any], message: str | None = None
) -> None:
    with session_scope(db_url) as session:
        job = session.get(CrawlJob, job_id, with_for_update=True)
        if job is None:
            return
        job.state = state
        job.finished_at = utcnow()
        job.stats = {**(job.stats or {}), **stats}
        job.message = message


def fail_job(db_url: str, job_id: int, message: str) -> bool:
    """Mark a queued or running job failed with ``message``; False if it had already ended.

    The one place a job is failed from outside its crawl process (the process died, lost its
    lease or ran out of time): a job that already recorded its own end keeps it.
    """
    with session_scope(db_url) as session:
        job = session.get(CrawlJob, job_id, with_for_update=True)
        if job is None or job.state not in ("queued", "running"):
            return False
        job.state = "failed"
        job.message = message
        job.finished_at = utcnow()
        return True
