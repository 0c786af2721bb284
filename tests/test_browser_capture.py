"""Browser capture (``capture = "browser"``): a page whose article a script inserts.

Real parts: a news site over HTTP on 127.0.0.1 whose article page is an empty shell filled by
a script that fetch()es /api/article.json; ``python -m newsvault.crawl_process`` (Scrapy in
its own process) driving Debian's chromium through Playwright; WARC files on disk; the
SQLite index; processing inline (embedded mode). A second server on 127.0.0.2 stands for an
internal service the page tries to reach: it must never see a request.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from warcio.archiveiterator import ArchiveIterator

from crawler.browser_guard import url_refusal
from crawler.browser_record import archived_headers
from crawler.ssrf import NetworkPolicy
from newsvault.sample_site import seed_lines
from storage.db import session_scope
from storage.models import Capture, FetchEvent, Version

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
ARTICLE = "/news/2026/11/harbour-plan.html"
METADATA_URL = "http://169.254.169.254/latest/meta-data/photo.png"


def _png(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack("!I", len(data)) + kind + data + struct.pack("!I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + b"\x80\x40\x20" * width for _ in range(height))
    header = struct.pack("!IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def png_problem(data: bytes) -> str | None:
    """None for a well-formed PNG (signature, chunk CRCs, IHDR, image data, IEND)."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "no PNG signature"
    at, kinds, idat = 8, [], b""
    while at < len(data):
        (length,) = struct.unpack("!I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        (crc,) = struct.unpack("!I", data[at + 8 + length : at + 12 + length])
        if zlib.crc32(kind + body) != crc:
            return f"bad CRC in {kind!r}"
        kinds.append(kind)
        idat += body if kind == b"IDAT" else b""
        if kind == b"IHDR" and (struct.unpack("!II", body[:8]) < (1, 1)):
            return "empty image"
        at += 12 + length
    if kinds[0] != b"IHDR" or kinds[-1] != b"IEND" or not idat:
        return f"chunks {kinds}"
    zlib.decompress(idat)
    return None


class Canary:
    """The internal service (127.0.0.2): counts every request it gets."""

    def __init__(self) -> None:
        canary = self
        self.hits: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                canary.hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.2", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class ScriptedNews:
    """The news site on 127.0.0.1: a feed, and an article its script writes into the page."""

    def __init__(self, canary: Canary) -> None:
        lines = seed_lines()
        self.title, self.paragraphs = lines[0], lines[1:]
        self.secret = f"http://127.0.0.2:{canary.port}/secret.json"
        self.moved = f"http://127.0.0.2:{canary.port}/moved.png"
        site = self
        self.requests: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                site.requests.append(self.path)
                status, headers, body = site.route(self.path)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def shell(self) -> bytes:
        """The article page as served: no article in it, only the script that fetches it."""
        return (
            "<!doctype html><html lang='ar' dir='rtl'><head><meta charset='utf-8'>"
            f"<title>{self.title}</title><meta property='og:type' content='article'>"
            "<link rel='stylesheet' href='/static/site.css'>"
            "<script src='/static/app.js' defer></script></head><body>"
            "<header><a href='/'>الرئيسية</a></header>"
            "<main><h1 id='headline'></h1><article id='story'></article></main>"
            f"<img src='/static/logo.png' alt=''><img src='{METADATA_URL}' alt=''>"
            "<img src='/static/moved.png' alt=''></body></html>"
        ).encode()

    def route(self, path: str) -> tuple[int, dict[str, str], bytes]:
        if path == "/robots.txt":
            return 200, {"Content-Type": "text/plain"}, b"User-agent: *\nAllow: /\n"
        if path == "/feed.xml":
            feed = (
                "<?xml version='1.0'?><rss version='2.0'><channel><title>News</title>"
                f"<item><title>t</title><link>{self.base}{ARTICLE}</link></item></channel></rss>"
            )
            return 200, {"Content-Type": "application/rss+xml"}, feed.encode()
        if path == ARTICLE:
            return 200, {"Content-Type": "text/html; charset=utf-8"}, self.shell
        if path == "/static/app.js":
            script = f"""
fetch('/api/article.json').then(r => r.json()).then(article => {{
  document.getElementById('headline').textContent = article.title;
  const story = document.getElementById('story');
  for (const text of article.paragraphs) {{
    const p = document.createElement('p'); p.textContent = text; story.appendChild(p);
  }}
}});
fetch('{self.secret}').catch(() => {{}});
"""
            return 200, {"Content-Type": "application/javascript"}, script.encode()
        if path == "/api/article.json":
            data = {"title": self.title, "paragraphs": self.paragraphs}
            return 200, {"Content-Type": "application/json"}, json.dumps(data).encode()
        if path == "/static/site.css":
            css = b"body { font-family: serif; } #story p { line-height: 1.6; }"
            return 200, {"Content-Type": "text/css"}, css
        if path == "/static/logo.png":
            return 200, {"Content-Type": "image/png"}, _png()
        if path == "/static/moved.png":
            # A redirect chromium follows without routing it: the guard proxy stops it.
            return 302, {"Location": self.moved}, b""
        return 404, {"Content-Type": "text/html"}, b"<h1>not found</h1>"


@dataclass
class Crawl:
    home: Path
    site: ScriptedNews
    result: subprocess.CompletedProcess[str]

    @property
    def index_url(self) -> str:
        return f"sqlite:///{self.home / 'index.sqlite3'}"

    @property
    def article_url(self) -> str:
        return self.site.base + ARTICLE

    def records(self) -> list[dict[str, Any]]:
        found = []
        for path in sorted((self.home / "warcs").glob("*.warc.gz")):
            with path.open("rb") as stream:
                for record in ArchiveIterator(stream):
                    headers = record.rec_headers
                    found.append(
                        {
                            "type": record.rec_type,
                            "uri": headers.get_header("WARC-Target-URI"),
                            "id": headers.get_header("WARC-Record-ID"),
                            "concurrent_to": headers.get_header("WARC-Concurrent-To"),
                            "content_type": headers.get_header("Content-Type"),
                            "status": record.http_headers.get_statuscode()
                            if record.http_headers
                            else None,
                            "payload": record.raw_stream.read(),
                        }
                    )
        return found

    def events(self) -> list[tuple[str, str, str]]:
        with session_scope(self.index_url) as session:
            return [(e.url, e.kind, e.message) for e in session.scalars(select(FetchEvent))]


def _require_chromium() -> None:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: run scripts/browser.sh --install"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def run_crawl(home: Path, site: ScriptedNews, capture: str, **env: str) -> Crawl:
    home.mkdir(parents=True, exist_ok=True)
    definition = home / "news.toml"
    definition.write_text(
        "\n".join(
            [
                'name = "scripted"',
                f'capture = "{capture}"',
                'allowed_networks = ["127.0.0.1/32"]',
                "[start]",
                f'feeds = ["{site.base}/feed.xml"]',
                "[politeness]",
                "delay = 0",
                "concurrency = 2",
            ]
        )
        + "\n"
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NEWSVAULT_")}
    environment.update(NEWSVAULT_HOME=str(home), NEWSVAULT_DOWNLOAD_TIMEOUT="10", **env)
    result = subprocess.run(
        [sys.executable, "-m", "newsvault.crawl_process", "--site-file", str(definition)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-4000:]
    return Crawl(home, site, result)


@pytest.fixture(scope="module")
def canary() -> Iterator[Canary]:
    server = Canary()
    yield server
    server.server.shutdown()


@pytest.fixture(scope="module")
def site(canary: Canary) -> Iterator[ScriptedNews]:
    server = ScriptedNews(canary)
    yield server
    server.server.shutdown()


@pytest.fixture(scope="module")
def browser_crawl(site: ScriptedNews, tmp_path_factory: pytest.TempPathFactory) -> Crawl:
    _require_chromium()
    return run_crawl(tmp_path_factory.mktemp("browser") / "data", site, "browser")


def _article_capture(crawl: Crawl) -> Capture:
    with session_scope(crawl.index_url) as session:
        capture = session.scalar(select(Capture).where(Capture.url == crawl.article_url))
        assert capture is not None, crawl.result.stderr[-3000:]
        session.expunge(capture)
        return capture


@pytest.mark.slow
@pytest.mark.browser
def test_the_script_built_article_is_extracted_and_versioned(browser_crawl: Crawl) -> None:
    capture = _article_capture(browser_crawl)
    assert capture.process_state == "done", capture.process_note
    assert capture.dom_warc_name is not None
    with session_scope(browser_crawl.index_url) as session:
        version = session.scalar(select(Version).where(Version.capture_id == capture.id))
        assert version is not None
        assert version.title == browser_crawl.site.title
        text = version.text.split("\n")
    for paragraph in seed_lines()[2:]:
        assert paragraph in text


@pytest.mark.slow
@pytest.mark.browser
def test_every_response_the_browser_got_is_a_request_response_pair(browser_crawl: Crawl) -> None:
    records = browser_crawl.records()
    base = browser_crawl.site.base
    responses = {r["uri"]: r for r in records if r["type"] in ("response", "revisit")}
    requests = {r["concurrent_to"]: r for r in records if r["type"] == "request"}
    for path in (ARTICLE, "/static/app.js", "/api/article.json", "/static/site.css"):
        response = responses[base + path]
        assert response["status"] == "200", path
        assert requests[response["id"]]["uri"] == base + path
    logo = responses[base + "/static/logo.png"]
    assert logo["payload"] == _png()
    article = json.loads(responses[base + "/api/article.json"]["payload"])
    assert article["paragraphs"] == browser_crawl.site.paragraphs
    # The redirect chromium followed is recorded: status and headers, no body.
    moved = responses[base + "/static/moved.png"]
    assert moved["status"] == "302" and moved["payload"] == b""


@pytest.mark.slow
@pytest.mark.browser
def test_the_raw_page_is_the_unrendered_shell_byte_for_byte(browser_crawl: Crawl) -> None:
    records = browser_crawl.records()
    page = next(
        r for r in records if r["type"] == "response" and r["uri"] == browser_crawl.article_url
    )
    assert page["payload"] == browser_crawl.site.shell
    dom = next(r for r in records if r["uri"] == "urn:dom:" + browser_crawl.article_url)
    assert dom["type"] == "resource" and dom["concurrent_to"] == page["id"]
    rendered = dom["payload"].decode("utf-8-sig")
    assert seed_lines()[2] in rendered and seed_lines()[2] not in page["payload"].decode()


@pytest.mark.slow
@pytest.mark.browser
def test_the_screenshot_is_a_png_resource_of_the_page(browser_crawl: Crawl) -> None:
    records = browser_crawl.records()
    page = next(
        r for r in records if r["type"] == "response" and r["uri"] == browser_crawl.article_url
    )
    shots = [r for r in records if r["uri"] == "urn:fullPage:" + browser_crawl.article_url]
    assert len(shots) == 1
    shot = shots[0]
    assert shot["type"] == "resource" and shot["content_type"] == "image/png"
    assert shot["concurrent_to"] == page["id"]
    assert png_problem(shot["payload"]) is None
    assert len(shot["payload"]) > 2_000  # a rendered page, not a blank pixel


@pytest.mark.slow
@pytest.mark.browser
def test_disallowed_addresses_are_never_reached_and_are_recorded(
    browser_crawl: Crawl, canary: Canary
) -> None:
    assert canary.hits == []
    refused = {url: message for url, kind, message in browser_crawl.events() if kind == "ssrf"}
    assert "link-local" in refused[METADATA_URL]
    site = browser_crawl.site
    assert "loopback" in refused[site.secret]  # a script's fetch()
    assert "loopback" in refused[site.moved]  # a redirect's target
    uris = {r["uri"] for r in browser_crawl.records()}
    assert not {METADATA_URL, site.secret, site.moved} & uris


@pytest.mark.slow
@pytest.mark.browser
def test_feeds_stay_plain_fetches(browser_crawl: Crawl) -> None:
    with session_scope(browser_crawl.index_url) as session:
        kinds = {c.url: (c.kind, c.dom_warc_name) for c in session.scalars(select(Capture))}
    assert kinds[browser_crawl.site.base + "/feed.xml"] == ("feed", None)
    assert kinds[browser_crawl.site.base + "/static/app.js"] == ("requisite", None)


@pytest.mark.slow
@pytest.mark.browser
def test_a_recrawl_sees_an_edit_the_unchanged_shell_does_not_show(
    browser_crawl: Crawl, site: ScriptedNews, tmp_path: Path
) -> None:
    home = tmp_path / "data"
    shutil.copytree(browser_crawl.home, home)
    original = list(site.paragraphs)
    site.paragraphs[-1] = original[-1] + " (تصحيح: عُدّل التاريخ)"
    try:
        again = run_crawl(home, site, "browser")
    finally:
        site.paragraphs[:] = original
    with session_scope(again.index_url) as session:
        rows = list(session.scalars(select(Capture).where(Capture.url == again.article_url)))
        versions = list(session.scalars(select(Version).order_by(Version.number)))
        script = list(session.scalars(select(Capture).where(Capture.url.endswith("/app.js"))))
    # The shell is byte for byte the same: a revisit, yet its rendered DOM was read.
    assert [c.record_type for c in rows] == ["response", "revisit"]
    assert rows[1].process_state == "done" and rows[1].dom_warc_name is not None
    assert [v.number for v in versions] == [1, 2]
    assert versions[1].text.endswith("(تصحيح: عُدّل التاريخ)")
    # An unchanged script adds no bytes: a revisit of the first crawl's record.
    assert [c.record_type for c in script] == ["response", "revisit"]


@pytest.mark.slow
@pytest.mark.browser
def test_reindex_from_the_warc_files_finds_the_rendered_dom_again(
    browser_crawl: Crawl, tmp_path: Path
) -> None:
    from newsvault.config import load_settings
    from tasks.reindex import reindex

    home = tmp_path / "data"
    shutil.copytree(browser_crawl.home, home)
    before = _article_capture(browser_crawl)
    settings = load_settings(home=home)
    reindex(settings)
    after = _article_capture(Crawl(home, browser_crawl.site, browser_crawl.result))
    assert (after.dom_warc_name, after.dom_warc_offset, after.dom_warc_length) == (
        before.dom_warc_name,
        before.dom_warc_offset,
        before.dom_warc_length,
    )
    assert after.process_state == "done" and after.version_id is not None
    with session_scope(settings.index_url) as session:
        kinds = {c.url.rsplit("/", 1)[-1]: c.kind for c in session.scalars(select(Capture))}
    assert kinds["app.js"] == "requisite"


@pytest.mark.slow
@pytest.mark.browser
def test_a_plain_capture_of_the_same_site_is_an_empty_shell(
    site: ScriptedNews, tmp_path_factory: pytest.TempPathFactory
) -> None:
    crawl = run_crawl(tmp_path_factory.mktemp("page") / "data", site, "page")
    capture = _article_capture(crawl)
    assert capture.process_state == "skipped"
    assert "too short to be an article" in (capture.process_note or "")
    with session_scope(crawl.index_url) as session:
        assert session.scalar(select(Version)) is None
    uris = {r["uri"] for r in crawl.records()}
    assert site.base + "/api/article.json" not in uris


@pytest.mark.slow
@pytest.mark.browser
def test_a_missing_chromium_is_a_recorded_error_that_names_the_fix(
    site: ScriptedNews, tmp_path_factory: pytest.TempPathFactory
) -> None:
    crawl = run_crawl(
        tmp_path_factory.mktemp("nochromium") / "data",
        site,
        "browser",
        NEWSVAULT_CHROMIUM_PATH="/nonexistent/chromium",
    )
    events = [(url, kind, message) for url, kind, message in crawl.events() if kind == "browser"]
    assert [url for url, _, _ in events] == [crawl.article_url]
    assert "chromium not found" in events[0][2]
    assert "scripts/browser.sh --install" in events[0][2]
    with session_scope(crawl.index_url) as session:
        feed = session.scalar(select(Capture).where(Capture.kind == "feed"))
    assert feed is not None  # the feed is fetched plainly all the same


# Pure parts ---------------------------------------------------------------------------------


def test_headers_say_what_the_browser_undid() -> None:
    gzipped = [
        ("Content-Type", "text/html"),
        ("Content-Encoding", "gzip"),
        ("Content-Length", "31"),
    ]
    assert archived_headers(gzipped, 120) == [
        ("Content-Type", "text/html"),
        ("X-Archive-Orig-Content-Encoding", "gzip"),
        ("X-Archive-Orig-Content-Length", "31"),
        ("Content-Length", "120"),
    ]
    redirect = [(":status", "302"), ("Location", "/b"), ("Content-Length", "17")]
    assert archived_headers(redirect, 0) == [
        ("Location", "/b"),
        ("X-Archive-Orig-Content-Length", "17"),
        ("Content-Length", "0"),
    ]
    plain = [("Content-Type", "text/css"), ("Content-Length", "5")]
    assert archived_headers(plain, 5) == plain


def test_route_refuses_disallowed_literals_and_schemes() -> None:
    policy = NetworkPolicy(["127.0.0.1/32"])
    assert "link-local" in (url_refusal(METADATA_URL, policy) or "")
    assert "private" in (url_refusal("http://10.1.2.3/x", policy) or "")
    assert "loopback" in (url_refusal("http://[::1]:8080/", policy) or "")
    assert url_refusal("ftp://example.com/x", policy) is not None
    assert url_refusal("http://127.0.0.1:8000/x", policy) is None
    assert url_refusal("https://news.example/a.js", policy) is None  # names: at connect time
    assert url_refusal("data:image/png;base64,AAAA", policy) is None


def test_capture_is_page_or_browser_and_only_browser_sites_get_the_handler() -> None:
    from crawler.settings import build_settings
    from crawler.sitedef import SiteDefinitionError, parse_site
    from newsvault.config import Settings

    start = {"feeds": ["https://news.example/feed.xml"]}
    assert parse_site({"name": "n", "start": start}).capture == "page"
    with pytest.raises(SiteDefinitionError, match="capture"):
        parse_site({"name": "n", "start": start, "capture": "chrome"})
    settings = Settings(chromium_path=Path("/opt/chromium"))
    page = build_settings(settings, parse_site({"name": "n", "start": start}))
    assert "http" not in page["DOWNLOAD_HANDLERS"]
    browser = build_settings(
        settings, parse_site({"name": "n", "start": start, "capture": "browser"})
    )
    handler = "crawler.browser_handler.BrowserDownloadHandler"
    assert browser["DOWNLOAD_HANDLERS"]["http"] == browser["DOWNLOAD_HANDLERS"]["https"] == handler
    assert browser["NEWSVAULT_CHROMIUM_PATH"] == "/opt/chromium"
