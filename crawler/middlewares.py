"""Downloader middlewares: archive every response raw, and the politeness/safety policies.

Order (DOWNLOADER_MIDDLEWARES priorities; process_request runs low -> high, process_response
and process_exception high -> low):

====  ===============================  ======================================================
  60  :class:`SsrfGuardMiddleware`      refuse IP-literal targets before robots.txt is fetched
 100  :class:`PolicyRobotsTxtMiddleware` Scrapy's, with RFC 9309 handling of 4xx/5xx/errors
 540  :class:`FetchFailureMiddleware`   record the failures Retry gave up on (one per request)
 560  :class:`PolitenessMiddleware`     Crawl-delay, Retry-After, 5xx backoff on the slot
 570  :class:`ConditionalRequestMiddleware`  If-None-Match / If-Modified-Since from the archive
 590  :class:`ReusingHttpCompressionMiddleware`  Scrapy's, reusing the body decoded at 960
 950  :class:`ArchiveMiddleware`        every response as received: below HttpCompression
                                        (590) so bodies are still compressed, below Redirect
                                        (600) and Retry (550) so every hop/attempt is kept
 960  :class:`DecompressionGuardMiddleware`  decode (size-capped) before archiving: a body
                                        past the cap once decompressed (a "zip bomb") is
                                        recorded as too_large and never archived
====  ===============================  ======================================================
"""

from __future__ import annotations

import email.utils
import logging
import time
from datetime import UTC, datetime
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    NotConfigured,
    ResponseDataLossError,
)
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler
from twisted.internet import error as txerror
from twisted.internet.defer import Deferred
from twisted.internet.task import LoopingCall

from crawler.context import CrawlContext, context_of
from crawler.sinkthread import SinkThread
from crawler.ssrf import (
    ALLOWED_NETWORKS_SETTING,
    SsrfRefused,
    check_literal_host,
    policy_from_settings,
    refusal_for_host,
)
from storage.fetch import Fetch
from vocabulary.canonical import UnsupportedURL, canonicalize

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response
    from scrapy.robotstxt import RobotParser

logger = logging.getLogger(__name__)

FAILURE_KINDS = ("dns", "timeout", "refused", "robots", "too_large", "ssrf", "connection", "other")
_DISALLOW_ALL = b"User-agent: *\nDisallow: /\n"


class RobotsDisallowed(IgnoreRequest):
    """robots.txt forbids the URL (or could not be fetched, which RFC 9309 treats the same)."""


class TooLarge(IgnoreRequest):
    """The body is past DOWNLOAD_MAXSIZE once its Content-Encoding is undone."""


def _host(request: Request) -> str:
    return (urlparse_cached(request).hostname or "").lower()


def request_kind(request: Request) -> str:
    """What a request fetches: article | feed | sitemap | section | robots | page."""
    kind = request.meta.get("kind")
    if isinstance(kind, str):
        return kind
    if request.meta.get("dont_obey_robotstxt") and urlparse_cached(request).path == "/robots.txt":
        return "robots"
    return "page"


# 60 -------------------------------------------------------------------------------------------


class SsrfGuardMiddleware:
    """Refuse non-http(s) URLs and IP literals outside the allowed networks, before any I/O.

    Host names are checked by :class:`crawler.ssrf.GuardedResolver` at connect time; a literal
    never reaches a resolver, so it is checked here.
    """

    def __init__(self, networks: list[str]) -> None:
        self.policy = policy_from_settings(networks)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler.settings.getlist(ALLOWED_NETWORKS_SETTING))

    def process_request(self, request: Request) -> None:
        parsed = urlparse_cached(request)
        if parsed.scheme not in ("http", "https"):
            raise SsrfRefused(f"scheme {parsed.scheme}: is not crawled")
        reason = check_literal_host(parsed.hostname or "", self.policy)
        if reason is not None:
            raise SsrfRefused(reason)


# 100 ------------------------------------------------------------------------------------------


class PolicyRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware with RFC 9309 §2.3.1.3-4 failure handling.

    Scrapy parses any response body (a 503 error page becomes "allow all") and allows all on
    a network error. Here: 2xx parsed; 4xx (except 429) "unavailable" = allow all; 5xx, 429
    or a failed download "unreachable" = disallow all, for the rest of this crawl.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self._unreachable: dict[str, str] = {}

    def _disallow_all(self, netloc: str, why: str) -> RobotParser:
        self._unreachable[netloc] = why
        logger.warning("robots.txt of %s %s: disallowing the whole host (RFC 9309)", netloc, why)
        self._stats.inc_value("newsvault/robots/unreachable")
        parser: RobotParser = build_from_crawler(self._parserimpl, self.crawler, _DISALLOW_ALL)
        return parser

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        status = response.status
        if status >= 500 or status == 429:
            self._settle(netloc, self._disallow_all(netloc, f"answered {status}"))
            return
        if 400 <= status < 500:
            self._stats.inc_value("robotstxt/response_count")
            # "Unavailable": no rules. An empty file parses as allow-all.
            self._settle(netloc, build_from_crawler(self._parserimpl, self.crawler, b""))
            return
        await super()._parse_robots(response, netloc, request)

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        self._settle(netloc, self._disallow_all(netloc, f"could not be fetched ({exc})"))

    def _settle(self, netloc: str, parser: RobotParser) -> None:
        pending = self._parsers[netloc]
        self._parsers[netloc] = parser
        if isinstance(pending, Deferred):
            pending.callback(parser)

    def process_request_2(self, rp: RobotParser | None, request: Request) -> None:
        try:
            super().process_request_2(rp, request)
        except IgnoreRequest:
            why = self._unreachable.get(urlparse_cached(request).netloc)
            raise RobotsDisallowed(
                f"robots.txt {why}" if why else "Forbidden by robots.txt"
            ) from None


# 540 ------------------------------------------------------------------------------------------


def classify_failure(exc: BaseException, request: Request) -> str:
    """The failure kind recorded for a request that ended in ``exc``."""
    if isinstance(exc, SsrfRefused) or refusal_for_host(_host(request)):
        return "ssrf"
    if isinstance(exc, RobotsDisallowed):
        return "robots"
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
        context = context_of(crawler)
        if context is None:
            raise NotConfigured("no archive sink for this crawl")
        return cls(crawler, context)

    def process_exception(self, request: Request, exception: Exception) -> None:
        kind = classify_failure(exception, request)
        message = str(exception) or type(exception).__name__
        if kind == "ssrf" and not isinstance(exception, SsrfRefused):
            message = refusal_for_host(_host(request)) or message
        record_failure(self.crawler, self.context, request, kind, message)


def record_failure(
    crawler: Crawler, context: CrawlContext | None, request: Request, kind: str, message: str
) -> None:
    """Count a failed fetch in the crawl's stats and record it in the archive (if any)."""
    assert crawler.stats is not None
    crawler.stats.inc_value(f"newsvault/errors/{kind}")
    if context is None:
        return
    # Through the archive's writer thread when it runs, so the sink is used from one thread.
    target = context.writer if context.writer is not None else context.sink
    try:
        target.record_failure(request.url, kind, message[:2000])
    except Exception:  # recording must not turn one failed fetch into a crashed crawl
        logger.exception("could not record the failure of %s", request.url)


# 560 ------------------------------------------------------------------------------------------


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
                logger.warning("Crawl-delay %s of %s capped to %s s", delay, _host(request), capped)
            self.crawl_delay[_host(request)] = capped
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
        floor = self.floor(_host(request))
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
        host = _host(request)
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
            self._back_off(_host(request))
            self._apply(request)

    def _back_off(self, host: str) -> None:
        previous = self.backoff.get(host)
        self.backoff[host] = (
            self.BACKOFF_BASE if previous is None else min(previous * 2, self.BACKOFF_MAX)
        )


# 570 ------------------------------------------------------------------------------------------


