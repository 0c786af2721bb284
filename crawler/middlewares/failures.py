"""540: record each request that ends without a response, once (after Retry gave up)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    ResponseDataLossError,
)
from twisted.internet import error as txerror

from crawler.context import CrawlContext, require_context
from crawler.middlewares.common import (
    BrowserUnavailable,
    RobotsDisallowed,
    TooLarge,
    record_failure,
    request_host,
)
from crawler.ssrf import SsrfRefused, refusal_for_host

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.http import Request

__all__ = ["FetchFailureMiddleware", "classify_failure"]


def classify_failure(exc: BaseException, request: Request) -> str:
    """The failure kind (one of ``FAILURE_KINDS``) recorded for a request ending in ``exc``."""
    if isinstance(exc, SsrfRefused) or refusal_for_host(request_host(request)):
        return "ssrf"
    if isinstance(exc, RobotsDisallowed):
        return "robots"
    if isinstance(exc, BrowserUnavailable):
        return "browser"
    if isinstance(exc, CannotResolveHostError | txerror.DNSLookupError):
        return "dns"
    if isinstance(exc, DownloadTimeoutError | txerror.TimeoutError | TimeoutError):
        return "timeout"
    if isinstance(exc, DownloadConnectionRefusedError | txerror.ConnectionRefusedError):
        return "refused"
    if isinstance(exc, TooLarge) or (
        isinstance(exc, DownloadCancelledError) and "max size" in str(exc)
    ):
        return "too_large"
    if isinstance(
        exc,
        DownloadFailedError
        | ResponseDataLossError
        | txerror.ConnectError
        | txerror.ConnectionLost
        | txerror.ConnectionDone
        | ConnectionError,
    ):
        return "connection"
    return "other"


class FetchFailureMiddleware:
    """Record each request that ends without a response, once (after Retry gave up)."""

    def __init__(self, crawler: Crawler, context: CrawlContext) -> None:
        self.crawler = crawler
        self.context = context

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler, require_context(crawler))

    def process_exception(self, request: Request, exception: Exception) -> None:
        kind = classify_failure(exception, request)
        message = str(exception) or type(exception).__name__
        if kind == "ssrf" and not isinstance(exception, SsrfRefused):
            message = refusal_for_host(request_host(request)) or message
        record_failure(self.crawler, self.context, request, kind, message)
