"""Scheduled operation with real parts: Redis, PostgreSQL, workers and beat as processes.

The slow tests start `newsvault worker` / `newsvault beat` subprocesses (tests/workers.py)
against real Redis (databases 5-7 of 127.0.0.1:6379, flushed before and after; one test runs
its own redis-server) and a fresh PostgreSQL database. NEWSVAULT_TEST_PROCESS_DELAY makes
each processing task sleep first, so a test can kill a worker in the middle of one.

The fast tests run the lease, reconciler and re-crawl logic against SQLite.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import func, select

from newsvault.config import Settings, load_settings
from newsvault.demo import register_site, sample_site_definition
from newsvault.sample_site import EDITED_ARTICLE_PATH, REPUBLISHED_ARTICLE_PATH, SampleSiteServer
from newsvault.services.crawls import create_job, job_progress, run_job_here
from storage.db import migrate, session_scope
from storage.jobs import start_job
from storage.models import Article, Capture, Cluster, CrawlJob, Site, Version, utcnow
from tasks import leases
from tasks.reconcile import due_for_recrawl, reconcile, recrawl_due, recrawl_offsets
from tests.workers import (
    NotReady,
    free_port,
    run_cli,
    start_beat,
    start_redis,
    start_worker,
    wait_for,
)

REDIS_DBS = (5, 6, 7)


# Fixtures ----------------------------------------------------------------------------------


def _flush(port: int = 6379) -> None:
    for db in REDIS_DBS:
        redis.Redis(port=port, db=db).flushdb()


def _environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, db_url: str, redis_port: int = 6379
) -> dict[str, str]:
    base = f"redis://127.0.0.1:{redis_port}"
    values = {
        "NEWSVAULT_HOME": str(tmp_path / "data"),
        "NEWSVAULT_DATABASE_URL": db_url,
        "NEWSVAULT_BROKER_URL": f"{base}/{REDIS_DBS[0]}",
        "NEWSVAULT_REDIS_URL": f"{base}/{REDIS_DBS[1]}",
        "NEWSVAULT_REDBEAT_URL": f"{base}/{REDIS_DBS[2]}",
        "NEWSVAULT_ALLOWED_NETWORKS": "127.0.0.0/8",
        "NEWSVAULT_BEAT_MAX_INTERVAL": "1",
        "NEWSVAULT_REDBEAT_LOCK_TIMEOUT": "5",
        "NEWSVAULT_CRAWL_LEASE": "6",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return dict(os.environ)


@pytest.fixture
def ops(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, pg_url: str) -> Iterator[dict[str, Any]]:
    """Environment, settings and a Celery app for a distributed setup; processes cleaned up."""
    _flush()
    env = _environment(monkeypatch, tmp_path, pg_url)
    settings = load_settings()
    settings.ensure_home()
    migrate(settings.index_url)
    from tasks.celery_app import make_app

    procs: list[Any] = []
    context = {
        "env": env,
        "settings": settings,
        "app": make_app(settings),
        "procs": procs,
        "logs": tmp_path / "logs",
    }
    try:
        yield context
    finally:
        for proc in reversed(procs):
            proc.stop()
        context["app"].close()
        _flush()


@pytest.fixture
def sample(ops: dict[str, Any]) -> Iterator[SampleSiteServer]:
    with SampleSiteServer(port=0) as server:
        register_site(ops["settings"], sample_site_definition(server.url))
        yield server


def _worker(ops: dict[str, Any], **kwargs: Any) -> Any:
    proc = start_worker(ops["env"], ops["logs"], **kwargs)
    ops["procs"].append(proc)
    return proc


def _jobs(settings: Settings, **where: Any) -> list[CrawlJob]:
    with session_scope(settings.index_url) as session:
        query = select(CrawlJob).order_by(CrawlJob.id)
        for name, value in where.items():
            query = query.where(getattr(CrawlJob, name) == value)
        return list(session.scalars(query))


def _pending(settings: Settings) -> int:
    with session_scope(settings.index_url) as session:
        return int(
            session.scalar(select(func.count(Capture.id)).where(Capture.process_state == "pending"))
            or 0
        )


def _finished_and_processed(settings: Settings, job_id: int) -> bool:
    progress = job_progress(settings, job_id)
    return progress.state in ("done", "failed", "skipped") and (
        progress.processed >= progress.captures
    )


def _assert_one_version_per_article(settings: Settings) -> None:
    with session_scope(settings.index_url) as session:
        articles = session.scalar(select(func.count(Article.id))) or 0
        versions = session.scalar(select(func.count(Version.id))) or 0
        counts = set(session.scalars(select(Article.version_count)))
    assert articles > 5
    assert versions == articles
    assert counts == {1}


def _assert_warcs_verify(settings: Settings) -> None:
    from storage.warc import verify_file

    files = sorted(settings.warc_dir.rglob("*.warc.gz"))
    assert files
    for path in files:
        assert verify_file(path) == [], path


# Schedules on a running beat; a re-crawl catches an edit ------------------------------------


@pytest.mark.slow
@pytest.mark.pg
@pytest.mark.redis
def test_schedule_fires_changes_pauses_and_recrawl_catches_edit(
    ops: dict[str, Any], sample: SampleSiteServer
) -> None:
    settings, env = ops["settings"], ops["env"]
    _worker(ops, queues="crawl", name="crawl1", concurrency=2)
    _worker(ops, queues="process", name="proc1", concurrency=2)
    ops["procs"].append(start_beat(env, ops["logs"]))

    # A long schedule does not fire now ...
    assert run_cli(env, "sites", "schedule", "sample", "1h").returncode == 0
    time.sleep(3)
    assert _jobs(settings, kind="scheduled") == []

    # ... changing it on the running beat makes the next crawl fire within seconds.
    changed = time.monotonic()
    result = run_cli(env, "sites", "schedule", "sample", "3s")
    assert result.returncode == 0, result.stderr
    wait_for(lambda: _jobs(settings, kind="scheduled"), 10, what="a scheduled crawl")
    assert time.monotonic() - changed < 10

    def done_scheduled(after: Any = None) -> list[CrawlJob]:
        return [
            job
            for job in _jobs(settings, kind="scheduled", state="done")
            if (after is None or (job.started_at and job.started_at > after))
            and _finished_and_processed(settings, job.id)
        ]

    wait_for(done_scheduled, 40, what="a finished scheduled crawl")

    # The site edits an article; the next scheduled crawl archives version 2 with its diff.
    sample.set_edition(2)
    edited_at = utcnow()
    wait_for(lambda: done_scheduled(edited_at), 40, what="a crawl after the edit")

    # Pausing stops them.
    assert run_cli(env, "sites", "pause", "sample").returncode == 0
    wait_for(
        lambda: not [j for j in _jobs(settings) if j.state in ("queued", "running")],
        30,
        what="in-flight crawls to end",
    )
    before = len(_jobs(settings))
    time.sleep(5)
    assert len(_jobs(settings)) == before

    with session_scope(settings.index_url) as session:
        article = session.scalar(
            select(Article).where(Article.canonical_url.endswith(EDITED_ARTICLE_PATH))
        )
        assert article is not None
        assert article.version_count == 2
        second = session.scalar(
            select(Version).where(Version.article_id == article.id, Version.number == 2)
        )
        assert second is not None and second.words_added > 0
    scheduled = _jobs(settings, kind="scheduled")
    # Every scheduled run carries its (entry, slot) key; overlapping runs were skipped.
    assert all(
        job.schedule_key and job.schedule_key.startswith("site:sample@") for job in scheduled
    )
    assert {job.state for job in scheduled} <= {"done", "skipped"}

    status = run_cli(env, "status", "--format", "json")
    assert status.returncode == 0, status.stderr
    import json

    report = json.loads(status.stdout)
    (site,) = report["sites"]
    assert site["schedule"]["enabled"] is False
    assert site["last_crawl"]["state"] == "done"
    assert len(report["workers"]) == 2


# A site saved through the API is scheduled exactly as through the CLI ------------------------


@pytest.mark.slow
@pytest.mark.pg
@pytest.mark.redis
def test_site_schedule_saved_through_the_api_fires_on_the_running_beat(
    ops: dict[str, Any],
) -> None:
    from fastapi.testclient import TestClient

    from newsvault.api import create_app
    from newsvault.services import schedules

    settings, env = ops["settings"], ops["env"]
    _worker(ops, queues="crawl", name="crawl1", concurrency=1)
    _worker(ops, queues="process", name="proc1", concurrency=1)
    ops["procs"].append(start_beat(env, ops["logs"]))
    token = {"Authorization": "Bearer s3cret"}
    api_settings = settings.model_copy(update={"api_token": "s3cret"})

    with SampleSiteServer(port=0) as server, TestClient(create_app(api_settings)) as client:
        definition = {**sample_site_definition(server.url), "schedule": "1h"}
        created = client.post("/api/sites", json=definition, headers=token)
        assert created.status_code == 201, created.text
        # The entry the running beat reads is the one `sites schedule sample 1h` writes.
        via_api = schedules.get(settings, "sample")
        assert via_api is not None and via_api.enabled
        assert created.json()["schedule"]["schedule"] == via_api.expression
        assert run_cli(env, "sites", "schedule", "sample", "1h").returncode == 0
        via_cli = schedules.get(settings, "sample")
        assert via_cli is not None and via_cli.expression == via_api.expression
        time.sleep(3)
        assert _jobs(settings, kind="scheduled") == []

        # Editing the site through the API moves its schedule on the running beat.
        edited = client.put(
            "/api/sites/sample", json={**definition, "schedule": "3s"}, headers=token
        )
        assert edited.status_code == 200, edited.text
        changed = time.monotonic()
        wait_for(lambda: _jobs(settings, kind="scheduled"), 15, what="a scheduled crawl")
        assert time.monotonic() - changed < 15
        wait_for(
            lambda: any(
                _finished_and_processed(settings, job.id)
                for job in _jobs(settings, kind="scheduled", state="done")
            ),
            60,
            what="a finished scheduled crawl",
        )

        # The site has captures now: removing it takes force, as on the command line, and
        # takes its schedule off the beat; its captures stay.
        refused = client.delete("/api/sites/sample", headers=token)
        assert refused.status_code == 409
        assert "force" in refused.json()["message"]
        removed = client.delete("/api/sites/sample", params={"force": "true"}, headers=token)
        assert removed.status_code == 204
        assert schedules.get(settings, "sample") is None
    with session_scope(settings.index_url) as session:
        assert session.scalar(select(Site).where(Site.name == "sample")) is None
        assert (session.scalar(select(func.count(Capture.id))) or 0) > 0


# A process worker SIGKILLed in the middle of a task ----------------------------------------


@pytest.mark.slow
@pytest.mark.pg
@pytest.mark.redis
def test_sigkill_process_worker_mid_task_redelivers_once(
    ops: dict[str, Any], sample: SampleSiteServer
) -> None:
    settings, app = ops["settings"], ops["app"]
    worker = _worker(
        ops,
        queues="process",
        name="proc1",
        concurrency=2,
        # Long enough that the batch is still running when the kill lands (a sample-site
        # crawl is three batches).
        extra_env={"NEWSVAULT_TEST_PROCESS_DELAY": "2"},
    )
    job_id = create_job(settings, "sample")
    # Crawled from here (a crawl worker is not the point); its captures go to the queue.
    run_job_here(settings, job_id)

    def busy() -> list[dict[str, Any]]:
        replies = app.control.inspect(timeout=1.0).active() or {}
        return [task for tasks in replies.values() for task in tasks]

    victim = wait_for(busy, 20, interval=0.1, what="a task in progress")[0]  # type: ignore[index]
    batch = victim["args"][0]  # the crawler queues captures in batches
    os.kill(victim["worker_pid"], signal.SIGKILL)

    wait_for(lambda: _pending(settings) == 0, 90, what="every capture processed")
    assert worker.alive()
    wait_for(
        lambda: "WorkerLostError" in worker.log() or "SIGKILL" in worker.log(),
        10,
        what="the worker to report the lost task",
    )
    with session_scope(settings.index_url) as session:
        states = session.scalars(select(Capture.process_state).where(Capture.id.in_(batch)))
        assert set(states) <= {"done", "skipped"}
        errors = session.scalar(
            select(func.count(Capture.id)).where(Capture.process_state == "error")
        )
    assert errors == 0
    _assert_one_version_per_article(settings)
    _assert_warcs_verify(settings)


# Two crawl requests for one site at once ---------------------------------------------------


@pytest.mark.slow
@pytest.mark.pg
@pytest.mark.redis
def test_two_crawl_requests_one_runs_one_skipped(
    ops: dict[str, Any], sample: SampleSiteServer
) -> None:
    settings, app = ops["settings"], ops["app"]
    _worker(ops, queues="crawl", name="crawl1", concurrency=2)
    first = create_job(settings, "sample")
    second = create_job(settings, "sample")
    for job_id in (first, second):
        app.send_task("tasks.crawl_site", args=[job_id], queue="crawl")
    wait_for(
        lambda: all(
            j.state in ("done", "failed", "skipped") and j.lease_until is None
            for j in _jobs(settings)
        ),
        60,
        what="both jobs to end and free their lease",
    )
    states = sorted(job.state for job in _jobs(settings))
    assert states == ["done", "skipped"]
    (skipped,) = _jobs(settings, state="skipped")
    assert "was running" in (skipped.message or "")

    # `newsvault crawl --wait` queues a crawl and returns once it and its processing are done.
    _worker(ops, queues="process", name="proc1", concurrency=2)
    result = run_cli(ops["env"], "crawl", "sample", "--wait", "--format", "json", timeout=90)
    assert result.returncode == 0, result.stderr
    import json

    summary = json.loads(result.stdout)
    assert summary["state"] == "done"
    last = _jobs(settings)[-1]
    assert job_progress(settings, last.id).processed == job_progress(settings, last.id).captures


# Two process workers on the same capture ---------------------------------------------------


@pytest.mark.slow
@pytest.mark.pg
@pytest.mark.redis
def test_two_workers_on_one_capture_store_one_version(
    ops: dict[str, Any], sample: SampleSiteServer
) -> None:
    settings, app = ops["settings"], ops["app"]
    run_job_here(settings, create_job(settings, "sample"))  # no worker yet: all stay pending
    redis.Redis.from_url(settings.broker_url or "").delete("process")
    with session_scope(settings.index_url) as session:
        ids = list(session.scalars(select(Capture.id).where(Capture.process_state == "pending")))
    assert ids
    for capture_id in ids:  # each capture twice, under two task ids: two workers race on it
        for copy in ("a", "b"):
            app.send_task(
                "tasks.process_capture",
                args=[capture_id],
                queue="process",
                task_id=f"race-{copy}-{capture_id}",
            )
    delay = {"NEWSVAULT_TEST_PROCESS_DELAY": "0.2"}
    _worker(ops, queues="process", name="procA", extra_env=delay)
    _worker(ops, queues="process", name="procB", extra_env=delay)

    wait_for(lambda: _pending(settings) == 0, 60, what="every capture processed")
    wait_for(
        lambda: redis.Redis.from_url(settings.broker_url or "").llen("process") == 0,
        30,
        what="both copies consumed",
    )
    time.sleep(1)  # the last duplicate finishes its (no-op) run
    _assert_one_version_per_article(settings)
    with session_scope(settings.index_url) as session:
        republished = session.scalars(
            select(Article).where(Article.canonical_url.contains(REPUBLISHED_ARTICLE_PATH))
        ).all()
        cluster_ids = {a.cluster_id for a in session.scalars(select(Article))} - {None}
        clusters = session.scalar(select(func.count(Cluster.id)))
    # One cluster per story, no orphan cluster left by the losing duplicate.
    assert clusters == len(cluster_ids)
    assert all(a.cluster_id is not None for a in republished)


def _own_redis(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, pg_url: str
) -> tuple[int, Path, Any, dict[str, str], Settings, Any]:
    """A Redis of the test's own (to stop and start), the environment, settings and app."""
    port = free_port()
    logs = tmp_path / "logs"
    redis_proc = start_redis(port, logs)
    env = _environment(monkeypatch, tmp_path, pg_url, redis_port=port)
    settings = load_settings()
    settings.ensure_home()
    migrate(settings.index_url)
    from tasks.celery_app import make_app

    return port, logs, redis_proc, env, settings, make_app(settings)


