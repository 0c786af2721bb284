"""The http(s) download handler of a ``capture = "browser"`` site: pages marked for the browser
are loaded in chromium, everything else is fetched by Scrapy's own handler.

Why a download handler (not a middleware, not scrapy-playwright): a handler runs inside the
downloader's per-host slot, so DOWNLOAD_DELAY, AutoThrottle and the per-host concurrency
apply to browser pages as to any request, and every downloader middleware runs around it as
usual (robots.txt, the SSRF check of IP literals, failure recording, the archive, size caps).
scrapy-playwright would do the same with a dependency more, and hand Scrapy the rendered DOM
as the response body, where newsvault keeps the raw bytes.

The Scrapy response is the document as the browser received it (the raw HTML: the archive
and the size caps see what came over the wire); the browser's record of the page (its DOM,
screenshot and resources) rides along in ``request.meta[BROWSER_RESULT]``. Requests the page
made that were refused (SSRF guard, size caps) are recorded as fetch events of their own;
other failed resources (a broken image is the site's business) are counted in the crawl's
stats only. Scrapy runs on the asyncio reactor (its default, which crawler/settings.py keeps),
so Playwright's async API runs in the crawl's own event loop: no thread, no second loop.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
)
from scrapy.http import Headers
from scrapy.responsetypes import responsetypes
from scrapy.utils.misc import build_from_crawler

from crawler.browser import BrowserSession
from crawler.browser_record import PageError, PageLimits
from crawler.context import context_of
from crawler.middlewares.common import (
    BROWSER_META,
    BROWSER_RESULT,
    BrowserUnavailable,
    TooLarge,
    record_url_failure,
    request_kind,
)
from crawler.settings import CHROMIUM_SETTING
from crawler.ssrf import ALLOWED_NETWORKS_SETTING, SsrfRefused, policy_from_settings

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response

    from storage.fetch import Fetch

__all__ = ["BrowserDownloadHandler"]

logger = logging.getLogger(__name__)

# After load, wait at most this long for the network to go quiet (scripts fetching the article).
SETTLE_SECONDS = 3.0
# A page's requests and bytes together, beyond the per-response cap.
MAX_REQUESTS_PER_PAGE = 400
PAGE_BYTES_FACTOR = 5
# Failed requests of a page recorded as fetch events: the guard's and the caps' decisions.
_RECORDED_KINDS = frozenset({"ssrf", "too_large"})


class BrowserDownloadHandler(BaseDownloadHandler):
    """http/https: browser pages through :class:`BrowserSession`, the rest through Scrapy."""

    lazy = False

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        settings = crawler.settings
        self.plain = build_from_crawler(HTTP11DownloadHandler, crawler)
        self.timeout = settings.getfloat("DOWNLOAD_TIMEOUT")
        max_bytes = settings.getint("DOWNLOAD_MAXSIZE")
        self.limits = PageLimits(
            timeout=self.timeout,
            settle=SETTLE_SECONDS,
            max_bytes=max_bytes,
            page_bytes=max_bytes * PAGE_BYTES_FACTOR,
            max_requests=MAX_REQUESTS_PER_PAGE,
        )
        self.session = BrowserSession(
            Path(settings.get(CHROMIUM_SETTING) or "/usr/bin/chromium"),
            policy_from_settings(settings.getlist(ALLOWED_NETWORKS_SETTING)),
            user_agent=settings.get("USER_AGENT"),
            connect_timeout=settings.getfloat("DNS_TIMEOUT") or 20.0,
        )

    async def download_request(self, request: Request) -> Response:
        if not request.meta.get(BROWSER_META):
            return await self.plain.download_request(request)
        return await self._browse(request)

    async def close(self) -> None:
        await self.session.close()
        await self.plain.close()

    async def _browse(self, request: Request) -> Response:
        timeout = float(request.meta.get("download_timeout") or self.timeout)
        limits = (
            self.limits if timeout == self.limits.timeout else _with_timeout(self.limits, timeout)
        )
        # Navigation, load, screenshot (each within the timeout), network idle and the last
        # bodies (each within the settle time, plus a margin): each bounded, the whole too.
        budget = 3 * timeout + 2 * limits.settle + 10
        try:
            capture = await asyncio.wait_for(
                self.session.record(request.url, kind=request_kind(request), limits=limits),
                budget,
            )
        except TimeoutError:
            raise DownloadTimeoutError(
                f"browser: {request.url} not captured within {budget:g} s"
            ) from None
        except PageError as exc:
            raise _failure(exc) from None
        stats = self.crawler.stats
        assert stats is not None
        context = context_of(self.crawler)
        for failure in capture.failures:
            if failure.kind in _RECORDED_KINDS:
                record_url_failure(
                    self.crawler, context, failure.url, failure.kind, failure.message
                )
            else:
                stats.inc_value("newsvault/browser/failed")
                logger.info("browser: %s", failure.message)
        document = capture.document
        rendering = document.rendering
        stats.inc_value("newsvault/browser/pages")
        if rendering is not None:
            stats.inc_value("newsvault/browser/resources", len(rendering.resources))
            stats.inc_value(
                "newsvault/browser/bytes", sum(len(r.body) for r in rendering.resources)
            )
        stats.inc_value("newsvault/browser/skipped", capture.skipped)
        request.meta[BROWSER_RESULT] = document
        return _scrapy_response(request, document)


def _with_timeout(limits: PageLimits, timeout: float) -> PageLimits:
    from dataclasses import replace

    return replace(limits, timeout=timeout)


def _failure(error: PageError) -> Exception:
    """The exception Scrapy's middlewares (retry, failure recording) know for this kind."""
    message = str(error)
    if error.kind == "ssrf":
        return SsrfRefused(message)
    if error.kind == "too_large":
        return TooLarge(message)
    if error.kind == "browser":
        return BrowserUnavailable(message)
    kinds: dict[str, type[Exception]] = {
        "dns": CannotResolveHostError,
        "timeout": DownloadTimeoutError,
        "refused": DownloadConnectionRefusedError,
    }
    return kinds.get(error.kind, DownloadFailedError)(f"browser: {message}")


def _scrapy_response(request: Request, document: Fetch) -> Response:
    headers = Headers()
    for name, value in document.response_headers:
        headers.appendlist(name, value)
    cls = responsetypes.from_args(headers=headers, url=document.url, body=document.body)
    address = None
    if document.ip_address:
        try:
            address = ipaddress.ip_address(document.ip_address)
        except ValueError:
            address = None
    return cls(
        url=document.url,
        status=document.status,
        headers=headers,
        body=document.body,
        request=request,
        ip_address=address,
        protocol=document.protocol,
    )
