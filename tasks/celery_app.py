"""The Celery app: two queues, ``crawl`` and ``process``; the tasks only wire steps to Celery.

Crawls are long and run in their own process (a Twisted reactor cannot restart), so the
crawl task acknowledges early and keeps its lease in the index database (tasks/leases.py);
processing tasks are short and idempotent, so they acknowledge late and are redelivered if
a worker dies. The index, not the queue, is the record of work: the reconciler
(tasks/reconcile.py) re-queues whatever a lost message left undone.

Operational knobs come from ``Settings`` (``NEWSVAULT_RECONCILE_EVERY`` and friends), gathered
in :class:`OpsConfig`; every one has a production default.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from celery import Celery
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_process_init
from kombu import Queue

from newsvault.config import Settings, get_settings

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
    def from_settings(cls, settings: Settings) -> OpsConfig:
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


def make_app(settings: Settings | None = None) -> Celery:
    settings = settings or get_settings()
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


app = make_app()


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


def send(task: str, args: list[Any], queue: str, task_id: str) -> None:
    """Publish one task (the reconciler's and the CLI's way to queue work)."""
    app.send_task(task, args=args, queue=queue, task_id=task_id)


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
    return supervise_crawl(get_settings(), job_id)


@app.task(
    name="tasks.scheduled_crawl",
    acks_late=False,
    soft_time_limit=CRAWL_SOFT_LIMIT,
    time_limit=CRAWL_HARD_LIMIT,
)
def scheduled_crawl_task(site: str, slot: str | None = None) -> str:
    """Fired by beat: record the run under its (entry, slot) key once, then crawl."""
    from sqlalchemy.exc import IntegrityError

    from newsvault.crawls import UnknownTarget, create_job

    settings = get_settings()
    try:
        job_id = create_job(settings, site, schedule_key=slot, kind="scheduled")
    except IntegrityError:
        log.info("scheduled crawl %s already fired (another beat); skipped", slot)
        return "duplicate"
    except UnknownTarget:
        log.error("schedule for unknown site %r; remove it with `newsvault pause %s`", site, site)
        return "unknown_site"
    return supervise_crawl(settings, job_id)


def supervise_crawl(settings: Settings, job_id: int) -> str:
    """Claim the lease, run ``python -m crawler``, renew while it runs, free it at the end."""
    from newsvault.crawls import crawl_log_path, crawler_command
    from tasks import leases

    ops = ops_config()
    owner = leases.lease_owner()
    claim = leases.acquire(settings.index_url, job_id, owner, ttl=ops.lease_seconds)
    if claim is not leases.Claim.acquired:
        log.info("crawl job %s: %s", job_id, claim)
        return str(claim)
    env = dict(os.environ, NEWSVAULT_CRAWL_PARENT_PID=str(os.getpid()))
    log_path = crawl_log_path(settings, job_id)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    outcome = "done"
    try:
        with log_path.open("ab") as log_file:
            # Own session = own process group: the whole crawl can be signalled at once.
            process = subprocess.Popen(
                crawler_command(job_id),
                env=env,
                start_new_session=True,
                stdout=log_file,
                stderr=log_file,
            )
        try:
            code = _wait_renewing(process, settings.index_url, job_id, owner, ops.lease_seconds)
            if code is None:
                outcome = "lease_lost"
                _stop_group(process)
                _mark_failed(settings, job_id, "lease lost (expired and restarted elsewhere)")
            elif code != 0:
                outcome = "failed"
                _mark_failed(settings, job_id, f"crawler exited with {code}; log: {log_path}")
        except SoftTimeLimitExceeded:
            outcome = "timed_out"
            _stop_group(process)
            _mark_failed(settings, job_id, "time limit reached; the crawl was stopped")
    finally:
        leases.release(settings.index_url, job_id, owner)
    _record_health(settings, job_id)
    return outcome


def _wait_renewing(
    process: subprocess.Popen[bytes], db_url: str, job_id: int, owner: str, ttl: float
) -> int | None:
    """The crawler's exit code; None if the lease was lost while it ran."""
    from tasks import leases

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


def _mark_failed(settings: Settings, job_id: int, message: str) -> None:
    from storage.db import session_scope
    from storage.models import CrawlJob, utcnow

    with session_scope(settings.index_url) as session:
        job = session.get(CrawlJob, job_id, with_for_update=True)
        if job is not None and job.state in ("queued", "running"):
            job.state = "failed"
            job.message = message
            job.finished_at = utcnow()


def _record_health(settings: Settings, job_id: int) -> None:
    """Store the site's health flags on the finished job (shown by `newsvault status`)."""
    from storage.db import session_scope
    from storage.models import CrawlJob, utcnow
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
