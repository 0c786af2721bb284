"""Site schedules: set, pause, resume, remove, list, on the running beat (RedBeat in Redis).

The rules, once: a schedule belongs to a site the index knows; schedules need Redis (in
embedded mode there is no beat, so asking for one is an error that says how to get it); a
site's schedule changes take effect on the running beat within seconds (tasks/schedules.py).
"""

from __future__ import annotations

from collections.abc import Callable

from celery import Celery
from sqlalchemy import select

from newsvault.config import Settings
from newsvault.services.errors import Invalid, NotFound
from storage.db import read_scope
from storage.models import Site
from tasks import schedules
from tasks.app import app_for
from tasks.schedules import ScheduleInfo

NEEDS_REDIS = "schedules need Redis: set NEWSVAULT_BROKER_URL=redis://127.0.0.1:6379/0"


def _distributed(settings: Settings) -> None:
    if settings.embedded:
        raise Invalid(NEEDS_REDIS)


def _known_site(settings: Settings, name: str) -> None:
    with read_scope(settings.index_url) as session:
        if session.scalar(select(Site.id).where(Site.name == name)) is None:
            raise NotFound(f"no site named {name!r}; see `newsvault sites list`")


def set_schedule(settings: Settings, site: str, expression: str) -> ScheduleInfo:
    """Crawl ``site`` on ``expression`` (cron or interval); an existing entry keeps its last run."""
    _distributed(settings)
    _known_site(settings, site)
    try:
        return schedules.set_schedule(app_for(settings), site, expression)
    except schedules.ScheduleError as exc:
        raise Invalid(str(exc)) from None


def pause(settings: Settings, site: str) -> ScheduleInfo:
    return _existing_entry(settings, site, schedules.pause)


def resume(settings: Settings, site: str) -> ScheduleInfo:
    return _existing_entry(settings, site, schedules.resume)


def _existing_entry(
    settings: Settings, site: str, change: Callable[[Celery, str], ScheduleInfo]
) -> ScheduleInfo:
    """``change`` the site's existing entry; a site without one is :class:`NotFound`."""
    _distributed(settings)
    try:
        return change(app_for(settings), site)
    except schedules.ScheduleError as exc:
        raise NotFound(str(exc)) from None


def get(settings: Settings, site: str) -> ScheduleInfo | None:
    """The site's schedule, or None (also in embedded mode, where there are none)."""
    if settings.embedded:
        return None
    return schedules.get(app_for(settings), site)


def forget(settings: Settings, site: str) -> bool:
    """Remove the site's schedule if it has one (its site is gone); True if one was removed."""
    if settings.embedded:
        return False
    try:
        schedules.remove(app_for(settings), site)
    except schedules.ScheduleError:
        return False
    return True


def list_all(settings: Settings) -> list[ScheduleInfo]:
    _distributed(settings)
    return schedules.list_schedules(app_for(settings))
