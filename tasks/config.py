"""What the processing and scheduling wiring needs of the configuration.

``tasks/`` sits below the services and front ends, so it never imports ``newsvault.config``:
it declares the settings it reads here and is handed an object that has them (in practice
``newsvault.config.Settings``, which satisfies this protocol structurally; mypy checks it at
every call site).
"""

from __future__ import annotations

from typing import Protocol

from storage.config import StorageConfig


class TasksConfig(StorageConfig, Protocol):
    """What storage reads, and what the pipeline, LSH index, dispatch, Celery and beat read."""

    @property
    def embedded(self) -> bool: ...
    @property
    def broker_url(self) -> str | None: ...
    @property
    def shared_redis_url(self) -> str | None: ...
    @property
    def redbeat_url(self) -> str | None: ...
    @property
    def redbeat_prefix(self) -> str: ...
    @property
    def beat_max_interval(self) -> float: ...
    @property
    def redbeat_lock_timeout(self) -> int: ...
    @property
    def reconcile_every(self) -> float: ...
    @property
    def pending_after(self) -> float: ...
    @property
    def queued_after(self) -> float: ...
    @property
    def recrawl_every(self) -> float: ...
    @property
    def crawl_lease(self) -> float: ...
    @property
    def test_process_delay(self) -> float: ...
