"""The crawl process dies with the worker that started it.

A Celery hard time limit (or an OOM kill) SIGKILLs the pool child that supervises a crawl;
its grandchildren would live on under PID 1, still crawling and holding WARC files open.
Linux's parent-death signal ends the crawl instead. It is set by the crawl process itself as
its first action: ``preexec_fn`` would be unsafe in a threaded worker.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys

PR_SET_PDEATHSIG = 1
# The supervising worker puts its pid here (newsvault/services/crawls.py): if it died between
# fork and prctl, the signal would never come, so the crawl checks and exits at once.
PARENT_ENV = "NEWSVAULT_CRAWL_PARENT_PID"


def set_parent_death_signal(sig: int = signal.SIGTERM) -> bool:
    """Ask the kernel to send ``sig`` when the parent dies; False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
            return False
    except OSError:
        return False
    expected = os.environ.get(PARENT_ENV)
    if expected and expected.isdigit() and os.getppid() != int(expected):
        # The parent is already gone (we were re-parented): nobody supervises this crawl.
        os._exit(3)
    return True