# Redis stops during a crawl ----------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.pg
def test_redis_restart_during_crawl_loses_no_capture(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, pg_url: str
) -> None:
    port, logs, redis_proc, env, settings, app = _own_redis(monkeypatch, tmp_path, pg_url)
    procs = []
    try:
        with SampleSiteServer(port=0) as server:
            register_site(settings, sample_site_definition(server.url))
            procs.append(start_worker(env, logs, queues="crawl", name="crawl1"))
            procs.append(start_worker(env, logs, queues="process", name="proc1", concurrency=2))
            # Slow enough to stop Redis in the middle: ~0.25 s between requests.
            job_id = create_job(settings, "sample", options={"delay": 0.25, "concurrency": 1})
            app.send_task("tasks.crawl_site", args=[job_id], queue="crawl")
            wait_for(lambda: job_progress(settings, job_id).captures >= 4, 30, what="captures")

            redis_proc.kill()  # no persistence: every queued message is gone
            time.sleep(2)
            redis_proc = start_redis(port, logs)

            wait_for(
                lambda: job_progress(settings, job_id).state in ("done", "failed"),
                90,
                what="the crawl to end",
            )
            job = _jobs(settings)[0]
            assert job.state == "done", job.message

            def send(task: str, args: list[Any], queue: str, task_id: str) -> None:
                app.send_task(task, args=args, queue=queue, task_id=task_id)

            def reconciled() -> bool:
                reconcile(settings.index_url, send, pending_after=2, queued_after=3600)
                return _pending(settings) == 0

            try:
                wait_for(reconciled, 90, interval=2, what="the reconciler to finish processing")
            except NotReady:
                # kombu's Redis transport can give up on the broker loss ("Unrecoverable
                # error") and the worker's shutdown can then hang: the captures are not lost,
                # they wait in the index. A fresh worker, as a supervisor would start, takes them.
                assert "Unrecoverable error" in procs[-1].log(), procs[-1].log()[-3000:]
                procs[-1].kill()
                procs.append(start_worker(env, logs, queues="process", name="proc2", concurrency=2))
                wait_for(reconciled, 90, interval=2, what="a fresh worker to finish processing")
        with session_scope(settings.index_url) as session:
            archived = session.scalar(
                select(func.count(Capture.id)).where(Capture.crawl_job_id == job_id)
            )
        # Every response fetched is in the index (pages_fetched counts archived responses).
        assert archived == job.stats["pages_fetched"]
        _assert_warcs_verify(settings)
        _assert_one_version_per_article(settings)
    finally:
        for proc in reversed(procs):
            proc.stop()
        app.close()
        redis_proc.kill()


