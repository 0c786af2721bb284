"""100: Scrapy's robots.txt middleware, reading failures as RFC 9309 says."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler
from twisted.internet.defer import Deferred

from crawler.middlewares.common import RobotsDisallowed
from crawler.robots_policy import RobotsAction, robots_decision

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response
    from scrapy.robotstxt import RobotParser

__all__ = ["PolicyRobotsTxtMiddleware"]

logger = logging.getLogger(__name__)

_DISALLOW_ALL = b"User-agent: *\nDisallow: /\n"


class PolicyRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware with RFC 9309 §2.3.1.3-4 failure handling.

    Scrapy parses any response body (a 503 error page becomes "allow all") and allows all on
    a network error. Here the table of :func:`crawler.robots_policy.robots_decision` decides:
    2xx parsed; 4xx (except 429) "unavailable" = allow all; 5xx, 429 or a failed download
    "unreachable" = disallow all, for the rest of this crawl.
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
        decision = robots_decision(response.status)
        if decision.action is RobotsAction.DISALLOW_ALL:
            self._settle(netloc, self._disallow_all(netloc, decision.reason))
            return
        if decision.action is RobotsAction.ALLOW_ALL:
            self._stats.inc_value("robotstxt/response_count")
            # An empty file parses as allow-all.
            self._settle(netloc, build_from_crawler(self._parserimpl, self.crawler, b""))
            return
        await super()._parse_robots(response, netloc, request)

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        decision = robots_decision(exc)
        self._settle(netloc, self._disallow_all(netloc, decision.reason))

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
