"""Site schedules in RedBeat (real Redis, database 8) and their idempotency keys."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis
from celery import Celery
from celery.schedules import crontab, schedule
from sqlalchemy.exc import IntegrityError

from newsvault.config import Settings
from newsvault.demo import register_site
from newsvault.services.crawls import create_job
from tasks import schedules

REDBEAT_URL = "redis://127.0.0.1:6379/8"


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> Iterator[Celery]:
    redis.Redis.from_url(REDBEAT_URL).flushdb()
    monkeypatch.setenv("NEWSVAULT_REDBEAT_URL", REDBEAT_URL)
    from newsvault.config import load_settings
    from tasks.celery_app import make_app

    celery = make_app(load_settings(broker_url="redis://127.0.0.1:6379/8"))
    yield celery
    celery.close()
    redis.Redis.from_url(REDBEAT_URL).flushdb()


def test_expressions_round_trip() -> None:
    assert isinstance(schedules.parse_schedule("30m"), schedule)
    assert schedules.describe(schedules.parse_schedule("30m")) == "30m"
    assert schedules.describe(schedules.parse_schedule("every 2 hours")) == "2h"
    assert schedules.describe(schedules.parse_schedule("45s")) == "45s"
    cron = schedules.parse_schedule("*/15 * * * *")
    assert isinstance(cron, crontab)
    assert schedules.describe(cron) == "*/15 * * * *"
    for bad in ("soon", "0m", "* * *", "99 * * * *"):
        with pytest.raises(schedules.ScheduleError):
            schedules.parse_schedule(bad)
    assert schedules.entry_options(schedules.parse_schedule("3s")) == {
        "queue": "crawl",
        "expires": 3,
    }
    assert schedules.entry_options(cron) == {"queue": "crawl"}


@pytest.mark.redis
def test_edit_keeps_last_run_and_pause_resume(app: Celery) -> None:
    first = schedules.set_schedule(app, "sample", "1h")
    assert first.enabled and first.last_run_at is not None
    assert first.next_run_at is not None
    assert first.next_run_at > datetime.now(UTC) + timedelta(minutes=59)
    # Edited through from_key + save: the last run is kept, the next run follows the new period.
    edited = schedules.set_schedule(app, "sample", "10m")
    assert edited.last_run_at == first.last_run_at
    assert edited.next_run_at is not None
    assert edited.next_run_at < datetime.now(UTC) + timedelta(minutes=11)
    assert schedules.pause(app, "sample").enabled is False
    info = schedules.get(app, "sample")
    assert info is not None and info.next_run_at is None
    resumed = schedules.resume(app, "sample")
    assert resumed.enabled and resumed.next_run_at is not None
    schedules.set_schedule(app, "other", "*/15 * * * *")
    assert [i.site for i in schedules.list_schedules(app)] == ["other", "sample"]
    schedules.remove(app, "other")
    assert [i.site for i in schedules.list_schedules(app)] == ["sample"]
    with pytest.raises(schedules.ScheduleError):
        schedules.pause(app, "nope")


def test_slot_key_is_the_same_for_two_beats_and_new_per_run() -> None:
    last = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    now = datetime.now(UTC)
    one = schedules.slot_key("site:a", last, now)
    assert one == schedules.slot_key("site:a", last, now + timedelta(seconds=3))
    assert one != schedules.slot_key("site:a", last + timedelta(minutes=15), now)
    assert one == "site:a@2026-01-01T12:00:00+00:00"


def test_a_slot_is_crawled_once(settings: Settings) -> None:
    register_site(settings, {"name": "a", "start": {"sections": ["http://127.0.0.1:9/"]}})
    create_job(settings, "a", schedule_key="site:a@x", kind="scheduled")
    with pytest.raises(IntegrityError):
        create_job(settings, "a", schedule_key="site:a@x", kind="scheduled")