@pytest.mark.slow
@pytest.mark.pg
def test_worker_survives_redis_going_away_with_a_task_in_flight(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, pg_url: str
) -> None:
    # kombu's Redis transport can stop a worker with "Unrecoverable error" when the broker
    # goes away while a late-acked task runs; `newsvault worker` then starts over.
    port, logs, redis_proc, env, _, app = _own_redis(monkeypatch, tmp_path, pg_url)
    worker = start_worker(
        env, logs, queues="process", name="proc1", extra_env={"NEWSVAULT_TEST_PROCESS_DELAY": "3"}
    )
    try:
        app.send_task("tasks.process_captures", args=[[10**9]], queue="process")
        wait_for(lambda: "received" in worker.log(), 20, what="the task to start")
        redis_proc.kill()
        time.sleep(2)
        redis_proc = start_redis(port, logs)
        wait_for(
            lambda: worker.log().count(" ready.") >= 2 or "succeeded" in worker.log(),
            120,  # a restart re-imports and re-loads the language model: slow on a busy machine
            what="the worker to carry on",
        )
        assert worker.alive()
        app.send_task("tasks.process_captures", args=[[10**9 + 1]], queue="process")
        wait_for(lambda: "capture 1000000001: error" in worker.log(), 30, what="a new task")
    finally:
        worker.stop()
        app.close()
        redis_proc.kill()


