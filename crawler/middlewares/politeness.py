"""560: per-host delay floors (Crawl-delay, Retry-After, backoff) kept on the download slot."""

from __future__ import annotations

import email.utils
import logging
import time
from datetime import UTC
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import DownloadTimeoutError
from twisted.internet import error as txerror

from crawler.middlewares.common import request_host

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response
    from scrapy.robotstxt import RobotParser

__all__ = ["PolitenessMiddleware", "parse_retry_after"]

logger = logging.getLogger(__name__)


def parse_retry_after(value: bytes | str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now if now is not None else time.time()
    return max(0.0, when.timestamp() - current)


class PolitenessMiddleware:
    """Per-host delay floors Scrapy does not apply itself, re-applied to the download slot.

    Floors: robots.txt Crawl-delay; Retry-After of a 429/503 (until the host answers
    normally); exponential backoff after 5xx answers and timeouts (idem).

    Why it is shaped like this:

    * Scrapy garbage-collects idle slots and rebuilds them from DOWNLOAD_DELAY, and
      AutoThrottle rewrites ``slot.delay`` after every response; so the floors live here and
      are re-applied on every request and after every response.
    * Answers are read on ``response_downloaded``, not in ``process_response``: the
      downloader frees the slot and sends the next queued request right after that signal,
      before any ``process_response`` runs, so a Retry-After seen there would be one
      request late. Handlers run in connection order, and extensions (AutoThrottle) connect
      before downloader middlewares, so the floor is applied after AutoThrottle's change.
    * Slot jitter (RANDOMIZE_DOWNLOAD_DELAY, +-50 %) would send requests below the floor; it
      is switched off on a slot while a floor holds, and restored after.
    """

    MAX_CRAWL_DELAY = 60.0
    MAX_RETRY_AFTER = 120.0
    BACKOFF_BASE = 0.5
    BACKOFF_MAX = 30.0

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.base_delay = crawler.settings.getfloat("DOWNLOAD_DELAY")
        self.user_agent = crawler.settings.get("ROBOTSTXT_USER_AGENT") or crawler.settings.get(
            "USER_AGENT"
        )
        self.crawl_delay: dict[str, float] = {}
        self.retry_after: dict[str, float] = {}
        self.backoff: dict[str, float] = {}
        crawler.signals.connect(self._robots_parsed, signal=signals.robots_parsed)
        crawler.signals.connect(self._response_downloaded, signal=signals.response_downloaded)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def floor(self, host: str) -> float:
        return max(
            self.crawl_delay.get(host, 0.0),
            self.retry_after.get(host, 0.0),
            self.backoff.get(host, 0.0),
        )

    def _robots_parsed(self, robotparser: RobotParser, request: Request, **kwargs: Any) -> None:
        try:
            delay = robotparser.crawl_delay(self.user_agent)
        except Exception:  # a parser without crawl-delay support
            return
        if delay:
            capped = min(float(delay), self.MAX_CRAWL_DELAY)
            if capped < delay:
                logger.warning(
                    "Crawl-delay %s of %s capped to %s s", delay, request_host(request), capped
                )
            self.crawl_delay[request_host(request)] = capped
            self._apply(request)

    def _apply(self, request: Request, *, restore: bool = False) -> None:
        try:
            engine = self.crawler.engine
        except RuntimeError:  # not crawling yet (Scrapy 2.14+ raises instead of None)
            return
        downloader = getattr(engine, "downloader", None)
        if downloader is None:
            return
        slot = downloader.slots.get(downloader.get_slot_key(request))
        if slot is None:  # created from DOWNLOAD_DELAY on enqueue; the next request fixes it
            return
        floor = self.floor(request_host(request))
        if restore:
            slot.delay = max(self.base_delay, floor)
        elif slot.delay < floor:
            slot.delay = floor
        if floor > 0:
            slot.jitter = 0.0
        elif restore:
            slot.jitter = getattr(downloader, "_jitter", slot.jitter)

    def process_request(self, request: Request) -> None:
        self._apply(request)

    def _response_downloaded(self, response: Response, request: Request, **kwargs: Any) -> None:
        host = request_host(request)
        if response.status in (429, 503):
            wait = parse_retry_after(response.headers.get(b"Retry-After"))
            if wait is not None:
                self.retry_after[host] = min(wait, self.MAX_RETRY_AFTER)
        if response.status >= 500 or response.status == 429:
            self._back_off(host)
            self._apply(request)
        elif host in self.retry_after or host in self.backoff:
            self.retry_after.pop(host, None)
            self.backoff.pop(host, None)
            self._apply(request, restore=True)
        elif host in self.crawl_delay:
            self._apply(request)  # AutoThrottle may just have lowered the delay

    def process_exception(self, request: Request, exception: Exception) -> None:
        if isinstance(exception, DownloadTimeoutError | txerror.TimeoutError):
            self._back_off(request_host(request))
            self._apply(request)

    def _back_off(self, host: str) -> None:
        previous = self.backoff.get(host)
        self.backoff[host] = (
            self.BACKOFF_BASE if previous is None else min(previous * 2, self.BACKOFF_MAX)
        )
