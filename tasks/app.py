"""The Celery app's configuration: two queues, time budgets, RedBeat, maintenance entries.

Crawls are long and run in their own process (a Twisted reactor cannot restart), so the
crawl task acknowledges early and keeps its lease in the index database (tasks/leases.py);
processing tasks are short and idempotent, so they acknowledge late and are redelivered if
a worker dies. The index, not the queue, is the record of work: the reconciler
(tasks/reconcile.py) re-queues whatever a lost message left undone.

This module builds apps; the task definitions (the worker's front end) are in
``tasks/celery_app.py``. Services and dispatch send tasks by name through
:func:`app_for`, so they never import the task definitions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from celery import Celery
from kombu import Queue

from tasks.config import TasksConfig

log = logging.getLogger(__name__)

# Time budgets, in the order the reliability notes require:
# crawl close timeout < soft limit < hard limit < broker visibility timeout, and the longest
# retry backoff < visibility timeout.
PROCESS_SOFT_LIMIT, PROCESS_HARD_LIMIT = 300, 360
CRAWL_SOFT_LIMIT, CRAWL_HARD_LIMIT = 3 * 3600, 3 * 3600 + 120
VISIBILITY_TIMEOUT = 4 * 3600
RETRY_BACKOFF_MAX = 300
# After SIGINT (Scrapy's graceful stop: closes the spider, finishes the WARC file), how long
# the crawl gets before SIGKILL. Fits between the soft and the hard limit.
CRAWL_GRACE_SECONDS = 60
assert CRAWL_SOFT_LIMIT + CRAWL_GRACE_SECONDS < CRAWL_HARD_LIMIT < VISIBILITY_TIMEOUT
assert RETRY_BACKOFF_MAX < VISIBILITY_TIMEOUT


@dataclass(frozen=True)
class OpsConfig:
    """Operational settings of workers and beat (from ``Settings``, documented defaults)."""

    # RedBeat's own Redis database (default: the broker's database number + 1).
    redbeat_url: str | None
    redbeat_key_prefix: str  # NEWSVAULT_REDBEAT_PREFIX
    beat_max_interval: float  # NEWSVAULT_BEAT_MAX_INTERVAL: beat re-reads Redis this often
    redbeat_lock_timeout: int  # NEWSVAULT_REDBEAT_LOCK_TIMEOUT: a dead beat's lock expires
    reconcile_every: float  # NEWSVAULT_RECONCILE_EVERY: seconds between reconciler runs
    pending_after: float  # NEWSVAULT_PENDING_AFTER: re-queue captures pending this long
    queued_after: float  # NEWSVAULT_QUEUED_AFTER: re-send crawl jobs queued this long
    recrawl_every: float  # NEWSVAULT_RECRAWL_EVERY: seconds between re-crawl policy runs
    lease_seconds: float  # NEWSVAULT_CRAWL_LEASE: lease length; renewed every third of it
    # Test hook (tests/test_celery_ops.py): each processing task sleeps this long first, so a
    # test can SIGKILL a worker in the middle of one. Never set it in production.
    test_process_delay: float  # NEWSVAULT_TEST_PROCESS_DELAY

    @classmethod
    def from_settings(cls, settings: TasksConfig) -> OpsConfig:
        return cls(
            redbeat_url=settings.redbeat_url or _next_db(settings.broker_url),
            redbeat_key_prefix=settings.redbeat_prefix,
            beat_max_interval=settings.beat_max_interval,
            redbeat_lock_timeout=settings.redbeat_lock_timeout,
            reconcile_every=settings.reconcile_every,
            pending_after=settings.pending_after,
            queued_after=settings.queued_after,
            recrawl_every=settings.recrawl_every,
            lease_seconds=settings.crawl_lease,
            test_process_delay=settings.test_process_delay,
        )


def _next_db(url: str | None) -> str | None:
    """The same Redis server, next database number: RedBeat's keys apart from the queues."""
    if not url:
        return None
    parts = urlsplit(url)
    current = parts.path.strip("/") or "0"
    number = (int(current) + 1) % 16 if current.isdigit() else 1
    return urlunsplit(parts._replace(path=f"/{number}"))