class ConditionalRequestMiddleware:
    """Re-crawls ask "changed since the last capture?"; a 304 is archived as a revisit.

    Only pages that may be articles are asked: feeds, sitemaps and section pages are fetched
    whole every time, because a 304 there would leave the spider with no links to follow.
    """

    conditional_kinds = frozenset({"article", "page"})

    def __init__(self, context: CrawlContext) -> None:
        if context.validators is None:
            raise NotConfigured("no validators")
        self.validators = context.validators

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        context = context_of(crawler)
        if context is None:
            raise NotConfigured("no crawl context")
        return cls(context)

    def process_request(self, request: Request) -> None:
        if request.method != "GET" or request_kind(request) not in self.conditional_kinds:
            return
        if b"If-None-Match" in request.headers or b"If-Modified-Since" in request.headers:
            return
        try:
            # The spider's requests are canonical already (not after a redirect).
            made = request.meta.get("nv_canonical") and not request.meta.get("redirect_urls")
            canonical = request.url if made else canonicalize(request.url)
            known = self.validators(canonical)
        except UnsupportedURL:
            return
        if not known:
            return
        etag, last_modified = known
        if etag:
            request.headers[b"If-None-Match"] = etag
        if last_modified:
            request.headers[b"If-Modified-Since"] = last_modified
        if etag or last_modified:
            allowed = list(request.meta.get("handle_httpstatus_list", []))
            if 304 not in allowed:
                request.meta["handle_httpstatus_list"] = [*allowed, 304]


# 590 and 960 ----------------------------------------------------------------------------------

# request.meta key: (raw response, decoded response) from the guard at 960 for the 590 step.
_DECODED_META = "_newsvault_decoded"


class DecompressionGuardMiddleware(HttpCompressionMiddleware):
    """Undo Content-Encoding *before* the response is archived, within DOWNLOAD_MAXSIZE.

    Scrapy's HttpCompressionMiddleware (590) refuses a body that grows past the cap while
    decompressing, but it raises IgnoreRequest from ``process_response``: that goes to the
    request's errback, past every ``process_exception``, so nothing was recorded, and the
    archive (950) had already stored the bomb for processing to inflate later. Decoding here,
    above the archive, records it as ``too_large`` and keeps it out of the archive. The
    decoded response is handed down to 590 so bodies are decompressed once.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler=crawler)
        self.crawler = crawler
        self.context = context_of(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("COMPRESSION_ENABLED"):
            raise NotConfigured
        return cls(crawler)

    def process_request(self, request: Request) -> None:  # type: ignore[override]
        return None  # Accept-Encoding is set by the 590 middleware

    def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Response:
        request.meta.pop(_DECODED_META, None)
        if not response.headers.get(b"Content-Encoding"):
            return response
        try:
            # A copy of the headers: Scrapy's middleware edits Content-Encoding in place, and
            # the archive must store the headers as received.
            view = response.replace(headers=response.headers.copy())
            decoded = super().process_response(request, view)
        except IgnoreRequest as exc:
            record_failure(self.crawler, self.context, request, "too_large", str(exc))
            raise TooLarge(str(exc)) from None
        if decoded is not view:
            request.meta[_DECODED_META] = (response, decoded)
        return response


class ReusingHttpCompressionMiddleware(HttpCompressionMiddleware):
    """Scrapy's, taking the body :class:`DecompressionGuardMiddleware` already decoded."""

    def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Request | Response:
        stashed = request.meta.pop(_DECODED_META, None)
        # Identity check: a redirect copies meta into the next request, so a stash may be
        # from another hop.
        if stashed is not None and stashed[0] is response:
            return stashed[1]
        return super().process_response(request, response)


# 950 ------------------------------------------------------------------------------------------


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
    """A :class:`Fetch` from one hop, body as received (still compressed if it was)."""
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
        context = context_of(crawler)
        if context is None:
            raise NotConfigured("no archive sink for this crawl")
        return cls(crawler, context)

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
