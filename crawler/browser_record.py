"""One page in the browser: every response it receives, its rendered DOM and a screenshot.

The way Browsertrix and pywb's recorder archive a page: each exchange the browser has for it
(the document and its redirect hops, scripts, XHR/fetch, images, CSS, fonts) becomes a
:class:`~storage.fetch.Fetch` of its own, archived as a request/response pair; the page's
DOM once it has loaded and settled is what extraction reads; a full-page PNG shows what a
reader saw.

What the browser hands over is not quite what came over the wire, and the archived headers
say so (as Browsertrix does): bodies arrive with their Content-Encoding undone, so that
header is kept as ``X-Archive-Orig-Content-Encoding`` and Content-Length is the body's;
a redirect has no body, so its status and headers are recorded with an empty one. Only GET
exchanges are recorded: the index keys captures by URL alone, and a POST's response is no
capture of its URL.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Coroutine
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from crawler.browser_guard import url_refusal
from storage.fetch import Fetch, Rendering
from vocabulary.canonical import UnsupportedURL, canonicalize

if TYPE_CHECKING:
    from playwright._impl._api_structures import HttpHeader
    from playwright.async_api import BrowserContext, Page, Request, Response, Route

    from crawler.browser_guard import GuardProxy
    from crawler.ssrf import NetworkPolicy

__all__ = [
    "Failure",
    "PageCapture",
    "PageError",
    "PageLimits",
    "archived_headers",
    "exchange_fetch",
    "record_page",
]

logger = logging.getLogger(__name__)

REQUISITE = "requisite"
_UTF8_BOM = "\ufeff"
# Chromium's error texts, as fetch failure kinds (anything else is "connection").
_ERROR_KINDS = {
    "net::ERR_NAME_NOT_RESOLVED": "dns",
    "net::ERR_NAME_RESOLUTION_FAILED": "dns",
    "net::ERR_CONNECTION_REFUSED": "refused",
    "net::ERR_TIMED_OUT": "timeout",
    "net::ERR_CONNECTION_TIMED_OUT": "timeout",
}
_VIA_PROXY = ("ERR_SOCKS", "ERR_PROXY", "ERR_TUNNEL")


@dataclass(frozen=True)
class PageLimits:
    """Bounds on one page: time, bytes, requests."""

    timeout: float  # seconds for the document to load (DOWNLOAD_TIMEOUT)
    settle: float  # at most this long waiting for the network to go quiet after load
    max_bytes: int  # largest body recorded (DOWNLOAD_MAXSIZE); the DOM too
    page_bytes: int  # all the bodies of one page together
    max_requests: int  # requests one page may make; the rest are refused


@dataclass(frozen=True)
class Failure:
    """A request of the page that got no recorded response, and why."""

    url: str
    kind: str  # a fetch failure kind: ssrf | too_large | dns | timeout | refused | connection
    message: str


@dataclass(frozen=True)
class PageCapture:
    """The page's document (its ``rendering`` set) and the requests that failed."""

    document: Fetch
    failures: tuple[Failure, ...] = ()
    skipped: int = 0  # exchanges not recorded: not GET


