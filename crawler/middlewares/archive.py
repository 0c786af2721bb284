"""950: hand every response to the archive sink, raw, and commit in batches."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.defer import deferred_from_coro
from twisted.internet.task import LoopingCall

from crawler.context import CrawlContext, require_context
from crawler.middlewares.common import build_fetch
from crawler.sinkthread import SinkThread

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response

__all__ = ["ArchiveMiddleware"]

logger = logging.getLogger(__name__)


class ArchiveMiddleware:
    """Hand every response to the archive sink, raw, and commit in batches.

    Commits every ``commit_every`` fetches, every ``commit_interval`` seconds and when the
    spider closes; each commit's capture ids go to ``on_committed`` (processing). The sink is
    driven from a :class:`~crawler.sinkthread.SinkThread` (gzip, WARC writes, fsync and index
    inserts off the reactor thread); the spider close waits for it to drain. A sink error
    stops the crawl: fetching on without archiving would lose what is fetched.
    """

    def __init__(self, crawler: Crawler, context: CrawlContext) -> None:
        self.crawler = crawler
        self.context = context
        self.pending = 0
        self.failed = False
        self.loop: LoopingCall | None = None
        self.writer: SinkThread | None = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler, require_context(crawler))

    def spider_opened(self, spider: Any = None) -> None:
        from twisted.internet import reactor

        self.writer = SinkThread(
            self.context.sink,
            on_commit=self._committed,
            on_error=lambda exc: reactor.callFromThread(self._fail, exc),
        )
        self.context.writer = self.writer
        self.loop = LoopingCall(self._tick)
        self.loop.start(self.context.commit_interval, now=False).addErrback(
            lambda failure: logger.error("commit loop stopped: %s", failure.value)
        )

    def spider_closed(self, spider: Any = None, reason: str = "") -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        if self.writer is not None:
            self.writer.close()  # commits what is queued and waits: the crawl ends durable
            self.context.writer = None
        self._report_progress()

    def _tick(self) -> None:
        if self.pending:
            self.commit()
        self._report_progress()

    def _report_progress(self) -> None:
        if self.context.progress is not None:
            try:
                self.context.progress(self.crawler.stats)
            except Exception:
                logger.exception("progress callback failed")

    def commit(self) -> None:
        if self.failed or self.writer is None:
            return
        self.pending = 0
        self.writer.commit()

    def _committed(self, ids: list[int]) -> None:
        # On the writer thread. Only this thread touches this key, so no lost updates.
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("newsvault/captures", len(ids))
        self.context.on_committed(ids)

    def _fail(self, exc: BaseException) -> None:
        if self.failed:
            return
        self.failed = True
        logger.error("archive sink failed, stopping the crawl: %s", exc, exc_info=exc)
        try:
            engine = self.crawler.engine
        except RuntimeError:
            return
        if engine is not None:
            deferred_from_coro(engine.close_spider_async(reason="archive_error"))

    def process_response(self, request: Request, response: Response) -> Response:
        if self.failed or self.writer is None:
            raise IgnoreRequest("archive unavailable")
        fetch = build_fetch(request, response)
        self.writer.add(fetch)
        stats = self.crawler.stats
        assert stats is not None
        stats.inc_value("newsvault/fetched")
        stats.inc_value(f"newsvault/fetched/{fetch.kind}")
        stats.inc_value("newsvault/bytes", len(fetch.body))
        self.pending += 1
        if self.pending >= self.context.commit_every:
            self.commit()
        return response
