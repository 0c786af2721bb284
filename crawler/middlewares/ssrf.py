"""60: refuse non-http(s) URLs and IP literals outside the allowed networks, before any I/O."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.utils.httpobj import urlparse_cached

from crawler.ssrf import (
    ALLOWED_NETWORKS_SETTING,
    SsrfRefused,
    check_literal_host,
    policy_from_settings,
)

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.http import Request

__all__ = ["SsrfGuardMiddleware"]


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
