"""The crawl's one browser: Debian's chromium driven by Playwright, started on first use.

One browser per crawl process (started when the first page needs it, so a crawl of a
``capture = "page"`` site never starts one), a fresh context per page (no cookies, cache or
storage shared between articles: every page's resources come over the network and are
recorded), closed after. Every connection chromium makes goes through the crawl's SSRF guard
(:mod:`crawler.browser_guard`).

``playwright install`` downloads a browser and cannot work offline; the system chromium is
used instead (``scripts/browser.sh --install``; ``NEWSVAULT_CHROMIUM_PATH`` names another).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.browser_guard import GuardProxy
from crawler.browser_record import PageCapture, PageLimits, record_page
from crawler.middlewares.common import BrowserUnavailable

if TYPE_CHECKING:
    from crawler.ssrf import NetworkPolicy

__all__ = ["CHROMIUM_ARGS", "BrowserSession"]

logger = logging.getLogger(__name__)

CHROMIUM_ARGS = [
    "--no-sandbox",  # crawl workers run in containers, often as root
    "--disable-gpu",
    "--disable-dev-shm-usage",  # containers' /dev/shm is small
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--no-first-run",
    "--no-pings",
    "--mute-audio",
    # WebRTC's UDP would not go through the guard proxy: allow only proxied (TCP) traffic.
    "--force-webrtc-ip-handling-policy",
    "--webrtc-ip-handling-policy=disable_non_proxied_udp",
]
VIEWPORT = {"width": 1280, "height": 900}


class BrowserSession:
    """Launches chromium once (lazily) and records pages in fresh contexts."""

    def __init__(
        self,
        chromium: Path,
        policy: NetworkPolicy,
        *,
        user_agent: str,
        connect_timeout: float,
    ) -> None:
        self.chromium = chromium
        self.policy = policy
        self.user_agent = user_agent
        self.guard = GuardProxy(policy, connect_timeout=connect_timeout)
        self._playwright: Any = None
        self._browser: Any = None
        self._lock = asyncio.Lock()
        # A browser that could not start is not tried again for every article.
        self._unavailable: str | None = None

    async def record(self, url: str, *, kind: str, limits: PageLimits) -> PageCapture:
        """Load ``url`` in a new page and record it (see :func:`record_page`)."""
        browser = await self._started()
        context = await browser.new_context(
            user_agent=self.user_agent,
            viewport=VIEWPORT,
            service_workers="block",  # a worker's fetches would bypass route()
            accept_downloads=False,
            # As Scrapy's own fetches (DOWNLOAD_VERIFY_CERTIFICATES is off): an archive keeps
            # what a site served, whatever its certificate says.
            ignore_https_errors=True,
        )
        try:
            return await record_page(
                context, url, kind=kind, limits=limits, guard=self.guard, policy=self.policy
            )
        finally:
            try:
                await context.close()
            except Exception as exc:  # the browser died meanwhile: the next page says so
                logger.warning("closing the page of %s failed: %s", url, exc)

    async def _started(self) -> Any:
        async with self._lock:
            if self._unavailable is not None:
                raise BrowserUnavailable(self._unavailable)
            if self._browser is None or not self._browser.is_connected():
                try:
                    self._browser = await self._launch()
                except BrowserUnavailable as exc:
                    self._unavailable = str(exc)
                    raise
            return self._browser

    async def _launch(self) -> Any:
        if not self.chromium.is_file():
            raise BrowserUnavailable(
                f"chromium not found at {self.chromium}: run scripts/browser.sh --install "
                "(or set NEWSVAULT_CHROMIUM_PATH)"
            )
        from playwright.async_api import Error as PlaywrightError
        from playwright.async_api import async_playwright

        proxy = await self.guard.start()
        try:
            if self._playwright is None:
                self._playwright = await async_playwright().start()
            browser = await self._playwright.chromium.launch(
                executable_path=str(self.chromium),
                args=CHROMIUM_ARGS,
                # Playwright also proxies loopback then (<-loopback>): nothing bypasses the guard.
                proxy={"server": proxy},
                timeout=30_000,
            )
        except PlaywrightError as exc:
            await self.guard.close()
            first = exc.message.strip().split("\n", 1)[0]
            raise BrowserUnavailable(
                f"chromium at {self.chromium} did not start: {first} "
                "(scripts/browser.sh --install installs a working one)"
            ) from None
        logger.info("browser started: %s %s", self.chromium, browser.version)
        return browser

    async def close(self) -> None:
        """Close the browser, Playwright and the guard proxy (the crawl ends)."""
        if self._browser is not None:
            try:
                await self._browser.close()
            except Exception as exc:
                logger.warning("closing the browser failed: %s", exc)
            self._browser = None
        if self._playwright is not None:
            await self._playwright.stop()
            self._playwright = None
        await self.guard.close()
