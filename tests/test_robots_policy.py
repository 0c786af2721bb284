"""The RFC 9309 robots.txt table (crawler.robots_policy), and the probe reading it.

The crawl's side (Scrapy middleware) is covered end to end in test_politeness.py and
test_crawler.py (robots.txt answering 404, 500, 503).
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from crawler.probe import MAX_REDIRECTS, Fetcher, ProbeError, RobotsCache
from crawler.robots_policy import RobotsAction, robots_decision
from crawler.ssrf import NetworkPolicy
from tests.crawl_fixtures import ScriptedSite


@pytest.mark.parametrize("status", [200, 203, 204, 299])
def test_2xx_is_parsed(status: int) -> None:
    assert robots_decision(status).action is RobotsAction.PARSE


@pytest.mark.parametrize("status", [300, 301, 302, 304, 307, 308])
def test_a_3xx_not_followed_is_parsed_as_a_body(status: int) -> None:
    # Fetchers follow redirects themselves; a 3xx reaching the table had no usable Location.
    assert robots_decision(status).action is RobotsAction.PARSE


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 451, 499])
def test_4xx_is_unavailable_so_everything_is_allowed(status: int) -> None:
    decision = robots_decision(status)
    assert decision.action is RobotsAction.ALLOW_ALL
    assert decision.reason.startswith(f"answered {status}")


def test_429_is_unreachable_so_everything_is_disallowed() -> None:
    decision = robots_decision(429)
    assert decision.action is RobotsAction.DISALLOW_ALL
    assert decision.reason == "answered 429"


@pytest.mark.parametrize("status", [500, 502, 503, 504, 599])
def test_5xx_is_unreachable_so_everything_is_disallowed(status: int) -> None:
    decision = robots_decision(status)
    assert decision.action is RobotsAction.DISALLOW_ALL
    assert decision.reason == f"answered {status}"


@pytest.mark.parametrize(
    "failure",
    [TimeoutError("timed out"), ConnectionRefusedError("refused"), ProbeError("DNS lookup failed")],
)
def test_a_network_failure_is_unreachable(failure: Exception) -> None:
    decision = robots_decision(failure)
    assert decision.action is RobotsAction.DISALLOW_ALL
    assert decision.reason == f"could not be fetched ({failure})"


# The probe: redirects followed up to MAX_REDIRECTS, then the table ----------------------------


def _robots_after(hops: int) -> ScriptedSite:
    """robots.txt reached after ``hops`` redirects (/robots.txt -> /r1 -> ... -> /r<hops>)."""
    chain = ["/robots.txt", *(f"/r{n}" for n in range(1, hops + 1))]
    routes: dict[str, Any] = {a: (302, {"Location": b}, b"") for a, b in itertools.pairwise(chain)}
    routes[chain[-1]] = (200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /p/\n")
    return ScriptedSite(routes)


def _cache() -> RobotsCache:
    policy = NetworkPolicy(["127.0.0.0/8"])
    return RobotsCache(Fetcher(policy, user_agent="test-agent", timeout=5.0, max_bytes=1 << 20))


@pytest.mark.parametrize("hops", [0, 1, MAX_REDIRECTS])
def test_probe_follows_redirects_to_the_rules(hops: int) -> None:
    with _robots_after(hops) as site:
        robots = _cache()
        assert robots.refusal(site.base + "/news/a.html") is None
        assert robots.refusal(site.base + "/p/b.html") == "robots.txt disallows it"


def test_probe_past_the_redirect_limit_disallows_the_host() -> None:
    with _robots_after(MAX_REDIRECTS + 1) as site:
        why = _cache().refusal(site.base + "/news/a.html")
    assert why is not None
    assert why.startswith("robots.txt could not be fetched (")
    assert why.endswith(": the crawl would disallow the host")


@pytest.mark.parametrize(
    ("status", "allowed"), [(404, True), (403, True), (429, False), (500, False), (503, False)]
)
def test_probe_reads_statuses_as_the_table_says(status: int, allowed: bool) -> None:
    with ScriptedSite({"/robots.txt": (status, {}, b"User-agent: *\nDisallow: /\n")}) as site:
        why = _cache().refusal(site.base + "/news/a.html")
    if allowed:
        assert why is None
    else:
        assert why == f"robots.txt answered {status}: the crawl would disallow the host"
