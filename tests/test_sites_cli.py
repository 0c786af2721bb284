"""`newsvault sites add|list|show|remove|validate`, run in-process against a temp index."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from newsvault.cli import app
from newsvault.cli_sites import _option_message, definition_from_options
from tests.crawl_fixtures import ROOT, FixtureSite

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in list(os.environ):
        if key.startswith("NEWSVAULT_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("NEWSVAULT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("NEWSVAULT_DOWNLOAD_TIMEOUT", "1")
    return tmp_path / "home"


@pytest.fixture(scope="module")
def site() -> Iterator[FixtureSite]:
    fixture = FixtureSite().start()
    yield fixture
    fixture.stop()


def sites(*args: str) -> Any:
    return runner.invoke(app, ["sites", *args], catch_exceptions=False)


def write_toml(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def fixture_toml(tmp_path: Path, site: FixtureSite, *, extra: str = "", name: str = "fx") -> Path:
    base = site.base
    return write_toml(
        tmp_path / f"{name}.toml",
        f"""name = "{name}"
allowed_networks = ["127.0.0.0/8"]
{extra}
[start]
feeds = ["{base}/feed.rss"]
sitemaps = ["{base}/sitemap_index.xml"]
sections = ["{base}/news/"]
[politeness]
delay = 0
concurrency = 8
""",
    )


# Pure helpers ---------------------------------------------------------------------------------


def test_definition_from_options_keeps_only_what_was_given() -> None:
    data = definition_from_options(
        name="n",
        feeds=["http://a/f"],
        sitemaps=[],
        sections=[],
        allow=["/20"],
        deny=[],
        language=None,
        delay=0.5,
        concurrency=None,
        allow_networks=[],
    )
    assert data["politeness"] == {"delay": 0.5}
    assert "language" not in data
    assert data["start"]["feeds"] == ["http://a/f"]


def test_option_message_names_the_option() -> None:
    assert _option_message("command line: start.feeds.0: bad URL") == (
        "--feed (start.feeds.0): bad URL"
    )
    assert _option_message("command line: limits.max_pages: x") == (
        "command line: limits.max_pages: x"
    )


# add / list / show ----------------------------------------------------------------------------


def test_example_definition_is_valid(home: Path) -> None:
    result = sites("add", str(ROOT / "sites" / "example.toml"), "--format", "json")
    assert result.exit_code == 0, result.output
    added = json.loads(result.output)
    assert added["definition"]["language"] == "ar"
    assert added["definition"]["allowed_domains"] == ["news.example.com"]


def test_add_from_options_then_list_and_show(home: Path) -> None:
    result = sites(
        "add",
        "--name",
        "opt",
        "--feed",
        "http://127.0.0.1:9/feed.xml",
        "--section",
        "http://127.0.0.1:9/world/",
        "--section",
        "http://127.0.0.1:9/sport/",
        "--allow",
        r"/\d{4}/",
        "--language",
        "ar",
        "--delay",
        "0.5",
        "--concurrency",
        "3",
        "--allow-network",
        "127.0.0.0/8",
    )
    assert result.exit_code == 0, result.output
    assert "Added site opt" in result.output

    listed = json.loads(sites("list", "--format", "json").output)
    assert [(s["name"], s["feeds"], s["sections"], s["captures"]) for s in listed] == [
        ("opt", 1, 2, 0)
    ]
    shown = json.loads(sites("show", "opt", "--format", "json").output)
    definition = shown["definition"]
    assert definition["politeness"] == {"delay": 0.5, "concurrency": 3}
    assert definition["article_allow"] == [r"/\d{4}/"]
    assert definition["allowed_networks"] == ["127.0.0.0/8"]
    assert shown["last_crawl"] is None
    text = sites("show", "opt")
    assert text.exit_code == 0 and "0.5 s delay, 3 per host" in text.output


def test_invalid_file_is_refused_naming_file_and_field(home: Path, tmp_path: Path) -> None:
    path = write_toml(
        tmp_path / "bad.toml",
        'name = "bad"\n[start]\nfeeds = ["http://a.example/f"]\n[politeness]\nconcurrency = 0\n',
    )
    result = sites("add", str(path))
    assert result.exit_code == 2
    assert str(path) in result.output and "politeness.concurrency" in result.output
    typo = write_toml(tmp_path / "typo.toml", '[start]\nfeedz = ["http://a.example/f"]\n')
    result = sites("add", str(typo))
    assert result.exit_code == 2 and "start.feedz" in result.output
    assert json.loads(sites("list", "--format", "json").output) == []


def test_invalid_options_are_refused_naming_the_option(home: Path) -> None:
    result = sites("add", "--name", "x", "--feed", "ftp://a.example/f")
    assert result.exit_code == 2 and "--feed" in result.output
    result = sites("add", "--name", "x", "--section", "http://a.example/", "--allow", "(")
    assert result.exit_code == 2 and "--allow" in result.output
    result = sites("add", "--name", "x")
    assert result.exit_code == 2 and "--feed/--sitemap/--section" in result.output
    result = sites("add")
    assert result.exit_code == 2


def test_duplicate_name_needs_replace(home: Path) -> None:
    args = ["add", "--name", "dup", "--feed", "http://a.example/f"]
    assert sites(*args).exit_code == 0
    again = sites(*args, "--delay", "5")
    assert again.exit_code == 2 and "--replace" in again.output
    assert sites(*args, "--delay", "5", "--replace").exit_code == 0
    shown = json.loads(sites("show", "dup", "--format", "json").output)
    assert shown["definition"]["politeness"]["delay"] == 5


def test_unknown_site(home: Path) -> None:
    assert sites("show", "nope").exit_code == 1
    assert sites("remove", "nope").exit_code == 1
    assert sites("validate", "nope").exit_code == 1


# crawl NAME and remove ------------------------------------------------------------------------


@pytest.mark.slow
def test_crawl_uses_the_stored_site_and_remove_keeps_captures(
    home: Path, tmp_path: Path, site: FixtureSite
) -> None:
    extra = "[limits]\nmax_pages = 12\nmax_depth = 1\n"
    path = fixture_toml(tmp_path, site, extra="", name="fx")
    path.write_text(path.read_text() + extra)
    assert sites("add", str(path)).exit_code == 0
    env = {**os.environ}
    crawl = subprocess.run(
        [sys.executable, "-m", "newsvault", "crawl", "fx", "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert crawl.returncode in (0, 1), crawl.stderr
    assert "/feed.rss" in site.paths()

    from newsvault.config import load_settings
    from storage.db import session_scope
    from storage.models import Capture, CrawlJob

    index = load_settings().index_url
    with session_scope(index) as session:
        captures = session.scalar(select(func.count(Capture.id)))
        (job,) = session.scalars(select(CrawlJob)).all()
        assert job.target == "fx" and job.site_id is not None
    assert captures and captures > 0

    listed = json.loads(sites("list", "--format", "json").output)
    assert listed[0]["captures"] == captures and listed[0]["last_crawl"]["job_id"] == job.id

    refused = sites("remove", "fx")
    assert refused.exit_code == 1 and "--force" in refused.output
    removed = sites("remove", "fx", "--force")
    assert removed.exit_code == 0 and "stay in the archive" in removed.output
    assert json.loads(sites("list", "--format", "json").output) == []
    with session_scope(index) as session:
        assert session.scalar(select(func.count(Capture.id))) == captures
        assert session.scalars(select(CrawlJob)).one().site_id is None
    # Added again, the site finds its history by name.
    assert sites("add", str(path)).exit_code == 0
    assert json.loads(sites("list", "--format", "json").output)[0]["captures"] == captures


def test_remove_without_captures(home: Path) -> None:
    assert sites("add", "--name", "empty", "--feed", "http://a.example/f").exit_code == 0
    result = sites("remove", "empty")
    assert result.exit_code == 0 and "Removed site empty" in result.output


# validate -------------------------------------------------------------------------------------


def test_validate_reports_what_a_crawl_would_find(
    home: Path, tmp_path: Path, site: FixtureSite
) -> None:
    path = fixture_toml(tmp_path, site)
    before = len(site.requests)
    result = sites("validate", str(path), "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    points = {p["kind"]: p for p in report["start_points"]}
    assert points["feed"]["items"] == 3 and points["feed"]["newest"].startswith("2025-01-06")
    assert points["sitemap"]["child_sitemaps"] == 1 and points["sitemap"]["items"] == 3
    assert points["section"]["pagination_links"] == 1 and points["section"]["items"] > 5
    base = site.base
    assert f"{base}/articles/a1.html" in report["sample_articles"]  # utm_* removed
    assert f"{base}/private/secret.html" not in report["sample_articles"]  # robots.txt
    fetched = [r.path for r in site.requests[before:]]
    assert fetched[0] == "/robots.txt"
    assert sorted(fetched[1:]) == sorted(
        ["/feed.rss", "/sitemap_index.xml", "/sitemap-news.xml.gz", "/news/"]
    )
    assert "newsvault" in site.requests[-1].headers["user-agent"]

    # Stored sites validate by name, with rich text output.
    assert sites("add", str(path)).exit_code == 0
    text = sites("validate", "fx")
    assert text.exit_code == 0 and "Looks good" in text.output


def test_validate_fails_on_a_broken_start_point(
    home: Path, tmp_path: Path, site: FixtureSite
) -> None:
    path = write_toml(
        tmp_path / "broken.toml",
        f"""name = "broken"
