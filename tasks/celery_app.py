"""The Celery app: two queues, ``crawl`` and ``process``; the tasks only wire steps to Celery.

Crawls are long and run in their own process (a Twisted reactor cannot restart), so the
crawl task acknowledges early and keeps its lease in the index database; processing tasks
are short and idempotent, so they acknowledge late and are redelivered if a worker dies.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from celery import Celery
from kombu import Queue

from newsvault.config import get_settings

# Time budgets, in the order the reliability notes require:
# crawl close timeout < soft limit < hard limit < broker visibility timeout.
PROCESS_SOFT_LIMIT, PROCESS_HARD_LIMIT = 300, 360
CRAWL_SOFT_LIMIT, CRAWL_HARD_LIMIT = 3 * 3600, 3 * 3600 + 120
VISIBILITY_TIMEOUT = 4 * 3600


def make_app() -> Celery:
    settings = get_settings()
    broker = settings.broker_url or "memory://"
    app = Celery("newsvault", broker=broker)
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_soft_time_limit=PROCESS_SOFT_LIMIT,
        task_time_limit=PROCESS_HARD_LIMIT,
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT},
        visibility_timeout=VISIBILITY_TIMEOUT,
        broker_connection_retry_on_startup=True,
        task_queues=[Queue("crawl"), Queue("process")],
        task_default_queue="process",
        task_routes={
            "tasks.crawl_site": {"queue": "crawl"},
            "tasks.process_capture": {"queue": "process"},
        },
        worker_hijack_root_logger=False,
    )
    return app


app = make_app()


@app.task(
    name="tasks.process_capture",
    autoretry_for=(ConnectionError, TimeoutError),
    retry_backoff=True,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=8,
)
def process_capture_task(capture_id: int) -> dict[str, Any]:
    from tasks.pipeline import process_capture

    outcome = process_capture(capture_id, get_settings())
    return {"result": outcome.result, "article_id": outcome.article_id, "version": outcome.version}


@app.task(
    name="tasks.crawl_site",
    acks_late=False,
    soft_time_limit=CRAWL_SOFT_LIMIT,
    time_limit=CRAWL_HARD_LIMIT,
)
def crawl_site_task(job_id: int) -> int:
    """Run crawl job ``job_id`` in its own process group; returns the crawler's exit code."""
    process = subprocess.Popen(
        [sys.executable, "-m", "crawler", "--job-id", str(job_id)],
        start_new_session=True,
    )
    return process.wait()
