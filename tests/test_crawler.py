"""The crawler against a fixture news site over real HTTP, each crawl in its own process."""

from __future__ import annotations

import gzip
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.crawl_fixtures import ARABIC_TEXT, CrawlResult, FixtureSite, run_crawl_subprocess

pytestmark = pytest.mark.slow

FAST = {"concurrency": 8, "delay": 0}


def _settings(home: Path, **extra: Any) -> dict[str, Any]:
    return {
        "home": str(home),
        "download_timeout": 1.0,
        "max_page_bytes": 200_000,
        **extra,
    }


@pytest.fixture(scope="module")
def site() -> Any:
    fixture = FixtureSite().start()
    yield fixture
    fixture.stop()


@pytest.fixture(scope="module")
def crawl(site: FixtureSite, tmp_path_factory: pytest.TempPathFactory) -> CrawlResult:
    base = site.base
    config = {
        "site": {
            "name": "fixture",
            "start": {
                "feeds": [f"{base}/feed.rss", f"{base}/feed.atom"],
                "sitemaps": [f"{base}/sitemap_index.xml"],
                "sections": [f"{base}/news/"],
            },
            "limits": {"max_depth": 2, "max_age_days": 3650},
        },
        "settings": _settings(tmp_path_factory.mktemp("home"), allowed_networks=["127.0.0.0/8"]),
        # The archive already holds a2 with this ETag: the crawl must ask conditionally.
        "validators": {f"{base}/articles/a2.html": ['"a2-v1"', None]},
        **FAST,
    }
    return run_crawl_subprocess(config, tmp_path_factory.mktemp("crawl"))


def test_disallowed_path_is_never_requested_and_recorded(
    site: FixtureSite, crawl: CrawlResult
) -> None:
    assert not [p for p in site.paths() if p.startswith("/private/")]
    assert crawl.failure_kinds()[f"{site.base}/private/secret.html"] == "robots"
    assert site.paths()[0] == "/robots.txt"


def test_each_canonical_url_fetched_once(site: FixtureSite, crawl: CrawlResult) -> None:
    counts = Counter(site.paths())
    # a1 is linked with fbclid/utm_* spellings, from RSS (utm_*) and Atom (#fragment).
    assert counts["/articles/a1.html"] == 1
    assert counts["/articles/a2.html"] == 1
    assert counts["/robots.txt"] == 1
    retried = {"/flaky.html", "/slow.html"}
    assert {p: n for p, n in counts.items() if n > 1 and p not in retried} == {}
    canonical = Counter(
        f["canonical_url"] for f in crawl.fetches if f["status"] < 300 and f["kind"] != "robots"
    )
    assert [url for url, n in canonical.items() if n > 1 and "flaky" not in url] == []


def test_feed_and_sitemap_routes_and_age_limit(site: FixtureSite, crawl: CrawlResult) -> None:
    paths = set(site.paths())
    assert {"/articles/a3.html", "/articles/a4.html", "/articles/arabic.html"} <= paths
    # Entries dated 2001/2003 are past max_age_days.
    assert "/articles/old.html" not in paths and "/articles/a9.html" not in paths
    kinds = {f["url"].removeprefix(site.base): f["kind"] for f in crawl.fetches}
    assert kinds["/robots.txt"] == "robots"
    assert kinds["/feed.rss"] == kinds["/feed.atom"] == "feed"
    assert kinds["/sitemap_index.xml"] == kinds["/sitemap-news.xml.gz"] == "sitemap"
    assert kinds["/news/"] == kinds["/news/?page=2"] == "section"
    assert kinds["/articles/a4.html"] == "article"


def test_gzip_body_stored_as_received(crawl: CrawlResult) -> None:
    (fetch,) = crawl.fetched("/articles/a1.html")
    body = crawl.body(fetch)
    assert body[:2] == b"\x1f\x8b"
    assert b"Article 1" in gzip.decompress(body)
    assert ("Content-Encoding", "gzip") in [tuple(h) for h in fetch["response_headers"]]
    # The gzipped sitemap file is also kept byte for byte.
    (sitemap,) = crawl.fetched("/sitemap-news.xml.gz")
    assert crawl.body(sitemap)[:2] == b"\x1f\x8b"


def test_redirect_hops_all_archived(crawl: CrawlResult) -> None:
    statuses = [
        (f["url"].split("/", 3)[-1], f["status"])
        for f in crawl.fetches
        if "redirect" in f["url"] or "a7" in f["url"]
    ]
    assert ("redirect1", 302) in statuses
    assert ("redirect2", 301) in statuses
    assert [s for u, s in statuses if u.startswith("articles/a7.html")] == [200]


def test_error_pages_archived_and_retried(crawl: CrawlResult) -> None:
    assert [f["status"] for f in crawl.fetched("/missing.html")] == [404]
    assert [f["status"] for f in crawl.fetched("/flaky.html")] == [500, 200]
    (fetch,) = crawl.fetched("/missing.html")
    assert fetch["reason"] == "Not Found" and fetch["protocol"] == "HTTP/1.1"
    assert fetch["ip_address"] == "127.0.0.1"


