"""Hand archived captures to processing: inline in embedded mode, over Celery otherwise.

One code path, two places to run it: the crawler calls :func:`submit_captures` after each
commit of the archive and does not know which mode it is in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from newsvault.config import Settings
    from tasks.pipeline import Outcome

log = logging.getLogger(__name__)


def submit_captures(
    capture_ids: list[int],
    settings: Settings,
    *,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> None:
    """Process ``capture_ids`` now (embedded) or queue them on ``process`` (distributed)."""
    if not capture_ids:
        return
    if settings.embedded:
        from tasks.pipeline import process_capture

        for capture_id in capture_ids:
            try:
                outcome = process_capture(capture_id, settings)
            except Exception:
                # The capture stays pending in the index: `newsvault process` runs it again.
                log.exception("capture %s: processing failed; it stays pending", capture_id)
                continue
            if on_outcome is not None:
                on_outcome(outcome)
        return
    from tasks.celery_app import app

    for capture_id in capture_ids:
        # Keyed by capture: a second delivery of the same id is harmless (the task re-checks).
        app.send_task(
            "tasks.process_capture",
            args=[capture_id],
            queue="process",
            task_id=f"process-capture-{capture_id}",
        )
