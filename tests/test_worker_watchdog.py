"""newsvault/worker_watchdog.py: after Celery's "Unrecoverable error", a worker whose
shutdown hangs starts over. The restart itself (killing the pool, exec) is replaced by a
recorder here: the kombu race that leads to it cannot be triggered on demand (the Redis
restart tests in test_celery_ops.py exercise the real path when it happens)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest

from newsvault import worker_watchdog


@pytest.fixture
def restarts() -> Iterator[tuple[list[float], threading.Event]]:
    done = threading.Event()
    calls: list[float] = []

    def restart() -> None:
        calls.append(1.0)
        done.set()

    watchdog = worker_watchdog.install(grace=0.1, restart=restart)
    try:
        yield calls, done
    finally:
        logging.getLogger(worker_watchdog.CELERY_WORKER_LOGGER).removeHandler(watchdog)


def test_an_unrecoverable_error_restarts_the_worker_once(
    restarts: tuple[list[float], threading.Event],
) -> None:
    calls, done = restarts
    log = logging.getLogger("celery.worker")
    log.critical("Unrecoverable error: %r", AttributeError("'NoneType' has no 'hostname'"))
    log.critical("Unrecoverable error: %r", RuntimeError("again"))
    assert done.wait(5)
    assert calls == [1.0]


def test_other_errors_do_not_restart_the_worker(
    restarts: tuple[list[float], threading.Event],
) -> None:
    calls, done = restarts
    logging.getLogger("celery.worker").critical("Frequent restarts detected")
    logging.getLogger("celery.worker.consumer").error("Unrecoverable error is not this one")
    assert not done.wait(0.5)
    assert calls == []
