"""Politeness as the site sees it: Crawl-delay, Retry-After, robots.txt failures, User-Agent.

Timing is measured on the server side (arrival of each request line), each crawl in its own
process against a scripted server on 127.0.0.1. Plus unit tests of the pure parts.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from protego import Protego
from scrapy.http import Request, Response
from scrapy.utils.test import get_crawler

from crawler.middlewares.common import TooLarge
from crawler.middlewares.failures import classify_failure
from crawler.middlewares.politeness import PolitenessMiddleware, parse_retry_after
from tests.crawl_fixtures import (
    Arrival,
    CrawlResult,
    ScriptedSite,
    links_page,
    run_crawl_subprocess,
)

TOLERANCE = 0.05  # seconds: timer granularity between the client's clock and the server's


def crawl(
    site: ScriptedSite, tmp_path: Path, *, sections: list[str], delay: float, concurrency: int
) -> CrawlResult:
    config = {
        "site": {
            "name": "polite",
            "start": {"sections": [site.base + s for s in sections]},
            "limits": {"max_depth": 2},
        },
        "settings": {
            "home": str(tmp_path / "home"),
            "download_timeout": 2.0,
            "allowed_networks": ["127.0.0.0/8"],
        },
        "delay": delay,
        "concurrency": concurrency,
    }
    return run_crawl_subprocess(config, tmp_path / "out")


def gaps(arrivals: list[Arrival]) -> list[float]:
    return [b.at - a.at for a, b in itertools.pairwise(arrivals)]


# Crawls ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_crawl_delay_spaces_requests(tmp_path: Path) -> None:
    routes = {
        "/robots.txt": (200, {"Content-Type": "text/plain"}, b"User-agent: *\nCrawl-delay: 2\n"),
        "/news/": (200, {}, links_page(["/a/1.html"])),
        "/a/1.html": (200, {}, b"<html><body>one</body></html>"),
    }
    # A small site delay turns AutoThrottle on (start delay 1 s): Crawl-delay must win anyway.
    with ScriptedSite(routes) as site:
        result = crawl(site, tmp_path, sections=["/news/"], delay=0.2, concurrency=4)
    assert site.paths() == ["/robots.txt", "/news/", "/a/1.html"]
    assert min(gaps(site.arrivals)) >= 2 - TOLERANCE, gaps(site.arrivals)
    assert result.stats["pages_fetched"] == 3


@pytest.mark.slow
def test_retry_after_holds_every_request_to_the_host(tmp_path: Path) -> None:
    def news(hit: int) -> tuple[int, dict[str, str], bytes]:
        if hit == 1:
            return 429, {"Retry-After": "3"}, b"slow down"
        return 200, {}, links_page(["/a/1.html", "/a/2.html"])

    routes = {
        "/robots.txt": (404, {}, b""),
        "/news/": news,
        "/world/": (200, {}, links_page([])),
        "/a/1.html": (200, {}, b"<html><body>1</body></html>"),
        "/a/2.html": (200, {}, b"<html><body>2</body></html>"),
    }
    # Two start points, one request at a time: /world/ waits in the download slot while
    # /news/ gets its 429. (A delay above 0 makes Scrapy send queued requests one by one; at 0
    # it pops several at once, past the concurrency limit, before any answer can be read.)
    with ScriptedSite(routes) as site:
        result = crawl(site, tmp_path, sections=["/news/", "/world/"], delay=0.1, concurrency=1)
    arrivals = site.arrivals
    limited = next(i for i, a in enumerate(arrivals) if a.path == "/news/")
    after = arrivals[limited + 1 :]
    assert sorted(a.path for a in after) == ["/a/1.html", "/a/2.html", "/news/", "/world/"]
    assert after[0].at - arrivals[limited].at >= 3 - TOLERANCE, gaps(arrivals)
    # Once the host answers normally, the hold is lifted (at most one wait still pending).
    assert gaps(after)[-1] < 1.5, gaps(after)
    assert [f["status"] for f in result.fetched("/news/")] == [429, 200]


@pytest.mark.slow
def test_robots_500_means_nothing_else_is_fetched(tmp_path: Path) -> None:
    routes = {
        "/robots.txt": (500, {}, b"<h1>oops</h1>"),
        "/news/": (200, {}, links_page(["/a/1.html"])),
    }
    with ScriptedSite(routes) as site:
        result = crawl(site, tmp_path, sections=["/news/"], delay=0, concurrency=4)
    assert set(site.paths()) == {"/robots.txt"}
    assert result.failure_kinds() == {f"{site.base}/news/": "robots"}
    assert "robots.txt answered 500" in result.failures[0]["message"]


@pytest.mark.slow
def test_robots_404_allows_all_and_user_agent_names_the_project(tmp_path: Path) -> None:
    routes = {
        "/robots.txt": (404, {}, b"<h1>not here</h1>"),
        "/news/": (200, {}, links_page(["/private/a.html", "/a/1.html"])),
        "/private/a.html": (200, {}, b"<html><body>p</body></html>"),
        "/a/1.html": (200, {}, b"<html><body>1</body></html>"),
    }
    with ScriptedSite(routes) as site:
        result = crawl(site, tmp_path, sections=["/news/"], delay=0, concurrency=4)
    assert sorted(site.paths()) == ["/a/1.html", "/news/", "/private/a.html", "/robots.txt"]
    assert result.failures == []
    agents = {a.headers.get("user-agent", "") for a in site.arrivals}
    (agent,) = agents
    assert agent.startswith("newsvault/") and "+https://" in agent


# Pure parts -----------------------------------------------------------------------------------


def test_parse_retry_after_seconds_and_dates() -> None:
    assert parse_retry_after(b"3") == 3.0
    assert parse_retry_after(" 120 ") == 120.0
    now = datetime(2025, 1, 6, 10, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(later, now=now.timestamp()) == pytest.approx(30.0)
    earlier = format_datetime(now - timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(earlier, now=now.timestamp()) == 0.0
    for junk in (None, b"", "soon", "-5", "1.5"):
        assert parse_retry_after(junk) is None


def _middleware() -> PolitenessMiddleware:
    return PolitenessMiddleware(get_crawler(settings_dict={"DOWNLOAD_DELAY": 0.0}))


def _downloaded(
    mw: PolitenessMiddleware, status: int, headers: dict[str, str] | None = None
) -> None:
    request = Request("http://news.example/a")
    response = Response(request.url, status=status, headers=headers or {}, request=request)
    mw._response_downloaded(response=response, request=request)


def test_retry_after_floor_until_the_host_answers_normally() -> None:
    mw = _middleware()
    _downloaded(mw, 429, {"Retry-After": "3"})
    assert mw.floor("news.example") == 3.0
    _downloaded(mw, 503, {"Retry-After": "100000"})
    assert mw.floor("news.example") == PolitenessMiddleware.MAX_RETRY_AFTER
    _downloaded(mw, 200)
    assert mw.floor("news.example") == 0.0


def test_backoff_doubles_up_to_a_cap() -> None:
    mw = _middleware()
    floors = []
    for _ in range(10):
        _downloaded(mw, 500)
        floors.append(mw.floor("news.example"))
    assert floors[:3] == [0.5, 1.0, 2.0]
    assert floors[-1] == PolitenessMiddleware.BACKOFF_MAX
    _downloaded(mw, 404)  # a normal answer (for politeness): the host is responsive
    assert mw.floor("news.example") == 0.0


def test_crawl_delay_from_robots_is_capped_and_kept() -> None:
    mw = _middleware()

    class Parser:
        def __init__(self, text: str) -> None:
            self.rp = Protego.parse(text)

        def crawl_delay(self, user_agent: str) -> Any:
            return self.rp.crawl_delay(user_agent)

    request = Request("http://news.example/robots.txt")
    mw._robots_parsed(Parser("User-agent: *\nCrawl-delay: 2\n"), request)  # type: ignore[arg-type]
    assert mw.floor("news.example") == 2.0
    mw._robots_parsed(Parser("User-agent: *\nCrawl-delay: 3600\n"), request)  # type: ignore[arg-type]
    assert mw.floor("news.example") == PolitenessMiddleware.MAX_CRAWL_DELAY
    _downloaded(mw, 200)
    assert mw.floor("news.example") == PolitenessMiddleware.MAX_CRAWL_DELAY  # not lifted


def test_too_large_is_classified() -> None:
    request = Request("http://news.example/a")
    assert classify_failure(TooLarge("past DOWNLOAD_MAXSIZE"), request) == "too_large"
