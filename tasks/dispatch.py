"""Hand archived captures to processing: inline in embedded mode, over Celery otherwise.

One code path, two places to run it: the crawler calls :func:`submit_captures` after each
commit of the archive and does not know which mode it is in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tasks.config import TasksConfig
    from tasks.pipeline import Outcome

log = logging.getLogger(__name__)


# Captures per processing task: each batch is stored in one transaction (tasks/pipeline.py).
# Large enough to share a commit and an fsync, small enough that workers finish together.
PROCESS_BATCH = 16


def submit_captures(
    capture_ids: list[int],
    settings: TasksConfig,
    *,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> None:
    """Process ``capture_ids`` now (embedded) or queue them on ``process`` (distributed)."""
    batches = [
        capture_ids[start : start + PROCESS_BATCH]
        for start in range(0, len(capture_ids), PROCESS_BATCH)
    ]
    if settings.embedded:
        from tasks.pipeline import process_captures

        for batch in batches:
            try:
                outcomes = process_captures(batch, settings)
            except Exception:
                # The captures stay pending in the index: `newsvault process` runs them again.
                log.exception("captures %s: processing failed; they stay pending", batch)
                continue
            if on_outcome is not None:
                for outcome in outcomes:
                    on_outcome(outcome)
        return
    from tasks.app import app_for

    app = app_for(settings)
    for batch in batches:
        # Keyed by its captures: a second delivery of a batch is harmless (each is re-checked).
        app.send_task(
            "tasks.process_captures",
            args=[batch],
            queue="process",
            task_id=f"process-captures-{batch[0]}-{batch[-1]}",
        )