# Fast: leases, reconciler, re-crawl policy (SQLite) ----------------------------------------


def _site(settings: Settings, name: str = "s", **extra: Any) -> int:
    definition = {"name": name, "start": {"sections": ["http://127.0.0.1:9/"]}, **extra}
    register_site(settings, definition)
    with session_scope(settings.index_url) as session:
        site_id = session.scalar(select(Site.id).where(Site.name == name))
    assert site_id is not None
    return site_id


def test_lease_second_request_is_skipped_and_duplicate_is_ignored(settings: Settings) -> None:
    _site(settings)
    first, second = create_job(settings, "s"), create_job(settings, "s")
    url = settings.index_url
    assert leases.acquire(url, first, "w:1", ttl=60) is leases.Claim.acquired
    assert leases.acquire(url, first, "w:2", ttl=60) is leases.Claim.duplicate
    assert leases.acquire(url, second, "w:2", ttl=60) is leases.Claim.skipped
    assert leases.renew(url, first, "w:1", ttl=60)
    assert not leases.renew(url, first, "w:9", ttl=60)
    leases.release(url, first, "w:1")
    third = create_job(settings, "s")
    assert leases.acquire(url, third, "w:3", ttl=60) is leases.Claim.acquired


def test_reconciler_restarts_expired_crawl_and_requeues_pending(settings: Settings) -> None:
    _site(settings)
    job_id = create_job(settings, "s", options={"delay": 1})
    url = settings.index_url
    assert leases.acquire(url, job_id, "dead:1", ttl=0.01) is leases.Claim.acquired
    time.sleep(0.05)
    sent: list[tuple[str, list[Any], str, str]] = []

    def send(task: str, args: list[Any], queue: str, task_id: str) -> None:
        sent.append((task, args, queue, task_id))

    report = reconcile(url, send, pending_after=60, queued_after=3600)
    assert report.restarted_jobs == [job_id]
    old, new = _jobs(settings)
    assert old.state == "failed" and "restarted as crawl job" in (old.message or "")
    assert new.state == "queued" and new.attempt == 2 and new.restart_of == job_id
    assert new.stats["options"] == {"delay": 1}
    assert sent == [("tasks.crawl_site", [new.id], "crawl", f"crawl-job-{new.id}")]
    # A second pass changes nothing.
    sent.clear()
    assert reconcile(url, send, pending_after=60, queued_after=3600).restarted_jobs == []
    assert sent == []
    # A job still queued long after it was queued is sent again.
    report = reconcile(
        url, send, pending_after=60, queued_after=0, now=utcnow() + timedelta(seconds=1)
    )
    assert report.resent_jobs == [new.id]


