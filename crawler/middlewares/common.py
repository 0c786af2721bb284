"""What several middlewares share: request kinds, failure kinds, and recording a failure."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import IgnoreRequest
from scrapy.utils.httpobj import urlparse_cached

from storage.fetch import Fetch
from vocabulary.canonical import UnsupportedURL, canonicalize

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response

    from crawler.context import CrawlContext

__all__ = [
    "BROWSER_META",
    "BROWSER_RESULT",
    "FAILURE_KINDS",
    "BrowserUnavailable",
    "RobotsDisallowed",
    "TooLarge",
    "build_fetch",
    "record_failure",
    "record_url_failure",
    "request_host",
    "request_kind",
]

logger = logging.getLogger(__name__)

FAILURE_KINDS = (
    "dns",
    "timeout",
    "refused",
    "robots",
    "too_large",
    "ssrf",
    "connection",
    "browser",
    "other",
)

# request.meta flag: load this request in the browser (a site with capture = "browser").
BROWSER_META = "nv_browser"
# request.meta: the browser's record of the page (a Fetch whose ``rendering`` is set), put
# there by crawler/browser_handler.py for the archive and the spider.
BROWSER_RESULT = "nv_browser_capture"


class RobotsDisallowed(IgnoreRequest):
    """robots.txt forbids the URL (or could not be fetched, which RFC 9309 treats the same)."""


class TooLarge(IgnoreRequest):
    """The body is past DOWNLOAD_MAXSIZE once its Content-Encoding is undone."""


class BrowserUnavailable(IgnoreRequest):
    """A page should be loaded in the browser, and the browser cannot be started."""


def request_host(request: Request) -> str:
    """The request's host name, lower-cased ("" when it has none)."""
    return (urlparse_cached(request).hostname or "").lower()


def request_kind(request: Request) -> str:
    """What a request fetches: article | feed | sitemap | section | robots | page."""
    kind = request.meta.get("kind")
    if isinstance(kind, str):
        return kind
    if request.meta.get("dont_obey_robotstxt") and urlparse_cached(request).path == "/robots.txt":
        return "robots"
    return "page"


def record_failure(
    crawler: Crawler, context: CrawlContext | None, request: Request, kind: str, message: str
) -> None:
    """Count a failed fetch in the crawl's stats and record it in the archive (if any)."""
    record_url_failure(crawler, context, request.url, kind, message)


def record_url_failure(
    crawler: Crawler, context: CrawlContext | None, url: str, kind: str, message: str
) -> None:
    """:func:`record_failure` for a URL with no Scrapy request (a browser's subresource)."""
    assert crawler.stats is not None
    crawler.stats.inc_value(f"newsvault/errors/{kind}")
    if context is None:
        return
    # Through the archive's writer thread when it runs, so the sink is used from one thread.
    target = context.writer if context.writer is not None else context.sink
    try:
        target.record_failure(url, kind, message[:2000])
    except Exception:  # recording must not turn one failed fetch into a crashed crawl
        logger.exception("could not record the failure of %s", url)


def _header_pairs(headers: Any) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for name, values in headers.items():
        key = name.decode("latin-1") if isinstance(name, bytes) else str(name)
        for value in values:
            pairs.append((key, value.decode("latin-1") if isinstance(value, bytes) else str(value)))
    return pairs


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def build_fetch(request: Request, response: Response) -> Fetch:
    """A :class:`Fetch` from one hop, body as received (still compressed if it was).

    A page the browser loaded is archived as the browser had it: its own request headers,
    the address it connected to, and its rendering (DOM, screenshot, resources).
    """
    captured = request.meta.get(BROWSER_RESULT)
    if isinstance(captured, Fetch):
        return replace(captured, kind=request_kind(request))
    try:
        canonical = canonicalize(response.url)
    except UnsupportedURL:
        canonical = response.url
    request_headers = _header_pairs(request.headers)
    if not any(k.lower() == "host" for k, _ in request_headers):
        # Twisted adds Host on the wire; keep it so the WARC request record is complete.
        request_headers.insert(0, ("Host", urlparse_cached(request).netloc))
    ip = getattr(response, "ip_address", None)
    return Fetch(
        url=response.url,
        canonical_url=canonical,
        method=request.method,
        request_headers=request_headers,
        protocol=getattr(response, "protocol", None) or "HTTP/1.1",
        status=response.status,
        reason=_reason(response.status),
        response_headers=_header_pairs(response.headers),
        body=response.body,
        fetched_at=datetime.now(UTC),
        ip_address=str(ip) if ip is not None else None,
        kind=request_kind(request),
    )