def transient_errors() -> tuple[type[BaseException], ...]:
    """Errors worth a retry with backoff: the broker, the database or the network blinked."""
    import kombu.exceptions
    import redis.exceptions
    import sqlalchemy.exc

    return (
        kombu.exceptions.OperationalError,
        redis.exceptions.ConnectionError,
        redis.exceptions.TimeoutError,
        sqlalchemy.exc.OperationalError,
        sqlalchemy.exc.InterfaceError,
        ConnectionError,
        TimeoutError,
    )


def make_app(settings: TasksConfig) -> Celery:
    """A Celery app on ``settings``' broker: queues, time budgets, RedBeat, maintenance entries."""
    ops = OpsConfig.from_settings(settings)
    broker = settings.broker_url or "memory://"
    app = Celery("newsvault", broker=broker)
    transport = {
        "visibility_timeout": VISIBILITY_TIMEOUT,
        # Fail a publish within seconds when Redis is down: the crawler carries on and the
        # reconciler queues what could not be sent.
        "max_retries": 3,
        "interval_start": 0,
        "interval_step": 0.5,
        "interval_max": 1,
    }
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        # No result backend: every state lives in the index database, no one reads results.
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_soft_time_limit=PROCESS_SOFT_LIMIT,
        task_time_limit=PROCESS_HARD_LIMIT,
        # The visibility timeout, in all three places Celery and Kombu read it.
        broker_transport_options=transport,
        result_backend_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT},
        visibility_timeout=VISIBILITY_TIMEOUT,
        task_publish_retry_policy={
            "max_retries": 3,
            "interval_start": 0,
            "interval_step": 0.5,
            "interval_max": 1,
        },
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # a worker waits for Redis, it does not exit
        worker_max_memory_per_child=400_000,  # KiB: a leaking child is replaced
        task_queues=[Queue("crawl"), Queue("process")],
        task_default_queue="process",
        task_routes={
            "tasks.crawl_site": {"queue": "crawl"},
            "tasks.scheduled_crawl": {"queue": "crawl"},
            "tasks.process_capture": {"queue": "process"},
            "tasks.process_captures": {"queue": "process"},
            "tasks.reconcile": {"queue": "process"},
            "tasks.recrawl": {"queue": "process"},
        },
        worker_hijack_root_logger=False,
        # RedBeat: its own database and key prefix; one active beat (the lock), standbys wait.
        beat_scheduler="tasks.schedules.KeyedScheduler",
        beat_max_loop_interval=ops.beat_max_interval,
        redbeat_redis_url=ops.redbeat_url or broker,
        redbeat_key_prefix=ops.redbeat_key_prefix,
        redbeat_lock_timeout=ops.redbeat_lock_timeout,
        redbeat_redis_options={"retry_period": 30},
        # Static maintenance entries; site schedules are added at run time (tasks/schedules).
        beat_schedule={
            "newsvault:reconcile": {
                "task": "tasks.reconcile",
                "schedule": ops.reconcile_every,
                "options": {"queue": "process", "expires": ops.reconcile_every * 2},
            },
            "newsvault:recrawl": {
                "task": "tasks.recrawl",
                "schedule": ops.recrawl_every,
                "options": {"queue": "process", "expires": ops.recrawl_every * 2},
            },
        },
    )
    return app


_apps: dict[str, Celery] = {}

# How a task is published: (task name, args, queue, task id). The reconciler takes one.
Send = Callable[[str, list[Any], str, str], None]


def app_for(settings: TasksConfig) -> Celery:
    """This process's app for ``settings``' broker, made once (for sending and schedules)."""
    key = settings.broker_url or "memory://"
    if key not in _apps:
        _apps[key] = make_app(settings)
    return _apps[key]


def sender(app: Celery) -> Send:
    """Publish one task on ``app`` (the reconciler's and the services' way to queue work)."""

    def send(task: str, args: list[Any], queue: str, task_id: str) -> None:
        app.send_task(task, args=args, queue=queue, task_id=task_id)

    return send