def test_timeout_and_size_cap_recorded(site: FixtureSite, crawl: CrawlResult) -> None:
    kinds = crawl.failure_kinds()
    assert kinds[f"{site.base}/slow.html"] == "timeout"
    assert kinds[f"{site.base}/big.html"] == "too_large"
    assert crawl.fetched("/slow.html") == [] and crawl.fetched("/big.html") == []
    assert site.count("/slow.html") == 3  # first attempt + 2 retries
    assert crawl.stats["errors_by_kind"] == {"robots": 1, "timeout": 1, "too_large": 3}


def test_decompression_bombs_recorded_as_too_large_and_not_archived(
    site: FixtureSite, crawl: CrawlResult
) -> None:
    kinds = crawl.failure_kinds()
    for path in ("/bomb.html", "/bomb-br.html"):
        assert site.count(path) == 1  # not retried: the answer would be the same
        assert kinds[f"{site.base}{path}"] == "too_large"
        # Never archived: processing would inflate it again.
        assert crawl.fetched(path) == []
    (message,) = [f["message"] for f in crawl.failures if f["url"].endswith("/bomb.html")]
    assert "decompression" in message


def test_pdf_arabic_and_malformed_pages(crawl: CrawlResult) -> None:
    (pdf,) = crawl.fetched("/docs/report.pdf")
    assert crawl.body(pdf).startswith(b"%PDF")
    (arabic,) = crawl.fetched("/articles/arabic.html")
    assert ARABIC_TEXT.encode("cp1256") in crawl.body(arabic)
    # Links inside malformed HTML are still followed.
    assert crawl.fetched("/articles/a8.html")


def test_amp_page_leads_to_its_canonical_article(site: FixtureSite, crawl: CrawlResult) -> None:
    assert site.count("/articles/amp/a6.html") == 1
    assert [f["kind"] for f in crawl.fetched("/articles/a6.html")] == ["article"]
    assert site.count("/articles/amp/a1.html") == 0


def test_conditional_request_and_304(site: FixtureSite, crawl: CrawlResult) -> None:
    (seen,) = [r for r in site.requests if r.path == "/articles/a2.html"]
    assert seen.headers["if-none-match"] == '"a2-v1"'
    assert [f["status"] for f in crawl.fetched("/articles/a2.html")] == [304]
    assert crawl.stats["unchanged"] == 1


def test_commits_report_every_capture(crawl: CrawlResult) -> None:
    ids = [i for batch in crawl.commits for i in batch]
    assert ids == list(range(1, len(crawl.fetches) + 1))
    assert crawl.stats["captures_archived"] == len(crawl.fetches) == crawl.stats["pages_fetched"]
    assert crawl.stats["finish_reason"] == "finished"
    assert crawl.stats["articles_found"] >= 6


def test_ssrf_refused_without_allowed_networks(tmp_path: Path) -> None:
    fixture = FixtureSite().start()
    try:
        port = fixture.port
        config = {
            "site": {
                "name": "ssrf",
                "start": {
                    "sections": [f"http://127.0.0.1:{port}/news/", f"http://localhost:{port}/"],
                    "feeds": [f"http://[::ffff:127.0.0.1]:{port}/feed.rss"],
                },
            },
            "settings": _settings(tmp_path / "home"),
            **FAST,
        }
        result = run_crawl_subprocess(config, tmp_path / "out")
    finally:
        fixture.stop()
    assert fixture.requests == []
    assert result.fetches == []
    kinds = result.failure_kinds()
    assert kinds[f"http://127.0.0.1:{port}/news/"] == "ssrf"
    assert kinds[f"http://localhost:{port}/"] == "ssrf"
    assert kinds[f"http://[::ffff:7f00:1]:{port}/feed.rss"] == "ssrf"


def test_robots_503_means_nothing_else_is_fetched(tmp_path: Path) -> None:
    fixture = FixtureSite(robots_status=503).start()
    try:
        config = {
            "site": {
                "name": "down",
                "start": {
                    "sections": [f"{fixture.base}/news/"],
                    "feeds": [f"{fixture.base}/feed.rss"],
                },
            },
            "settings": _settings(tmp_path / "home", allowed_networks=["127.0.0.0/8"]),
            **FAST,
        }
        result = run_crawl_subprocess(config, tmp_path / "out")
    finally:
        fixture.stop()
    assert set(fixture.paths()) == {"/robots.txt"}
    assert {f["status"] for f in result.fetches} == {503}  # each attempt archived
    assert set(result.failure_kinds().values()) == {"robots"}


def test_zero_config_discovers_feeds_and_sitemaps(tmp_path: Path) -> None:
    fixture = FixtureSite().start()
    try:
        config = {
            "site": {
                "name": "zero",
                "start": {"sections": [f"{fixture.base}/"]},
                "discover": True,
                "limits": {"max_depth": 1},
            },
            "settings": _settings(tmp_path / "home", allowed_networks=["127.0.0.0/8"]),
            **FAST,
        }
        result = run_crawl_subprocess(config, tmp_path / "out")
    finally:
        fixture.stop()
    paths = set(fixture.paths())
    # Feeds from the home page's <head>, sitemaps from robots.txt and /sitemap.xml.
    assert {"/feed.rss", "/feed.atom", "/sitemap_index.xml", "/sitemap.xml"} <= paths
    assert {"/articles/a3.html", "/articles/a4.html", "/news/"} <= paths
    assert "/slow.html" not in paths  # past max_depth
    kinds = {f["url"].removeprefix(fixture.base): f["kind"] for f in result.fetches}
    assert kinds["/"] == "section" and kinds["/sitemap_index.xml"] == "sitemap"