def test_recrawl_policy_is_a_decaying_schedule() -> None:
    offsets = recrawl_offsets(None)
    assert [o.total_seconds() / 3600 for o in offsets] == [1, 6, 24, 72, 168]
    first = utcnow() - timedelta(hours=2)
    assert due_for_recrawl(first, first, utcnow(), offsets)  # the 1 h moment passed
    assert not due_for_recrawl(first, first + timedelta(hours=1.5), utcnow(), offsets)
    assert due_for_recrawl(first, first + timedelta(hours=1.5), first + timedelta(hours=7), offsets)
    assert not due_for_recrawl(
        first, first + timedelta(days=8), first + timedelta(days=30), offsets
    )
    assert [o.total_seconds() for o in recrawl_offsets({"recrawl": ["30m", "2h"]})] == [1800, 7200]


def test_recrawl_job_fetches_due_articles_as_articles(settings: Settings) -> None:
    with SampleSiteServer(port=0) as server:
        definition = sample_site_definition(server.url) | {"recrawl": ["1h", "1d"]}
        register_site(settings, definition)
        run_job_here(settings, create_job(settings, "sample"))
        with session_scope(settings.index_url) as session:
            count = session.scalar(select(func.count(Article.id)))
        assert count
        sent: list[Any] = []
        later = utcnow() + timedelta(hours=2)
        (job_id,) = recrawl_due(settings.index_url, lambda *a: sent.append(a), now=later)
        assert sent == [("tasks.crawl_site", [job_id], "crawl", f"crawl-job-{job_id}")]
        # While that re-crawl is queued, no second one is created for the site.
        assert recrawl_due(settings.index_url, lambda *a: None, now=later) == []
        (job,) = _jobs(settings, kind="recrawl")
        urls = job.stats["options"]["urls"]
        assert len(urls) == count
        run_job_here(settings, job_id)
    with session_scope(settings.index_url) as session:
        kinds = set(session.scalars(select(Capture.kind).where(Capture.crawl_job_id == job_id))) - {
            "robots"
        }
        finished = session.get(CrawlJob, job_id)
    assert kinds == {"article"}
    assert finished is not None and finished.state == "done"


