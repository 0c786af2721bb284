"""Where a crawl's raw fetches go: the archive sink, as the crawler sees it.

Its own module so that :mod:`crawler.context` (which holds a sink and its writer thread) and
:mod:`crawler.sinkthread` (which drives a sink) both depend on it, not on each other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from storage.fetch import Fetch

__all__ = ["ArchiveSink"]


class ArchiveSink(Protocol):
    """Where raw fetches go (implemented by storage.archive.Archive)."""

    def add(self, fetch: Fetch) -> None: ...

    def record_failure(self, url: str, kind: str, message: str) -> None: ...

    def commit(self) -> list[int]:
        """Make added fetches durable and indexed; return the new capture ids."""
        ...

    def close(self) -> list[int]: ...
