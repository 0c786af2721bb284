"""Replay that never touches the live web, in a real browser (Debian's chromium, Playwright).

A news site on 127.0.0.1 and its CDN on 127.0.0.2 are crawled into an archive; then both
stop, and chromium opens the archived article from newsvault's web app (uvicorn on another
port of 127.0.0.1). Every request the page makes must go to the archive's origin, and the
picture, the stylesheets, the background image and both web fonts must be drawn from it.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from newsvault.config import Settings, load_settings
from storage.archive import Archive
from storage.db import session_scope
from storage.fetch import Fetch
from storage.models import Capture
from tests.replay_fixtures import (
    BYLINE_RGB,
    CDN_PHOTO_RGB,
    HEADLINE_RGB,
    HERO_RGB,
    PHOTO_RGB,
    NewsSiteWithCdn,
    colour_counts,
    rgb,
)
from tests.test_browser import _require_chromium, browser, serving
from vocabulary.canonical import canonicalize

pytestmark = [pytest.mark.browser, pytest.mark.slow]
__all__ = ["browser"]  # the module-scoped chromium of tests/test_browser.py


@dataclass(frozen=True)
class Replay:
    settings: Settings
    article_url: str
    site: str
    cdn: str
    timestamp: str
    live_requests_after_stop: list[str]


def _archive_requisites(settings: Settings, urls: list[str]) -> None:
    """The article's images, stylesheets and fonts into the archive, as fetched from the site.

    The crawler does not fetch page requisites yet (another part of issue 12): until it does,
    they go in through the storage layer's own writer, ``Archive.add``, the call the crawler's
    archive middleware makes for every response.
    """
    with Archive(settings) as archive:
        for url in urls:
            with urllib.request.urlopen(url, timeout=10) as response:  # 127.0.0.1/2 only
                body = response.read()
                archive.add(
                    Fetch(
                        url=url,
                        canonical_url=canonicalize(url),
                        status=response.status,
                        response_headers=list(response.headers.items()),
                        body=body,
                        fetched_at=datetime.now(UTC),
                        kind="page",
                    )
                )
        archive.commit()


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replay]:
    from newsvault.services import sites
    from newsvault.services.crawls import create_job, run_job_here
    from storage.db import migrate

    _require_chromium()
    settings = load_settings(home=tmp_path_factory.mktemp("replay-browser") / "data")
    settings.ensure_home()
    migrate(settings.index_url)
    with NewsSiteWithCdn() as live:
        definition = {
            "name": "harbour",
            "start": {"sections": [live.site + "/"]},
            "allowed_domains": ["127.0.0.1"],
            "allowed_networks": ["127.0.0.1/32"],
            "politeness": {"delay": 0.0, "concurrency": 2},
        }
        sites.save_site(settings, sites.parse_definition(definition, source="test"), replace=True)
        progress = run_job_here(settings, create_job(settings, "harbour"))
        assert progress.state == "done", progress
        _archive_requisites(settings, live.requisite_urls())
        article_url, site, cdn = live.article_url, live.site, live.cdn
        live.stop()
        seen = len(live.requests)
        with session_scope(settings.index_url) as session:
            article = session.scalar(select(Capture).where(Capture.url == article_url))
            assert article is not None and article.version_id is not None, "article not archived"
            timestamp = article.fetched_at.strftime("%Y%m%d%H%M%S")
        yield Replay(settings, article_url, site, cdn, timestamp, live.requests[seen:])


@pytest.fixture(scope="module")
def archive(replay: Replay) -> Iterator[str]:
    from newsvault.web import create_app

    with serving(create_app(replay.settings)) as origin:
        yield origin


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _frame(page: Any, marker: str) -> Any:
    for frame in page.frames:
        if marker in frame.url:
            return frame
    raise AssertionError(f"no frame with {marker!r} among {[f.url for f in page.frames]}")


def test_a_replayed_article_loads_everything_from_the_archive_and_nothing_else(
    browser: Any, replay: Replay, archive: str, tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    requests: list[str] = []
    failed: list[str] = []
    statuses: dict[str, int] = {}
    page.on("request", lambda request: requests.append(request.url))
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.on("response", lambda response: statuses.__setitem__(response.url, response.status))

    # A year is enough: the archive redirects to the article's own timestamp.
    year = replay.timestamp[:4]
    response = page.goto(f"{archive}/web/{year}/{replay.article_url}")
    assert response is not None and response.status == 200
    assert page.url == f"{archive}/web/{replay.timestamp}/{replay.article_url}"
    page.wait_for_load_state("load")
    frame = _frame(page, f"/web/{replay.timestamp}mp_/")
    frame.wait_for_load_state("load")
    fonts = frame.evaluate(
        """async () => {
            await document.fonts.ready;
            return [...document.fonts].map(f => [f.family.replace(/"/g, ''), f.status]);
        }"""
    )
    drawn = frame.evaluate(
        """() => {
            const style = s => getComputedStyle(document.querySelector(s));
            return {
                photo: document.getElementById('photo').naturalWidth,
                cdnPhoto: document.getElementById('cdn-photo').naturalWidth,
                cdnSource: document.getElementById('cdn-photo').currentSrc,
                headline: style('h1').color,
                byline: style('.byline').color,
                hero: style('.hero').backgroundImage,
                origin: window.origin,
            };
        }"""
    )
    # 320 pixels wide as a 2x candidate: 160 CSS pixels.
    assert drawn["photo"] == 160 and drawn["cdnPhoto"] == 160, drawn
    assert f"/web/{replay.timestamp}im_/{replay.cdn}/cdn/wide.png" in drawn["cdnSource"], drawn
    assert drawn["headline"] == rgb(HEADLINE_RGB), drawn
    assert drawn["byline"] == rgb(BYLINE_RGB), drawn
    assert f"/web/{replay.timestamp}im_/" in drawn["hero"], drawn
    assert drawn["origin"] == "null", "the capture must run in an opaque origin"
    # A face is "loaded" only once text needed it and its file came: from the archive.
    assert ["ArchivedFace", "loaded"] in fonts and ["CdnFace", "loaded"] in fonts, fonts

    # Pixels: the pictures and the background image are on the screen, not in a blank page.
    shot = tmp_path / "replay.png"
    page.screenshot(path=str(shot))
    counter = context.new_page()
    empty = counter.screenshot()  # a blank render of the same size
    colours = [PHOTO_RGB, CDN_PHOTO_RGB, HERO_RGB]
    drawn_pixels = colour_counts(counter, shot.read_bytes(), colours)
    blank_pixels = colour_counts(counter, empty, colours)
    # 160x100 pictures, a 320x60 background: most of each is on the screen.
    assert all(n >= 12_000 for n in drawn_pixels), dict(
        zip(map(str, colours), drawn_pixels, strict=True)
    )
    assert blank_pixels == [0, 0, 0]

    # The captured meta refresh (after 1 s) and script (at once) aim at the CDN host: the
    # reader stays on the archived article.
    time.sleep(2.5)
    assert page.url == f"{archive}/web/{replay.timestamp}/{replay.article_url}"
    assert _frame(page, f"/web/{replay.timestamp}mp_/").url.endswith(replay.article_url)

    web = [url for url in requests if url.startswith(("http:", "https:"))]
    elsewhere = [url for url in web if _origin(url) != archive]
    assert not elsewhere, f"requests that left the archive: {elsewhere}"
    archived_ok = {url for url, status in statuses.items() if status == 200}
    for needed in ("im_/", "cs_/", "oe_/"):
        assert any(needed in url for url in archived_ok), (needed, json.dumps(statuses, indent=1))
    for path in ("/static/photo.png", "/static/hero.png", "/static/face.ttf", "/cdn/wide.png",
                 "/cdn/fonts/cdn.ttf", "/static/site.css", "/cdn/theme.css"):  # fmt: skip
        assert any(url.endswith(path) for url in archived_ok), (path, statuses)
    assert not failed, failed
    assert replay.live_requests_after_stop == []

    # A link the reader clicks opens the archive's page for that URL (here: never archived),
    # at the top, still on the archive's origin.
    _frame(page, "mp_/").click("#more")
    page.wait_for_url(f"{archive}/web/{replay.timestamp}/**")
    assert "/news/2026/11/02/ferry-timetable.html" in page.url
    assert all(_origin(url) == archive for url in requests if url.startswith("http"))
    context.close()