def test_start_job_narrows_a_recrawl_to_its_urls(settings: Settings) -> None:
    _site(settings, politeness={"delay": 0.5})
    job_id = create_job(settings, "s", options={"urls": ["http://127.0.0.1:9/a.html"]})
    spec = start_job(settings.index_url, job_id)
    assert spec.definition is not None
    assert spec.definition["start"] == {"articles": ["http://127.0.0.1:9/a.html"]}
    assert spec.definition["limits"]["max_pages"] == 1
    assert spec.definition["politeness"]["delay"] == 0.5  # the site's own politeness kept


def test_crawl_process_dies_with_its_parent(tmp_path: Path) -> None:
    """The parent-death signal the crawler sets first (crawler/lifecycle.py)."""
    script = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', "
        "'from crawler.lifecycle import set_parent_death_signal as s; s(); "
        "import time; time.sleep(60)'])\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child_pid = int(parent.stdout.readline())
    time.sleep(0.5)  # the child has set its signal
    parent.kill()
    parent.wait()

    def gone() -> bool:
        try:
            os.kill(child_pid, 0)
        except ProcessLookupError:
            return True
        # A zombie awaiting reaping by init also counts as dead.
        stat = Path(f"/proc/{child_pid}/stat")
        return stat.exists() and stat.read_text().split()[2] == "Z"

    wait_for(gone, 10, what="the orphaned crawl to die")
