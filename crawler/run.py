"""Run one crawl in this process and report its counts.

A Twisted reactor cannot be restarted: call :func:`run_crawl` once per process (callers start
``python -m newsvault.crawl_process`` as a fresh subprocess per crawl).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from scrapy.crawler import CrawlerProcess

from crawler.config import CrawlerConfig
from crawler.context import CONTEXT_ATTR, CrawlContext, Validators
from crawler.middlewares.common import FAILURE_KINDS
from crawler.settings import build_settings
from crawler.sink import ArchiveSink
from crawler.sitedef import SiteDefinition
from crawler.spider import NewsSpider

__all__ = ["ArchiveSink", "CrawlProgress", "CrawlStats", "Validators", "run_crawl"]


@dataclass(frozen=True)
class CrawlProgress:
    pages_fetched: int
    captures_archived: int
    errors: int
    bytes: int
    elapsed_s: float


@dataclass(frozen=True)
class CrawlStats:
    pages_fetched: int  # responses archived (every hop, retry attempt and robots.txt)
    captures_archived: int  # capture ids returned by the sink's commits
    articles_found: int  # distinct canonical URLs recognised as articles (2xx)
    errors_by_kind: dict[str, int] = field(default_factory=dict)
    bytes: int = 0  # bytes as received (compressed when sent compressed)
    duration_s: float = 0.0
    finish_reason: str = ""
    unchanged: int = 0  # 304 answers to conditional requests
    requests_scheduled: int = 0


def _errors(stats: dict[str, Any]) -> dict[str, int]:
    prefix = "newsvault/errors/"
    return {
        key.removeprefix(prefix): int(value)
        for key, value in stats.items()
        if key.startswith(prefix) and key.removeprefix(prefix) in FAILURE_KINDS
    }


def run_crawl(
    site: SiteDefinition,
    *,
    settings: CrawlerConfig,
    sink: ArchiveSink,
    on_committed: Callable[[list[int]], None],
    validators: Validators | None = None,
    concurrency: int | None = None,
    delay: float | None = None,
    progress: Callable[[CrawlProgress], None] | None = None,
    scrapy_overrides: dict[str, Any] | None = None,
) -> CrawlStats:
    """Crawl ``site`` to the end, archiving every response through ``sink``.

    Fetches are committed in batches (and at the end); each batch's capture ids go to
    ``on_committed``. The sink is left open: its owner closes it (``sink.close()``).
    """
    started = time.monotonic()

    def report(stats: Any) -> None:
        if progress is None:
            return
        values = stats.get_stats()
        progress(
            CrawlProgress(
                pages_fetched=int(values.get("newsvault/fetched", 0)),
                captures_archived=int(values.get("newsvault/captures", 0)),
                errors=sum(_errors(values).values()),
                bytes=int(values.get("newsvault/bytes", 0)),
                elapsed_s=time.monotonic() - started,
            )
        )

    process = CrawlerProcess(
        build_settings(
            settings, site, concurrency=concurrency, delay=delay, overrides=scrapy_overrides
        )
    )
    crawler = process.create_crawler(NewsSpider)
    setattr(
        crawler,
        CONTEXT_ATTR,
        CrawlContext(
            sink=sink,
            on_committed=on_committed,
            validators=validators,
            progress=report if progress is not None else None,
        ),
    )
    process.crawl(crawler, site=site)
    process.start()  # blocks until the crawl ends; the reactor stops for good
    assert crawler.stats is not None
    values = crawler.stats.get_stats()
    spider = crawler.spider
    return CrawlStats(
        pages_fetched=int(values.get("newsvault/fetched", 0)),
        captures_archived=int(values.get("newsvault/captures", 0)),
        articles_found=len(getattr(spider, "articles", ())),
        errors_by_kind=_errors(values),
        bytes=int(values.get("newsvault/bytes", 0)),
        duration_s=round(time.monotonic() - started, 3),
        finish_reason=str(values.get("finish_reason", "")),
        unchanged=int(getattr(spider, "unchanged", 0)),
        requests_scheduled=int(getattr(spider, "requested", 0)),
    )
