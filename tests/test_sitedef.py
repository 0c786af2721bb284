"""Site definitions: validation and TOML loading."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.sitedef import SiteDefinitionError, load_site, parse_site, site_for_url

GOOD = """
name = "example-news"
allowed_domains = ["example.com"]
article_allow = ['/\\d{4}/\\d{2}/', '/articles/']
article_deny = ['/live/']
language = "ar"
schedule = "*/30 * * * *"
allowed_networks = ["127.0.0.0/8"]
tracking_params = ["ito"]

[start]
feeds = ["https://example.com/rss.xml?utm_source=x"]
sitemaps = ["https://example.com/news-sitemap.xml"]
sections = ["https://example.com/world/"]

[selectors]
title = "h1.headline"
body = "div.article-body p"

[limits]
max_pages = 200
max_depth = 2
max_age_days = 3

[politeness]
delay = 2.5
concurrency = 1
"""


def _write(tmp_path: Path, text: str, name: str = "site.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_load_good(tmp_path: Path) -> None:
    site = load_site(_write(tmp_path, GOOD))
    assert site.name == "example-news"
    assert site.start.feeds == ["https://example.com/rss.xml"]  # canonicalized
    assert site.limits.max_age_days == 3 and site.politeness.delay == 2.5
    assert site.selectors.title == "h1.headline"
    assert site.compiled_allow()[0].search("https://example.com/2025/01/x")
    assert site.start_urls()[0] == "https://example.com/rss.xml"


def test_name_defaults_to_file_stem(tmp_path: Path) -> None:
    text = GOOD.replace('name = "example-news"\n', "")
    assert load_site(_write(tmp_path, text, "bbc-ar.toml")).name == "bbc-ar"


def test_allowed_domains_default_to_start_hosts() -> None:
    site = parse_site({"name": "x", "start": {"feeds": ["https://Feeds.Example.com/a"]}})
    assert site.allowed_domains == ["feeds.example.com"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (("'/articles/']", "'/articles/', '(']"), "article_allow"),
        (("article_deny = ['/live/']", "article_deny = ['[a-']"), "article_deny"),
        (("max_pages = 200", "max_pages = 0"), "limits.max_pages"),
        (("max_pages = 200", "max_pagse = 200"), "limits.max_pagse"),
        (("delay = 2.5", "delay = -1"), "politeness.delay"),
        (("feeds = [", "feeds = ['file:///etc/passwd', "), "start.feeds"),
        (('schedule = "*/30 * * * *"', 'schedule = "whenever"'), "schedule"),
        (
            ('allowed_networks = ["127.0.0.0/8"]', 'allowed_networks = ["localhost"]'),
            "allowed_networks",
        ),
        (('title = "h1.headline"', 'title = "h1[[["'), "selectors.title"),
        (('language = "ar"', 'language = "arabic!"'), "language"),
        (
            ('allowed_domains = ["example.com"]', 'allowed_domains = ["https://example.com/"]'),
            "allowed_domains",
        ),
    ],
)
def test_bad_values_name_file_and_field(
    tmp_path: Path, change: tuple[str, str], field: str
) -> None:
    old, new = change
    assert old in GOOD, old
    path = _write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(SiteDefinitionError) as info:
        load_site(path)
    message = str(info.value)
    assert message.startswith(f"{path}: {field}:"), message
    assert "\n" not in message


def test_invalid_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SiteDefinitionError, match="invalid TOML"):
        load_site(_write(tmp_path, "name = "))
    with pytest.raises(SiteDefinitionError, match="cannot read"):
        load_site(tmp_path / "nope.toml")


def test_no_start_points_refused() -> None:
    with pytest.raises(SiteDefinitionError, match="at least one feed"):
        parse_site({"name": "x"})


@pytest.mark.parametrize("schedule", ["30m", "6h", "every 15 minutes", "1d", "0 6 * * mon-fri"])
def test_schedules(schedule: str) -> None:
    site = parse_site(
        {"name": "x", "start": {"feeds": ["http://a.example/f"]}, "schedule": schedule}
    )
    assert site.schedule == schedule


def test_zero_config_site() -> None:
    site = site_for_url("https://News.Example.com/?utm_source=x")
    assert site.name == "news.example.com"
    assert site.start.sections == ["https://news.example.com/"]
    assert site.allowed_domains == ["news.example.com"]
    assert site.discover is True
    with pytest.raises(SiteDefinitionError):
        site_for_url("file:///etc/passwd")
