"""Archive writes off the reactor thread: one thread owns the sink, fed through a queue.

Why: ``Archive.add`` gzips and writes each exchange, and ``commit`` fsyncs the WARC file and
inserts index rows. On the reactor thread every fsync stalls all downloads (measured: a crawl
at ~half the pages/s of a bare spider). Here the reactor only enqueues; a single thread makes
every sink call, in order, so the sink needs no locking and capture ids keep fetch order. zlib
and fsync release the GIL, so the writing overlaps with parsing on another core.

The queue is bounded: when the disk falls behind, ``put`` blocks the reactor (backpressure)
instead of holding an unbounded backlog of response bodies in memory.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crawler.sink import ArchiveSink
    from storage.fetch import Fetch

logger = logging.getLogger(__name__)

_STOP = object()


class SinkThread:
    """Runs ``add`` / ``record_failure`` / ``commit`` of ``sink`` on one background thread.

    ``on_commit(ids)`` runs on that thread after each commit; ``on_error(exc)`` once, on that
    thread, when the sink raises (later calls are then dropped: the crawl is stopping).
    """

    def __init__(
        self,
        sink: ArchiveSink,
        *,
        on_commit: Callable[[list[int]], None],
        on_error: Callable[[BaseException], None],
        maxsize: int = 256,
    ) -> None:
        self.sink = sink
        self.on_commit = on_commit
        self.on_error = on_error
        self.error: BaseException | None = None
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=maxsize)
        self._thread = threading.Thread(target=self._run, name="newsvault-archive", daemon=True)
        self._thread.start()

    # Producer side (the reactor thread) ----------------------------------------------------

    def add(self, fetch: Fetch) -> None:
        self._queue.put(("add", fetch))

    def record_failure(self, url: str, kind: str, message: str) -> None:
        self._queue.put(("record_failure", (url, kind, message)))

    def commit(self) -> None:
        self._queue.put(("commit", None))

    def close(self, timeout: float | None = None) -> None:
        """Commit what is queued, then stop the thread and wait for it."""
        if not self._thread.is_alive():
            return
        self.commit()
        self._queue.put(_STOP)
        self._thread.join(timeout)

    @property
    def backlog(self) -> int:
        return self._queue.qsize()

    # Consumer side -------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            if self.error is not None:
                continue  # the crawl is stopping; drain without writing
            action, payload = item
            try:
                if action == "add":
                    self.sink.add(payload)
                elif action == "record_failure":
                    self.sink.record_failure(*payload)
                else:
                    ids = self.sink.commit()
                    if ids:
                        self._committed(ids)
            except Exception as exc:
                self.error = exc
                self.on_error(exc)

    def _committed(self, ids: list[int]) -> None:
        try:
            self.on_commit(ids)
        except Exception:  # processing is re-runnable from the archive; keep crawling
            logger.exception("on_committed failed for %d captures", len(ids))
