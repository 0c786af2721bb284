"""Site schedules in Redis (celery-redbeat): set, pause, resume, list, on a running beat.

RedBeat reads its entries from Redis on every tick, so a change here takes effect on the
running beat within ``beat_max_loop_interval`` seconds, no restart. Two RedBeat pitfalls are
avoided on purpose:

* an existing entry is edited through ``from_key()`` + ``save()``: ``save()`` keeps the
  stored ``last_run_at`` (``HSETNX``), whereas a fresh entry with the same name would start
  counting a full period from now;
* RedBeat's lock is a lease, not a fence: two beats can both fire one run during a lock
  hand-over. :class:`KeyedScheduler` passes the entry's previous run time to the task, which
  records the crawl job under the unique ``schedule_key`` (entry, slot): the second fire of
  the same slot fails that constraint and does nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from celery import Celery
from celery.schedules import crontab, schedule
from redbeat import RedBeatScheduler, RedBeatSchedulerEntry
from redbeat.schedulers import get_redis

# Entry names of site schedules; the static maintenance entries use other names.
ENTRY_PREFIX = "site:"
SCHEDULED_CRAWL_TASK = "tasks.scheduled_crawl"

_INTERVAL = re.compile(
    r"^(?:every\s+)?(\d+)\s*(s|sec|secs|seconds?|m|min|mins|minutes?|h|hours?|d|days?)$", re.I
)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class ScheduleError(ValueError):
    """A schedule expression is invalid or names no schedule; the message says which."""


@dataclass(frozen=True)
class ScheduleInfo:
    site: str
    expression: str
    enabled: bool
    last_run_at: datetime | None
    next_run_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "schedule": self.expression,
            "enabled": self.enabled,
            "last_run_at": self.last_run_at.isoformat() if self.last_run_at else None,
            "next_run_at": self.next_run_at.isoformat() if self.next_run_at else None,
        }


# Pure: expressions <-> Celery schedules ----------------------------------------------------


def parse_duration(text: str) -> timedelta:
    """'30m', '6h', '3d', '45s', 'every 2 hours' -> timedelta."""
    match = _INTERVAL.match(str(text).strip())
    if match is None:
        raise ScheduleError(f"{text!r}: give an interval like '30s', '15m', '6h' or '3d'")
    amount = int(match.group(1))
    if amount <= 0:
        raise ScheduleError(f"{text!r}: an interval must be longer than zero")
    return timedelta(seconds=amount * _UNIT_SECONDS[match.group(2)[0].lower()])


def parse_schedule(expression: str) -> schedule:
    """A cron expression ('*/15 * * * *') or an interval ('30m') as a Celery schedule."""
    text = expression.strip()
    if _INTERVAL.match(text):
        return schedule(run_every=parse_duration(text))
    fields = text.split()
    if len(fields) != 5:
        raise ScheduleError(
            f"{expression!r}: use a cron expression ('*/15 * * * *') or an interval ('30m')"
        )
    minute, hour, day_of_month, month_of_year, day_of_week = fields
    try:
        parsed = crontab(
            minute=minute,
            hour=hour,
            day_of_month=day_of_month,
            month_of_year=month_of_year,
            day_of_week=day_of_week,
        )
    except ValueError as exc:
        raise ScheduleError(f"{expression!r}: {exc}") from None
    return parsed


def describe(sched: Any) -> str:
    """The expression back from a stored schedule (RedBeat stores the parsed form)."""
    if isinstance(sched, crontab):
        return " ".join(
            str(part)
            for part in (
                sched._orig_minute,
                sched._orig_hour,
                sched._orig_day_of_month,
                sched._orig_month_of_year,
                sched._orig_day_of_week,
            )
        )
    if isinstance(sched, schedule):
        seconds = int(sched.run_every.total_seconds())
        for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
            if seconds % size == 0:
                return f"{seconds // size}{unit}"
        return f"{seconds}s"
    return str(sched)


def slot_key(entry_name: str, last_run_at: datetime | None, now: datetime) -> str:
    """The idempotency key of one scheduled run: the entry and the run it follows.

    Two beats that fire the same due entry read the same ``last_run_at`` from Redis, so they
    compute the same key; the next run follows a new ``last_run_at`` and gets a new key.
    """
    anchor = last_run_at if last_run_at is not None else now.replace(microsecond=0)
    return f"{entry_name}@{anchor.astimezone(UTC).isoformat()}"


def entry_options(sched: Any) -> dict[str, Any]:
    """Message options of a site's runs: the crawl queue, and for intervals an expiry.

    A run still queued a full period later is stale (the next one is already due); expiring
    it keeps a busy crawl queue from building a backlog of runs of one site.
    """
    options: dict[str, Any] = {"queue": "crawl"}
    if isinstance(sched, schedule) and not isinstance(sched, crontab):
        options["expires"] = max(sched.run_every.total_seconds(), 1.0)
    return options


def entry_name(site: str) -> str:
    return ENTRY_PREFIX + site


# Redis: the entries ------------------------------------------------------------------------


def _key(app: Celery, site: str) -> str:
    return str(RedBeatSchedulerEntry.generate_key(_conf(app), entry_name(site)))


def _conf(app: Celery) -> Celery:
    from redbeat.schedulers import ensure_conf

    ensure_conf(app)
    return app


def set_schedule(app: Celery, site: str, expression: str) -> ScheduleInfo:
    """Create or change the schedule of ``site``; an existing entry keeps its last run."""
    parsed = parse_schedule(expression)
    key = _key(app, site)
    try:
        entry = RedBeatSchedulerEntry.from_key(key, app=app)
        entry.schedule = parsed
        entry.options = entry_options(parsed)
    except KeyError:
        entry = RedBeatSchedulerEntry(
            entry_name(site),
            SCHEDULED_CRAWL_TASK,
            parsed,
            args=[site],
            options=entry_options(parsed),
            app=app,
        )
        # A new schedule first fires one period from now, not at once, and never as a burst.
        entry.last_run_at = datetime.now(UTC)
    entry.save()
    return _info(entry)


def pause(app: Celery, site: str) -> ScheduleInfo:
    entry = _existing(app, site)
    entry.enabled = False
    entry.save()
    return _info(entry)


def resume(app: Celery, site: str) -> ScheduleInfo:
    entry = _existing(app, site)
    entry.enabled = True
    entry.save()
    # Resume on the regular rhythm from now: a long pause must not fire at once as "overdue".
    entry.reschedule()
    return _info(entry)


def remove(app: Celery, site: str) -> None:
    _existing(app, site).delete()


def get(app: Celery, site: str) -> ScheduleInfo | None:
    try:
        return _info(RedBeatSchedulerEntry.from_key(_key(app, site), app=app))
    except KeyError:
        return None


def list_schedules(app: Celery) -> list[ScheduleInfo]:
    """Every site schedule stored in Redis, by site name."""
    conf = _conf(app).redbeat_conf
    prefix = conf.key_prefix + ENTRY_PREFIX
    keys = [k for k in get_redis(app).zrange(conf.schedule_key, 0, -1) if k.startswith(prefix)]
    found = []
    for key in keys:
        try:
            found.append(_info(RedBeatSchedulerEntry.from_key(key, app=app)))
        except KeyError:
            continue
    return sorted(found, key=lambda info: info.site)


def _existing(app: Celery, site: str) -> RedBeatSchedulerEntry:
    try:
        return RedBeatSchedulerEntry.from_key(_key(app, site), app=app)
    except KeyError:
        raise ScheduleError(
            f"site {site!r} has no schedule; set one with `newsvault sites schedule {site} 30m`"
        ) from None


def _info(entry: RedBeatSchedulerEntry) -> ScheduleInfo:
    next_run: datetime | None = None
    if entry.enabled and entry.last_run_at is not None:
        remaining = entry.schedule.remaining_estimate(entry.last_run_at)
        next_run = datetime.now(UTC) + max(remaining, timedelta(0))
    return ScheduleInfo(
        site=entry.name.removeprefix(ENTRY_PREFIX),
        expression=describe(entry.schedule),
        enabled=bool(entry.enabled),
        last_run_at=entry.last_run_at,
        next_run_at=next_run,
    )


# Beat --------------------------------------------------------------------------------------


class KeyedScheduler(RedBeatScheduler):
    """RedBeat, handing each site run its idempotency key (``slot``) as a keyword argument."""

    def apply_async(
        self, entry: Any, producer: Any = None, advance: bool = True, **kwargs: Any
    ) -> Any:
        if str(entry.name).startswith(ENTRY_PREFIX):
            # Computed before ``advance`` moves last_run_at to now.
            slot = slot_key(entry.name, entry.last_run_at, datetime.now(UTC))
            entry.kwargs = {**(entry.kwargs or {}), "slot": slot}
        return super().apply_async(entry, producer=producer, advance=advance, **kwargs)
