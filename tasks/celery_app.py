"""The Celery task definitions: the worker's front end. Each task only wires a step to Celery.

``celery -A tasks.celery_app worker`` (what ``newsvault worker`` runs) imports this module:
the app itself is built by ``tasks/app.py`` from the settings, the work is done by the
pipeline (processing) and the crawl service (crawls), so a task here reads its arguments,
calls one function and logs the outcome.
"""

from __future__ import annotations

import logging
import time
from functools import lru_cache
from typing import Any

from celery.signals import worker_process_init

from newsvault.config import get_settings
from newsvault.services import crawls
from tasks.app import (
    CRAWL_HARD_LIMIT,
    CRAWL_SOFT_LIMIT,
    RETRY_BACKOFF_MAX,
    OpsConfig,
    app_for,
    make_app,
    sender,
    transient_errors,
)

__all__ = ["app", "make_app", "send"]

log = logging.getLogger(__name__)

app = app_for(get_settings())


@worker_process_init.connect
def _fresh_connections_after_fork(**_: Any) -> None:
    """A pool child must not share the parent's pooled database connections.

    `newsvault worker` migrates the index before forking its pool; a child that inherited
    those sockets would interleave its statements with its siblings' on one connection.
    ``close=False`` leaves the parent's connections alone and gives this child new ones.
    """
    from storage.db import engine_for

    engine_for(get_settings().index_url).dispose(close=False)


@lru_cache(maxsize=1)
def ops_config() -> OpsConfig:
    return OpsConfig.from_settings(get_settings())


send = sender(app)


# Processing --------------------------------------------------------------------------------


_PROCESS_TASK_OPTIONS: dict[str, Any] = {
    "autoretry_for": transient_errors(),
    "retry_backoff": True,
    "retry_backoff_max": RETRY_BACKOFF_MAX,
    "retry_jitter": True,
    "max_retries": 8,
    "acks_late": True,
    "reject_on_worker_lost": True,
}


@app.task(name="tasks.process_capture", **_PROCESS_TASK_OPTIONS)
def process_capture_task(capture_id: int) -> None:
    """One capture (what the reconciler re-queues)."""
    _process([capture_id])


@app.task(name="tasks.process_captures", **_PROCESS_TASK_OPTIONS)
def process_captures_task(capture_ids: list[int]) -> None:
    """A batch of captures, stored in one transaction (what the crawler queues)."""
    _process(capture_ids)


def _process(capture_ids: list[int]) -> None:
    from tasks.pipeline import process_captures

    delay = ops_config().test_process_delay
    if delay > 0:
        time.sleep(delay)
    for outcome in process_captures(capture_ids, get_settings()):
        log.info("capture %s: %s", outcome.capture_id, outcome.result)


# Crawls ------------------------------------------------------------------------------------


@app.task(
    name="tasks.crawl_site",
    acks_late=False,  # a crawl outlives the visibility timeout: the lease, not the queue
    soft_time_limit=CRAWL_SOFT_LIMIT,
    time_limit=CRAWL_HARD_LIMIT,
)
def crawl_site_task(job_id: int) -> str:
    """Run crawl job ``job_id`` in its own process group, under the site's lease."""
    return crawls.supervise(get_settings(), job_id)


@app.task(
    name="tasks.scheduled_crawl",
    acks_late=False,
    soft_time_limit=CRAWL_SOFT_LIMIT,
    time_limit=CRAWL_HARD_LIMIT,
)
def scheduled_crawl_task(site: str, slot: str | None = None) -> str:
    """Fired by beat: record the run under its (entry, slot) key once, then crawl."""
    from sqlalchemy.exc import IntegrityError

    settings = get_settings()
    try:
        job_id = crawls.create_job(settings, site, schedule_key=slot, kind="scheduled")
    except IntegrityError:
        log.info("scheduled crawl %s already fired (another beat); skipped", slot)
        return "duplicate"
    except crawls.UnknownTarget:
        log.error("schedule for unknown site %r; remove it with `newsvault pause %s`", site, site)
        return "unknown_site"
    return crawls.supervise(settings, job_id)


# Maintenance -------------------------------------------------------------------------------


@app.task(
    name="tasks.reconcile",
    autoretry_for=transient_errors(),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=3,
)
def reconcile_task() -> dict[str, Any]:
    from tasks.reconcile import reconcile

    ops = ops_config()
    report = reconcile(
        get_settings().index_url,
        send,
        pending_after=ops.pending_after,
        queued_after=ops.queued_after,
    )
    return report.as_dict()


@app.task(
    name="tasks.recrawl",
    autoretry_for=transient_errors(),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=3,
)
def recrawl_task() -> list[int]:
    from tasks.reconcile import recrawl_due

    return recrawl_due(get_settings().index_url, send)