allowed_networks = ["127.0.0.0/8"]
[start]
feeds = ["{site.base}/feed.rss", "{site.base}/news/"]
sections = ["{site.base}/missing.html"]
""",
    )
    result = sites("validate", str(path), "--format", "json")
    assert result.exit_code == 1
    errors = {
        p["url"].removeprefix(site.base): p["error"]
        for p in json.loads(result.output)["start_points"]
    }
    assert errors["/feed.rss"] is None
    assert "no feed items" in errors["/news/"]
    assert errors["/missing.html"] == "answered HTTP 404"


def test_validate_obeys_robots_unreachable(home: Path, tmp_path: Path) -> None:
    down = FixtureSite(robots_status=503).start()
    try:
        path = write_toml(
            tmp_path / "down.toml",
            f'name = "down"\nallowed_networks = ["127.0.0.0/8"]\n'
            f'[start]\nsections = ["{down.base}/news/"]\n',
        )
        result = sites("validate", str(path), "--format", "json")
    finally:
        down.stop()
    assert result.exit_code == 1
    (point,) = json.loads(result.output)["start_points"]
    assert point["error"].startswith("robots.txt answered 503")
    assert down.paths() == ["/robots.txt"]


def test_validate_refuses_private_addresses_before_connecting(
    home: Path, tmp_path: Path, site: FixtureSite
) -> None:
    port = site.port
    path = write_toml(
        tmp_path / "ssrf.toml",
        f'name = "ssrf"\n[start]\nsections = ["http://127.0.0.1:{port}/news/"]\n'
        f'feeds = ["http://localhost:{port}/feed.rss"]\n',
    )
    before = len(site.requests)
    result = sites("validate", str(path), "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert all("loopback" in p["error"] for p in report["start_points"]), report
    assert len(site.requests) == before