class PageError(Exception):
    """The document itself could not be loaded: a fetch failure kind and a message."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def archived_headers(headers: list[tuple[str, str]], body_length: int) -> list[tuple[str, str]]:
    """Response headers made consistent with the body the browser hands over.

    HTTP/2 pseudo-headers go (the record's status line says it all); a Content-Encoding the
    browser undid and a Content-Length that is not the body's are kept as
    ``X-Archive-Orig-*``, and the body's own length is given.
    """
    kept: list[tuple[str, str]] = []
    renamed = False
    for name, value in headers:
        lower = name.lower()
        if lower.startswith(":"):
            continue
        undone = lower == "content-encoding" and value.strip().lower() not in ("", "identity")
        if undone or (lower == "content-length" and value.strip() != str(body_length)):
            kept.append(("X-Archive-Orig-" + name, value))
            renamed = True
        else:
            kept.append((name, value))
    if renamed:
        kept = [(n, v) for n, v in kept if n.lower() != "content-length"]
        kept.append(("Content-Length", str(body_length)))
    return kept


def exchange_fetch(
    *,
    url: str,
    status: int,
    reason: str,
    request_headers: list[tuple[str, str]],
    response_headers: list[tuple[str, str]],
    body: bytes,
    ip_address: str | None,
    kind: str,
    fetched_at: datetime,
) -> Fetch:
    """One exchange the browser had, as the archive takes it."""
    try:
        canonical = canonicalize(url)
    except UnsupportedURL:
        canonical = url
    if not reason:
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = ""
    return Fetch(
        url=url,
        canonical_url=canonical,
        status=status,
        reason=reason,
        response_headers=archived_headers(response_headers, len(body)),
        body=body,
        fetched_at=fetched_at,
        method="GET",
        request_headers=[(n, v) for n, v in request_headers if not n.startswith(":")],
        # Replay tools read HTTP/1.x status lines; an HTTP/2 exchange is recorded as one too.
        protocol="HTTP/1.1",
        ip_address=ip_address,
        kind=kind,
    )


def _pairs(headers: list[HttpHeader]) -> list[tuple[str, str]]:
    return [(h["name"], h["value"]) for h in headers]


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return parts.hostname or "", port or (443 if parts.scheme in ("https", "wss") else 80)


async def _quietly(step: Awaitable[None]) -> None:
    """Await a route step; the page may have closed meanwhile, which is no error of ours."""
    try:
        await step
    except PlaywrightError as exc:
        logger.debug("route step after the page closed: %s", exc)


@dataclass(eq=False)
class PageRecorder:
    """Collects a page's exchanges from Playwright's events (``route``, requestfinished/failed)."""

    limits: PageLimits
    guard: GuardProxy
    policy: NetworkPolicy
    exchanges: dict[int, tuple[Request, Fetch]] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    refused: dict[str, Failure] = field(default_factory=dict)  # by route(), by URL
    navigation_failure: Failure | None = None
    requests: int = 0
    bytes: int = 0
    skipped: int = 0
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    # route(): the first check of every request ---------------------------------------------

    async def route(self, route: Route, request: Request) -> None:
        url = request.url
        reason, kind = url_refusal(url, self.policy), "ssrf"
        if reason is None and self.requests >= self.limits.max_requests:
            reason, kind = (
                f"the page made more than {self.limits.max_requests} requests",
                "too_large",
            )
        if reason is not None:
            failure = Failure(url, kind, f"{url}: {reason}")
            if url not in self.refused:
                self.refused[url] = failure
                self.failures.append(failure)
            await _quietly(route.abort("blockedbyclient"))
            return
        self.requests += 1
        host, _ = _host_port(url)
        if host:
            self.guard.note_page_host(host)
        await _quietly(route.continue_())

    # events ---------------------------------------------------------------------------------

    def on_finished(self, request: Request) -> None:
        self.later(self._record(request))

    def later(self, step: Coroutine[Any, Any, None]) -> None:
        """Run ``step`` as a task that :meth:`drain` waits for (event handlers are sync)."""
        task = asyncio.get_running_loop().create_task(step)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def on_failed(self, request: Request) -> None:
        url = request.url
        failure = self.refused.get(url) or self.failure_of(url, request.failure or "failed")
        if self._is_navigation(request):
            self.navigation_failure = failure
        if url not in self.refused:
            self.failures.append(failure)

    def failure_of(self, url: str, error: str) -> Failure:
        """A failed request as a fetch failure: the guard proxy says why it refused a connection."""
        text = error.split("\n", 1)[0].strip()
        if any(marker in text for marker in _VIA_PROXY):
            known = self.guard.failure(*_host_port(url))
            if known is not None:
                kind = "ssrf" if known.kind == "service" else known.kind
                return Failure(url, kind, f"{url}: {known.message}")
        code = text.split(" ", 1)[0]
        return Failure(url, _ERROR_KINDS.get(code, "connection"), f"{url}: {text}")

    @staticmethod
    def _is_navigation(request: Request) -> bool:
        try:
            frame = request.frame
            return request.is_navigation_request() and frame.parent_frame is None
        except PlaywrightError:  # a service worker's request has no frame
            return False

    async def _record(self, request: Request) -> None:
        try:
            response = await request.response()
            if response is not None:
                fetch = await self.exchange(request, response)
                if fetch is not None:
                    self.exchanges[id(request)] = (request, fetch)
        except PlaywrightError as exc:  # the page closed before the body was read
            logger.debug("%s: not recorded (%s)", request.url, exc)

    async def exchange(self, request: Request, response: Response) -> Fetch | None:
        """The exchange as a Fetch (kind ``requisite``), or None when it is not recorded."""
        url = request.url
        if request.method != "GET":
            self.skipped += 1
            return None
        status = response.status
        body = b""
        if not (300 <= status < 400 or status in (204, 304)):
            declared = await response.header_value("content-length")
            size = int(declared) if declared and declared.strip().isdigit() else 0
            if size <= self.limits.max_bytes:
                try:
                    body = await response.body()
                except PlaywrightError as exc:
                    logger.debug("%s: no body (%s)", url, exc)
                size = len(body)
            if size > self.limits.max_bytes:
                self._too_large(url, size)
                return None
        if self.bytes + len(body) > self.limits.page_bytes:
            message = f"{url}: the page's responses passed {self.limits.page_bytes} bytes"
            self.failures.append(Failure(url, "too_large", message))
            return None
        self.bytes += len(body)
        return exchange_fetch(
            url=url,
            status=status,
            reason=response.status_text,
            request_headers=_pairs(await request.headers_array()),
            response_headers=_pairs(await response.headers_array()),
            body=body,
            ip_address=self.guard.address(*_host_port(url)),
            kind=REQUISITE,
            fetched_at=datetime.now(UTC),
        )

    def _too_large(self, url: str, size: int) -> None:
        message = f"{url}: {size} bytes, past the {self.limits.max_bytes} byte cap"
        self.failures.append(Failure(url, "too_large", message))

    async def drain(self, timeout: float) -> None:
        """Wait (bounded) for the bodies still being read."""
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
            for task in pending:
                task.cancel()


async def record_page(
    context: BrowserContext,
    url: str,
    *,
    kind: str,
    limits: PageLimits,
    guard: GuardProxy,
    policy: NetworkPolicy,
) -> PageCapture:
    """Load ``url`` in a new page of ``context`` and record it; raises :class:`PageError`."""
    recorder = PageRecorder(limits, guard, policy)
    await context.route("**/*", recorder.route)
    page = await context.new_page()
    page.on("requestfinished", recorder.on_finished)
    page.on("requestfailed", recorder.on_failed)
    # Popups are no part of the article; the context's route() guards them meanwhile.
    page.on("popup", lambda popup: recorder.later(_close_popup(popup, url)))
    main = await _navigate(page, url, limits, recorder)
    await _settle(page, limits)
    html = await page.content()
    screenshot = await _screenshot(page, url, limits)
    await recorder.drain(timeout=limits.settle + 5)

    chain = [main.request]
    while (previous := chain[-1].redirected_from) is not None:
        chain.append(previous)
    taken = recorder.exchanges.pop(id(main.request), None)
    document = taken[1] if taken else await recorder.exchange(main.request, main)
    if document is None:
        failure = next((f for f in recorder.failures if f.url == main.request.url), None)
        raise PageError(
            failure.kind if failure else "other",
            failure.message if failure else f"{url}: the browser gave no body",
        )
    hops: list[Fetch] = []
    for hop in reversed(chain[1:]):  # the redirects that led to the document, in order
        recorded = recorder.exchanges.pop(id(hop), None)
        if recorded is not None:
            hops.append(replace(recorded[1], kind=kind))
    resources = [fetch for _, fetch in recorder.exchanges.values()]
    dom: bytes | None = (_UTF8_BOM + html).encode("utf-8")
    if dom is not None and len(dom) > limits.max_bytes:
        message = f"{url}: rendered DOM of {len(dom)} bytes, past the {limits.max_bytes} byte cap"
        recorder.failures.append(Failure(url, "too_large", message))
        dom = None
    rendering = Rendering(
        dom=dom,
        screenshot=screenshot,
        resources=(*hops, *resources),
    )
    return PageCapture(
        document=replace(document, kind=kind, rendering=rendering),
        failures=tuple(recorder.failures),
        skipped=recorder.skipped,
    )


async def _navigate(page: Page, url: str, limits: PageLimits, recorder: PageRecorder) -> Response:
    """Open ``url``: the document's response, once its DOM is ready (load is waited for later)."""
    try:
        main = await page.goto(url, wait_until="domcontentloaded", timeout=limits.timeout * 1000)
    except PlaywrightTimeout:
        raise PageError("timeout", f"{url}: not loaded within {limits.timeout:g} s") from None
    except PlaywrightError as exc:
        failure = recorder.navigation_failure or recorder.failure_of(url, exc.message)
        raise PageError(failure.kind, failure.message) from None
    if main is None:
        raise PageError("other", f"{url}: the browser gave no response")
    return main


async def _settle(page: Page, limits: PageLimits) -> None:
    """Wait for ``load``, then for the network to go quiet, each bounded: slow ads and
    long-polling never hold a capture, they only shorten what it holds."""
    for state, seconds in (("load", limits.timeout), ("networkidle", limits.settle)):
        try:
            await page.wait_for_load_state(state, timeout=seconds * 1000)  # type: ignore[arg-type]
        except PlaywrightTimeout:
            logger.debug("%s: no %s within %s s", page.url, state, seconds)


async def _screenshot(page: Page, url: str, limits: PageLimits) -> bytes | None:
    try:
        png = await page.screenshot(
            full_page=True, type="png", animations="disabled", timeout=limits.timeout * 1000
        )
    except PlaywrightError as exc:
        logger.warning("%s: no screenshot (%s)", url, exc.message.split("\n", 1)[0])
        return None
    if len(png) > limits.max_bytes:
        logger.warning(
            "%s: screenshot of %d bytes not kept (cap %d)", url, len(png), limits.max_bytes
        )
        return None
    return png


async def _close_popup(popup: Page, url: str) -> None:
    logger.info("%s opened a popup (%s): closed", url, popup.url)
    try:
        await popup.close()
    except PlaywrightError as exc:
        logger.debug("closing a popup failed: %s", exc)
