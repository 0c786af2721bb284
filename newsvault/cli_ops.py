"""Operations commands: `status`, `schedule`, `pause`, `resume`; queueing a crawl.

``newsvault sites schedule|pause|resume`` take a site name and call the schedules service
(newsvault/services/schedules.py), which edits the site's RedBeat entry in Redis: the running
beat picks the change up within seconds. The API and the web UI call the same service.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from newsvault.cli_common import console, fail, fail_with, print_json, ready_index, settings_or_exit
from newsvault.cli_text import styled
from newsvault.services import crawls, schedules
from newsvault.services.errors import ServiceError

if TYPE_CHECKING:
    from celery import Celery

    from newsvault.config import Settings


def register(app: typer.Typer) -> None:
    app.command()(status)


def register_site_commands(sites_app: typer.Typer) -> None:
    """``newsvault sites schedule|pause|resume``: they act on a site's schedule entry."""
    sites_app.command()(schedule)
    sites_app.command()(pause)
    sites_app.command()(resume)


def _celery(settings: Settings) -> Celery:
    from tasks.app import app_for

    return app_for(settings)


# Schedules ---------------------------------------------------------------------------------


def schedule(
    name: Annotated[str, typer.Argument(help="Site name.")],
    expression: Annotated[
        str, typer.Argument(help="Cron ('*/15 * * * *') or interval ('30m', '6h').")
    ],
) -> None:
    """Crawl a site on a schedule (takes effect on the running beat, no restart)."""
    settings = ready_index(settings_or_exit())
    try:
        info = schedules.set_schedule(settings, name, expression)
    except ServiceError as exc:
        fail_with(exc)
    console.print(
        styled(
            "{name}: every [cyan]{expression}[/], next run {when}",
            name=name,
            expression=info.expression,
            when=_when(info.next_run_at),
            highlight=True,
        )
    )


def pause(name: Annotated[str, typer.Argument(help="Site name.")]) -> None:
    """Stop a site's scheduled crawls until `resume`."""
    try:
        schedules.pause(ready_index(settings_or_exit()), name)
    except ServiceError as exc:
        fail_with(exc)
    console.print(f"{name}: paused")


def resume(name: Annotated[str, typer.Argument(help="Site name.")]) -> None:
    """Restart a paused site's scheduled crawls (the next one after a full period)."""
    try:
        info = schedules.resume(ready_index(settings_or_exit()), name)
    except ServiceError as exc:
        fail_with(exc)
    console.print(f"{name}: resumed, next run {_when(info.next_run_at)}")


# Crawl now (called by `newsvault crawl` in distributed mode) -------------------------------


def queue_crawl(settings: Settings, job_id: int, target: str, *, wait: bool) -> str:
    """Queue crawl job ``job_id``; with ``wait``, follow it and its processing to the end.

    Returns the job's final state (or "queued" without ``wait``).
    """
    from newsvault import output

    try:
        crawls.queue(settings, job_id)
    except Exception as exc:  # the job stays queued; the reconciler sends it later
        fail(f"crawl job {job_id} recorded but the broker is unreachable ({exc})", 2)
    if not wait:
        console.print(f"queued crawl job {job_id} of {target}")
        return "queued"
    with output.crawl_progress(console, target) as report:
        return crawls.wait_for(settings, job_id, report).state


# Status ------------------------------------------------------------------------------------


def status(
    format: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
) -> None:
    """Queues, workers, each site's schedule, last crawl, next run and health."""

    if format not in ("text", "json"):
        fail("--format: use text or json", 2)
    settings = ready_index(settings_or_exit())
    report = collect_status(settings, None if settings.embedded else _celery(settings))
    if format == "json":
        print_json(report)
        return
    _print_status(console, report)


def collect_status(settings: Settings, app: Celery | None) -> dict[str, Any]:
    """What `status` shows; ``app`` is None in embedded mode (no broker, no schedules)."""
    from tasks.schedules import list_schedules

    now = datetime.now(UTC)
    if app is None:
        return {
            "at": now.isoformat(),
            "queues": {"crawl": None, "process": None},
            "workers": [],
            "schedules_error": "embedded mode: no broker, so no queues and no schedules "
            "(set NEWSVAULT_BROKER_URL to run scheduled)",
            "sites": _sites(settings, {}, now),
        }
    try:
        schedule_map = {info.site: info for info in list_schedules(app)}
        schedule_error = None
    except Exception as exc:  # Redis down: say so, show the rest from the index
        schedule_map, schedule_error = {}, str(exc)
    return {
        "at": now.isoformat(),
        "queues": _queue_depths(settings),
        "workers": _workers(app),
        "schedules_error": schedule_error,
        "sites": _sites(settings, schedule_map, now),
    }


