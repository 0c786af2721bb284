"""The Scrapy settings of one crawl, from the configuration + the site + per-crawl overrides."""

from __future__ import annotations

from typing import Any

from crawler.config import CrawlerConfig
from crawler.sitedef import SiteDefinition
from crawler.ssrf import ALLOWED_NETWORKS_SETTING

# Scrapy setting read by crawler/browser_handler.py: the chromium of capture = "browser" sites.
CHROMIUM_SETTING = "NEWSVAULT_CHROMIUM_PATH"

DOWNLOADER_MIDDLEWARES: dict[str, int | None] = {
    "crawler.middlewares.ssrf.SsrfGuardMiddleware": 60,
    # Ours replaces Scrapy's at the same place in the chain.
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.robots.PolicyRobotsTxtMiddleware": 100,
    "crawler.middlewares.failures.FetchFailureMiddleware": 540,
    "crawler.middlewares.politeness.PolitenessMiddleware": 560,
    "crawler.middlewares.conditional.ConditionalRequestMiddleware": 570,
    # Decompression happens once, at 960 (capped, before archiving); 590 reuses the result.
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "crawler.middlewares.decompression.ReusingHttpCompressionMiddleware": 590,
    "crawler.middlewares.archive.ArchiveMiddleware": 950,
    "crawler.middlewares.decompression.DecompressionGuardMiddleware": 960,
}


def build_settings(
    settings: CrawlerConfig,
    site: SiteDefinition,
    *,
    concurrency: int | None = None,
    delay: float | None = None,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Scrapy settings for crawling ``site``.

    ``concurrency`` / ``delay`` override the site's politeness for this crawl. With a delay of
    0, AutoThrottle is off, so ``concurrency=16, delay=0`` runs under the same conditions as a
    bare Scrapy spider with CONCURRENT_REQUESTS(_PER_DOMAIN)=16 (the benchmark's baseline).
    """
    per_host = concurrency if concurrency is not None else site.politeness.concurrency
    pause = delay if delay is not None else site.politeness.delay
    networks = [*settings.allowed_networks, *site.allowed_networks]
    result: dict[str, Any] = {
        "BOT_NAME": "newsvault",
        "USER_AGENT": site.user_agent or settings.user_agent,
        "ROBOTSTXT_OBEY": True,
        "DOWNLOADER_MIDDLEWARES": dict(DOWNLOADER_MIDDLEWARES),
        "REQUEST_FINGERPRINTER_CLASS": "crawler.spider.CanonicalRequestFingerprinter",
        # Safety: no remote shells, only http(s), connect-time address checks.
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "DOWNLOAD_HANDLERS": {"file": None, "data": None, "ftp": None, "s3": None},
        "TWISTED_DNS_RESOLVER": "crawler.ssrf.GuardedResolver",
        ALLOWED_NETWORKS_SETTING: networks,
        # Robustness.
        "DOWNLOAD_MAXSIZE": settings.max_page_bytes,
        "DOWNLOAD_WARNSIZE": max(settings.max_page_bytes // 2, 1),
        "DOWNLOAD_TIMEOUT": settings.download_timeout,
        "DNS_TIMEOUT": min(settings.download_timeout, 20.0),
        "RETRY_ENABLED": True,
        "RETRY_TIMES": 2,
        "MEMUSAGE_LIMIT_MB": 1024,
        # Politeness.
        "CONCURRENT_REQUESTS": max(16, per_host),
        "CONCURRENT_REQUESTS_PER_DOMAIN": per_host,
        "DOWNLOAD_DELAY": pause,
        "AUTOTHROTTLE_ENABLED": pause > 0,
        "AUTOTHROTTLE_START_DELAY": max(pause, 1.0),
        "AUTOTHROTTLE_MAX_DELAY": 60.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(per_host),
        # Scope is the spider's business (max_depth, max_pages); Scrapy's DEPTH_LIMIT stays off.
        "DEPTH_LIMIT": 0,
        # A safety net above the spider's own page limit (retries and robots.txt count too).
        "CLOSESPIDER_PAGECOUNT": site.limits.max_pages * 3 + 10,
        "LOG_LEVEL": "INFO",
        "LOGSTATS_INTERVAL": 60.0,
        # The spider yields requests, never items; Scrapy still starts this many asyncio
        # workers per response to handle its output (100 by default), a measurable cost.
        "CONCURRENT_ITEMS": 4,
    }
    if site.capture == "browser":
        # Article pages go through chromium (crawler/browser_handler.py); the handler hands
        # every other request to Scrapy's own. Same downloader slots, same middlewares.
        handler = "crawler.browser_handler.BrowserDownloadHandler"
        result["DOWNLOAD_HANDLERS"] = {
            **result["DOWNLOAD_HANDLERS"],
            "http": handler,
            "https": handler,
        }
        result[CHROMIUM_SETTING] = str(settings.chromium_path)
    if overrides:
        result.update(overrides)
    return result
