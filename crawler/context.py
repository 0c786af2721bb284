"""What a crawl hands to its Scrapy components: the archive sink and its callbacks.

Scrapy deep-copies settings, so live objects (an open archive, callbacks) travel on the
:class:`~scrapy.crawler.Crawler` instead, under :data:`CONTEXT_ATTR`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crawler.sink import ArchiveSink
    from crawler.sinkthread import SinkThread

__all__ = ["CONTEXT_ATTR", "CrawlContext", "Validators", "context_of", "require_context"]

CONTEXT_ATTR = "newsvault_context"

# canonical URL -> (ETag, Last-Modified) of its last capture, or None when never captured.
Validators = Callable[[str], "tuple[str | None, str | None] | None"]


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


def require_context(crawler: Any) -> CrawlContext:
    """The crawl's context, or Scrapy's NotConfigured: a component without one stays off."""
    from scrapy.exceptions import NotConfigured

    context = context_of(crawler)
    if context is None:
        raise NotConfigured("no archive sink for this crawl")
    return context