def _queue_depths(settings: Settings) -> dict[str, int | None]:
    import redis

    assert settings.broker_url is not None
    try:
        client = redis.Redis.from_url(settings.broker_url, socket_timeout=2)
        return {name: int(client.llen(name)) for name in ("crawl", "process")}
    except redis.RedisError:
        return {"crawl": None, "process": None}


def _workers(app: Celery) -> list[str]:
    try:
        replies = app.control.inspect(timeout=1.0).ping() or {}
    except Exception:
        return []
    return sorted(replies)


def _sites(settings: Settings, schedule_map: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    from sqlalchemy import func, select

    from storage.db import session_scope
    from storage.models import CrawlJob, FetchEvent, Site
    from tasks.health import evaluate, failing_repeatedly, load_history

    sites = []
    with session_scope(settings.index_url) as session:
        for site in session.scalars(select(Site).order_by(Site.name)):
            last = session.scalar(
                select(CrawlJob)
                .where(
                    CrawlJob.site_id == site.id,
                    CrawlJob.state.in_(("done", "failed")),
                )
                .order_by(CrawlJob.finished_at.desc())
                .limit(1)
            )
            running = session.scalar(
                select(CrawlJob.id)
                .where(CrawlJob.site_id == site.id, CrawlJob.state == "running")
                .limit(1)
            )
            history = load_history(session, site.id)
            info = schedule_map.get(site.name)
            entry: dict[str, Any] = {
                "site": site.name,
                "schedule": info.as_dict() if info else None,
                "next_run_at": info.next_run_at.isoformat() if info and info.next_run_at else None,
                "running_job": running,
                "failing": failing_repeatedly(history),
                "health": [flag.as_dict() for flag in evaluate(history, now)],
                "last_crawl": None,
            }
            if last is not None:
                stats = last.stats or {}
                # A link robots.txt forbids is politeness working, not an error.
                errors = session.scalar(
                    select(func.count(FetchEvent.id)).where(
                        FetchEvent.crawl_job_id == last.id, FetchEvent.kind != "robots"
                    )
                )
                duration = (
                    (last.finished_at - last.started_at).total_seconds()
                    if last.finished_at and last.started_at
                    else None
                )
                entry["last_crawl"] = {
                    "job_id": last.id,
                    "kind": last.kind,
                    "state": last.state,
                    "started_at": last.started_at.isoformat() if last.started_at else None,
                    "finished_at": last.finished_at.isoformat() if last.finished_at else None,
                    "duration_s": duration,
                    "pages_fetched": stats.get("pages_fetched"),
                    "captures_archived": stats.get("captures_archived"),
                    "articles_found": stats.get("articles_found"),
                    "errors": errors or 0,
                    "message": last.message,
                }
            sites.append(entry)
    return sites


def _when(value: datetime | None) -> str:
    if value is None:
        return "-"
    seconds = (value - datetime.now(UTC)).total_seconds()
    if seconds < 0:
        return "now"
    if seconds < 120:
        return f"in {seconds:.0f} s"
    if seconds < 7200:
        return f"in {seconds / 60:.0f} min"
    return value.strftime("%Y-%m-%d %H:%M UTC")


def _print_status(console: Any, report: dict[str, Any]) -> None:
    queues = report["queues"]
    depth = ", ".join(f"{k} {'?' if v is None else v}" for k, v in queues.items())
    workers = report["workers"]
    console.print(f"queues: {depth}")
    console.print(
        f"workers: {len(workers)} alive" + (f" ({', '.join(workers)})" if workers else "")
    )
    if report["schedules_error"]:
        console.print(
            styled(
                "[yellow]schedules unavailable:[/] {error}",
                error=report["schedules_error"],
                highlight=True,
            )
        )
    table = Table(title="sites")
    for column in ("site", "schedule", "next run", "last crawl", "took", "counts", "health"):
        table.add_column(column)
    for site in report["sites"]:
        sched = site["schedule"]
        expr = (
            "-" if sched is None else sched["schedule"] + ("" if sched["enabled"] else " (paused)")
        )
        nxt = site["next_run_at"]
        last = site["last_crawl"]
        if last is None:
            when, took, counts = "never", "-", "-"
        else:
            when = f"{last['finished_at'][:19]} {last['state']}"
            took = f"{last['duration_s']:.0f} s" if last["duration_s"] is not None else "-"
            counts = (
                f"{last['pages_fetched'] or 0} pages, {last['articles_found'] or 0} articles, "
                f"{last['errors']} errors"
            )
        flags = [flag["kind"] for flag in site["health"]]
        if site["failing"]:
            flags.insert(0, "FAILING")
        if site["running_job"]:
            when = f"running (job {site['running_job']}); " + when
        table.add_row(
            site["site"],
            expr,
            _when(datetime.fromisoformat(nxt)) if nxt else "-",
            when,
            took,
            counts,
            ", ".join(flags) or "ok",
        )
    console.print(table)
