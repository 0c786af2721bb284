"""What a crawl hands to its Scrapy components: the archive sink and its callbacks.

Scrapy deep-copies settings, so live objects (an open archive, callbacks) travel on the
:class:`~scrapy.crawler.Crawler` instead, under :data:`CONTEXT_ATTR`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from crawler.sinkthread import SinkThread
    from storage.fetch import Fetch

__all__ = ["CONTEXT_ATTR", "ArchiveSink", "CrawlContext", "Validators", "context_of"]

CONTEXT_ATTR = "newsvault_context"

# canonical URL -> (ETag, Last-Modified) of its last capture, or None when never captured.
Validators = Callable[[str], "tuple[str | None, str | None] | None"]


class ArchiveSink(Protocol):
    """Where raw fetches go (implemented by storage.archive.Archive)."""

    def add(self, fetch: Fetch) -> None: ...

    def record_failure(self, url: str, kind: str, message: str) -> None: ...

    def commit(self) -> list[int]:
        """Make added fetches durable and indexed; return the new capture ids."""
        ...

    def close(self) -> list[int]: ...


@dataclass
class CrawlContext:
    sink: ArchiveSink
    on_committed: Callable[[list[int]], None]
    validators: Validators | None = None
    commit_every: int = 32  # fetches
    commit_interval: float = 1.0  # seconds
    progress: Callable[[Any], None] | None = None
    # The thread that drives ``sink`` while the spider runs (set by ArchiveMiddleware).
    writer: SinkThread | None = None


def context_of(crawler: Any) -> CrawlContext | None:
    context = getattr(crawler, CONTEXT_ATTR, None)
    return context if isinstance(context, CrawlContext) else None
