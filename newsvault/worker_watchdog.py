"""`newsvault worker` starts over when Celery gives up after a broker loss, even if its own
shutdown then hangs.

kombu's Redis transport can stop a worker with "Unrecoverable error" when the broker goes
away while a late-acked task is in flight (restoring it needs the connection that just
closed). Usually `worker_main` then returns and the command starts over at once; sometimes
the shutdown itself hangs on that dead connection, leaving a live process that takes no work.
This handler watches Celery's worker log for that one message and, if the process is still
there after a grace period, ends its pool children and starts over (the message is safe in
Redis's unacked set). Celery has no hook for this moment, hence a log handler.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

CELERY_WORKER_LOGGER = "celery.worker"
UNRECOVERABLE = "Unrecoverable error"


class UnrecoverableWatchdog(logging.Handler):
    """Calls ``restart`` ``grace`` seconds after Celery logs an unrecoverable error, once."""

    def __init__(self, restart: Callable[[], None], *, grace: float) -> None:
        super().__init__(level=logging.CRITICAL)
        self._restart, self._grace = restart, grace
        self._armed = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self._armed.is_set() or not str(record.msg).startswith(UNRECOVERABLE):
            return
        self._armed.set()
        threading.Thread(target=self._later, name="unrecoverable-watchdog", daemon=True).start()

    def _later(self) -> None:
        time.sleep(self._grace)
        self._restart()


def start_over(argv: list[str]) -> None:
    """End this worker's pool children, then run the same command again in this process."""
    children = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children")
    with contextlib.suppress(OSError):
        for pid in children.read_text().split():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
    # Straight to the file descriptor: the hung shutdown may hold logging's locks, and
    # Celery's stderr is a logging proxy.
    with contextlib.suppress(OSError):
        os.write(2, b"warning: worker shutdown hung after an unrecoverable error; starting again\n")
    os.execv(sys.executable, [sys.executable, *argv])


def install(*, grace: float, restart: Callable[[], None] | None = None) -> UnrecoverableWatchdog:
    """Watch Celery's worker log in this process (``restart`` defaults to :func:`start_over`)."""
    watchdog = UnrecoverableWatchdog(restart or (lambda: start_over(sys.argv)), grace=grace)
    logging.getLogger(CELERY_WORKER_LOGGER).addHandler(watchdog)
    return watchdog
