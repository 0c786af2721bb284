"""Issue 15: a zero-configuration crawl of a site whose articles carry no markup.

The site (``newsvault.sample_site.unmarked``): 60 articles in English and Arabic, half of
them without JSON-LD or OpenGraph, some at URLs with no telling shape; author, tag and
paginated section pages that do carry ``og:type=article`` and ``NewsArticle`` JSON-LD; a
partial feed and no sitemap, so the crawl must find the articles through the listings.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from crawler.discovery import LinkGraph, route_by_shape
from newsvault.sample_site.unmarked import UnmarkedSiteServer, build_unmarked_site
from storage.db import session_scope
from storage.models import Capture
from tests.crawl_fixtures import run_crawl_subprocess
from vocabulary.canonical import canonicalize

ARTICLES = 60


# The site itself (pure) -----------------------------------------------------------------------


def test_the_site_is_what_the_issue_describes() -> None:
    layout = build_unmarked_site("http://127.0.0.1:8741", count=ARTICLES)
    pages = layout.site.pages
    assert len(layout.article_paths) == ARTICLES
    assert len(layout.unmarked) == ARTICLES // 2
    languages = Counter(article.language for article in layout.site.articles)
    assert languages["ar"] >= ARTICLES // 4 and languages["en"] >= ARTICLES // 2
    for path in layout.article_paths:
        body = pages[path].body
        marked = b"application/ld+json" in body or b'property="og:' in body
        assert marked == (path not in layout.unmarked), path
    kinds = Counter(path.split("/")[1] for path in layout.listings)
    assert kinds["author"] and kinds["tag"] and any("?page=2" in p for p in layout.listings)
    for path in layout.listings:
        assert b'<meta property="og:type" content="article">' in pages[path].body, path
        assert b'"NewsArticle"' in pages[path].body
    # Some articles only the link graph tells apart: their URL says nothing.
    assert any(route_by_shape("http://h" + p) is None for p in layout.article_paths)
    assert "/sitemap.xml" not in pages and "/atom.xml" not in pages


def test_the_link_graph_tells_listed_stories_from_site_chrome() -> None:
    graph = LinkGraph()
    for number in range(10):
        graph.page_parsed()
        graph.offer("http://h/nav/x", 1, from_listing=number < 3)  # on every page
    graph.offer("http://h/world/a/1rs", 2, from_listing=True)
    graph.offer("http://h/world/a/1rs", 1, from_listing=True)
    graph.offer("http://h/world/a/zzz", 2, from_listing=True)  # one listing only
    decided = {url: (route, depth) for url, route, depth in graph.drain()}
    assert decided == {
        "http://h/nav/x": ("page", 1),
        "http://h/world/a/1rs": ("article", 1),
        "http://h/world/a/zzz": ("page", 2),
    }
    assert len(graph) == 0


# The crawl ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_crawler_fetches_articles_as_articles_and_listings_as_sections(
    tmp_path: Path,
) -> None:
    with UnmarkedSiteServer(count=ARTICLES) as server:
        layout = server.layout
        config = {
            "site": {
                "name": "unmarked",
                "start": {"sections": [server.url + "/"]},
                "allowed_domains": ["127.0.0.1"],
                "discover": True,
            },
            "settings": {"allowed_networks": ["127.0.0.0/8"]},
            "delay": 0,
            "concurrency": 8,
        }
        crawl = run_crawl_subprocess(config, tmp_path / "out", timeout=120)
    kinds = {fetch["canonical_url"]: fetch["kind"] for fetch in crawl.fetches}
    articles = {canonicalize(server.url + path) for path in layout.article_paths}
    listings = {canonicalize(server.url + path) for path in layout.listings}
    assert {url: kinds.get(url) for url in articles} == dict.fromkeys(articles, "article")
    fetched_listings = {url: kind for url, kind in kinds.items() if url in listings}
    assert fetched_listings == dict.fromkeys(fetched_listings, "section")
    assert len(fetched_listings) == len(listings)  # every author, tag and section page
    # The crawler's own count: the articles, not the listings that wear article markup.
    assert crawl.stats["articles_found"] == ARTICLES
    assert crawl.stats["finish_reason"] == "finished"


def _newsvault(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("NEWSVAULT_")}
    return subprocess.run(
        [sys.executable, "-m", "newsvault", *args],
        capture_output=True,
        text=True,
        env={**base, **env},
        timeout=300,
    )


# Today's processing (tasks/pipeline.py: require_markers=kind != "article") keeps every
# listing page that wears article markup, though the crawler fetched it as a "section".
@pytest.mark.slow
def test_zero_config_crawl_keeps_every_article_and_no_listing(tmp_path: Path) -> None:
    env = {"NEWSVAULT_HOME": str(tmp_path), "NEWSVAULT_ALLOWED_NETWORKS": "127.0.0.0/8"}
    with UnmarkedSiteServer(count=ARTICLES) as server:
        layout = server.layout
        crawl = _newsvault(
            "crawl", server.url + "/", "--delay", "0", "--concurrency", "8", "--format", "json",
            env=env,
        )  # fmt: skip
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    listed = _newsvault("articles", "--format", "json", env=env)
    assert listed.returncode == 0, listed.stderr[-3000:]
    kept = {article["url"] for article in json.loads(listed.stdout)}
    articles = {canonicalize(server.url + path) for path in layout.article_paths}
    listings = {canonicalize(server.url + path) for path in layout.listings}
    with session_scope(f"sqlite:///{tmp_path / 'index.sqlite3'}") as session:
        captures = session.execute(
            select(Capture.canonical_url, Capture.kind, Capture.process_state, Capture.process_note)
        ).all()
    refused = {row.canonical_url: row for row in captures if row.process_state == "skipped"}
    assert all(row.process_note for row in refused.values())  # every refusal says why
    missing = sorted(articles - kept)
    assert not missing, [(url, refused.get(url)) for url in missing]
    assert not sorted(kept & listings)
