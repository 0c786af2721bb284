"""What a crawl does with a host's robots.txt, from how fetching it went (RFC 9309 §2.3.1).

One table, read by the crawl (:mod:`crawler.middlewares.robots`) and by the probe
(:mod:`crawler.probe`), so ``sites validate`` reports what a crawl would do:

=============================  ================  =========================================
outcome of GET /robots.txt     action            why
=============================  ================  =========================================
2xx                            parse the body    the rules as published
3xx (a redirect not followed)  parse the body    redirects are followed by the fetcher
                                                 (the crawl: Scrapy's RedirectMiddleware;
                                                 the probe: up to 5); a 3xx that arrives
                                                 here is read like Scrapy does, as a body
4xx except 429                 allow all         "unavailable": there are no rules
429, 5xx                       disallow all      "unreachable": the host cannot say
network failure                disallow all      "unreachable" (DNS, refused, timeout,
                                                 too many redirects...)
=============================  ================  =========================================

Pure: no I/O; the callers fetch and then act on the :class:`RobotsDecision`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["RobotsAction", "RobotsDecision", "robots_decision"]


class RobotsAction(enum.Enum):
    PARSE = "parse"  # read the rules from the body
    ALLOW_ALL = "allow_all"  # no rules: every path may be fetched
    DISALLOW_ALL = "disallow_all"  # nothing on the host may be fetched (this crawl)


@dataclass(frozen=True)
class RobotsDecision:
    action: RobotsAction
    reason: str  # how the fetch went, e.g. "answered 503", "could not be fetched (...)"


def robots_decision(outcome: int | BaseException) -> RobotsDecision:
    """The decision for a robots.txt fetch that answered HTTP ``outcome`` or failed with it."""
    if isinstance(outcome, BaseException):
        return RobotsDecision(RobotsAction.DISALLOW_ALL, f"could not be fetched ({outcome})")
    status = outcome
    if status >= 500 or status == 429:
        return RobotsDecision(RobotsAction.DISALLOW_ALL, f"answered {status}")
    if 400 <= status < 500:
        return RobotsDecision(RobotsAction.ALLOW_ALL, f"answered {status}: unavailable")
    return RobotsDecision(RobotsAction.PARSE, f"answered {status}")
