"""Rewritten replay over HTTP, in process (FastAPI's TestClient over a real archive).

The archive holds an Arabic article in windows-1256 (declared only in its <meta>, behind a
server default of ISO-8859-1), its stylesheet (gzipped), a picture captured before and after
the page, a picture that moved (a 301), and a web font on a second host.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import lxml.html
import pytest
from fastapi.testclient import TestClient

from newsvault.config import Settings, load_settings
from newsvault.web import create_app
from newsvault.web.rewritten import REWRITTEN_CSP
from storage.archive import Archive
from storage.fetch import Fetch
from tests.replay_fixtures import png
from tests.test_api import ts14
from tests.test_pipeline import T0

SITE = "http://news.example"
CDN = "http://cdn.example"
PAGE_URL = SITE + "/world/2026/story.html"
ARABIC = "قال مسؤول إن الوفد سيزور المنطقة الأسبوع المقبل لبحث الاتفاق."
PAGE = (
    "<!doctype html><html lang='ar' dir='rtl'><head><meta charset='windows-1256'>"
    "<title>خبر</title><link rel='stylesheet' href='/css/site.css'>"
    "<meta http-equiv='refresh' content='30; url=https://elsewhere.example/'></head><body>"
    f"<h1>خبر</h1><p>{ARABIC}</p><img id='photo' src='../../img/photo.png'>"
    f"<img id='moved' src='/img/old.png'><img id='gone' src='{CDN}/never-archived.png'>"
    "<a id='next' href='/world/2026/next.html'>التالي</a></body></html>"
).encode("cp1256")
CSS = (
    b"@font-face { font-family: Archived; src: url(//cdn.example/fonts/a.ttf); }\n"
    b"body { background: url(../img/bg.png); color: rgb(1, 2, 3); }\n"
)
PAGE_AT = T0
RED, BLUE = png(4, 4, (255, 0, 0)), png(4, 4, (0, 0, 255))


def fetch(url: str, body: bytes, content_type: str, at: timedelta, **extra: object) -> Fetch:
    headers = [("Content-Type", content_type)]
    status = 200
    if "encoding" in extra:
        headers.append(("Content-Encoding", str(extra["encoding"])))
    if "location" in extra:
        headers.append(("Location", str(extra["location"])))
        status = 301
    return Fetch(
        url=url,
        canonical_url=url,
        status=status,
        response_headers=headers,
        body=body,
        fetched_at=PAGE_AT + at,
        kind="page",
    )


@dataclass(frozen=True)
class Replayed:
    settings: Settings
    client: TestClient


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    from storage.db import migrate

    settings = load_settings(home=tmp_path_factory.mktemp("replay") / "data")
    settings.ensure_home()
    migrate(settings.index_url)
    fetches = [
        fetch(PAGE_URL, PAGE, "text/html; charset=ISO-8859-1", timedelta(0)),
        fetch(
            SITE + "/css/site.css",
            gzip.compress(CSS, mtime=0),
            "text/css",
            timedelta(seconds=5),
            encoding="gzip",
        ),
        # Three hours before the page, and one hour after: the later one is closer.
        fetch(SITE + "/img/photo.png", RED, "image/png", timedelta(hours=-3)),
        fetch(SITE + "/img/photo.png", BLUE, "image/png", timedelta(hours=1)),
        fetch(
            SITE + "/img/old.png", b"", "text/html", timedelta(seconds=6), location="/img/new.png"
        ),
        fetch(SITE + "/img/new.png", RED, "image/png", timedelta(seconds=7)),
        fetch(CDN + "/fonts/a.ttf", b"\x00\x01\x00\x00font", "font/ttf", timedelta(seconds=8)),
    ]
    with Archive(settings) as archive:
        for one in fetches:
            archive.add(one)
        archive.commit()
    return settings


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


TS = ts14(PAGE_AT)


def test_the_page_is_served_rewritten_decoded_and_sandboxed(client: TestClient) -> None:
    response = client.get(f"/web/{TS}mp_/{PAGE_URL}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == REWRITTEN_CSP
    policy = REWRITTEN_CSP.split(";")
    assert policy[0].split()[0] == "sandbox"
    assert "allow-scripts" not in policy[0] and "allow-same-origin" not in policy[0]
    assert "default-src 'self' data: blob:" in policy[1]
    assert "script-src 'none'" in REWRITTEN_CSP
    assert "memento-datetime" in response.headers
    # windows-1256, declared only in the page: the Arabic comes out right, as UTF-8.
    assert ARABIC in response.text
    page = lxml.html.document_fromstring(response.content)
    assert page.get_element_by_id("photo").get("src") == f"/web/{TS}im_/{SITE}/img/photo.png"
    assert page.cssselect("link")[0].get("href") == f"/web/{TS}cs_/{SITE}/css/site.css"
    assert page.get_element_by_id("next").get("href") == f"/web/{TS}/{SITE}/world/2026/next.html"
    assert page.cssselect("meta[http-equiv]")[0].get("content") == (
        f"30; url=/web/{TS}mp_/https://elsewhere.example/"
    )


def test_an_inexact_timestamp_redirects_to_the_page_s_own(client: TestClient) -> None:
    response = client.get(f"/web/2026mp_/{PAGE_URL}", follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"].endswith(f"/web/{TS}mp_/{PAGE_URL}")


def test_a_resource_is_the_capture_closest_to_the_page(client: TestClient) -> None:
    response = client.get(f"/web/{TS}im_/{SITE}/img/photo.png")
    assert response.status_code == 200
    assert response.content == BLUE  # an hour after the page, not three hours before
    assert response.headers["content-type"] == "image/png"
    later = ts14(PAGE_AT + timedelta(hours=1))
    assert response.headers["content-location"].endswith(f"/web/{later}im_/{SITE}/img/photo.png")
    assert response.headers["memento-datetime"]
    assert 'rel="original"' in response.headers["link"]
    assert "cross-origin-resource-policy" not in response.headers  # an opaque origin asks
    earlier = client.get(f"/web/{ts14(PAGE_AT - timedelta(hours=3))}im_/{SITE}/img/photo.png")
    assert earlier.content == RED


def test_css_is_decoded_and_rewritten_at_the_page_s_time(client: TestClient) -> None:
    response = client.get(f"/web/{TS}cs_/{SITE}/css/site.css")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/css; charset=utf-8"
    assert "content-encoding" not in response.headers
    assert f"url(/web/{TS}oe_/{CDN}/fonts/a.ttf)" in response.text
    assert f"url(/web/{TS}im_/{SITE}/img/bg.png)" in response.text
    assert "rgb(1, 2, 3)" in response.text


def test_nothing_archived_is_a_404_never_the_live_web(client: TestClient) -> None:
    for path in (
        f"/web/{TS}im_/{CDN}/never-archived.png",
        f"/web/{TS}im_/http://unknown.example/x.png",
        f"/web/{TS}mp_/http://unknown.example/",
    ):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 404, path
        assert "location" not in response.headers


def test_a_font_may_be_read_by_the_sandboxed_page_nothing_else(client: TestClient) -> None:
    path = f"/web/{TS}oe_/{CDN}/fonts/a.ttf"
    font = client.get(path, headers={"Sec-Fetch-Dest": "font", "Origin": "null"})
    assert font.status_code == 200 and font.headers["access-control-allow-origin"] == "*"
    script = client.get(path, headers={"Sec-Fetch-Dest": "empty", "Origin": "https://a.example"})
    assert "access-control-allow-origin" not in script.headers
    assert "sec-fetch-dest" in font.headers["vary"].lower()


def test_an_archived_redirect_stays_in_the_archive(client: TestClient) -> None:
    response = client.get(f"/web/{TS}im_/{SITE}/img/old.png", follow_redirects=False)
    assert response.status_code == 301
    assert response.headers["location"] == f"/web/{TS}im_/{SITE}/img/new.png"
    assert client.get(response.headers["location"]).content == RED


def test_the_memento_page_frames_the_page_as_captured(client: TestClient) -> None:
    response = client.get(f"/web/{TS}/{PAGE_URL}")
    assert response.status_code == 200
    assert "Archived copy" in response.text
    frame = lxml.html.document_fromstring(response.content).cssselect("iframe.replay-frame")[0]
    assert frame.get("src").endswith(f"/web/{TS}mp_/{PAGE_URL}")
    assert frame.get("sandbox") == "allow-top-navigation-by-user-activation"
    policy = response.headers["content-security-policy"]
    assert "frame-src 'self'" in policy and "frame-ancestors 'none'" in policy


def test_unknown_modifiers_are_refused(client: TestClient) -> None:
    response = client.get(f"/web/{TS}zz_/{PAGE_URL}")
    assert response.status_code == 400
    assert "mp_" in response.json()["message"]


def test_with_a_replay_origin_captured_bytes_come_from_it_alone(settings: Settings) -> None:
    app = create_app(settings, replay_origin="http://replay.test")
    with TestClient(app) as split:
        page = split.get(f"/web/{TS}/{PAGE_URL}")
        assert re.search(
            r"frame-src 'self' http://replay\.test", page.headers["content-security-policy"]
        )
        frame = lxml.html.document_fromstring(page.content).cssselect("iframe")[0]
        assert frame.get("src") == f"http://replay.test/web/{TS}mp_/{PAGE_URL}"
        for path in (f"/web/{TS}mp_/{PAGE_URL}", f"/web/{TS}im_/{SITE}/img/photo.png"):
            moved = split.get(path, follow_redirects=False)
            assert moved.status_code == 302, path
            assert moved.headers["location"] == "http://replay.test" + path
            assert split.get("http://replay.test" + path).status_code == 200
