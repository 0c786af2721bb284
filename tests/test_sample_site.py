"""The bundled sample site, served over real HTTP on 127.0.0.1 and read with urllib."""

from __future__ import annotations

import gzip
import json
import re
import socket
import subprocess
import sys
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import timedelta
from email.message import Message
from email.utils import format_datetime, parsedate_to_datetime

import lxml.html
import pytest

from newsvault.sample_site import (
    ARABIC_ARTICLE_PATH,
    EDITED_ARTICLE_PATH,
    REPUBLISHED_ARTICLE_PATH,
    TRACKED_ARTICLE_PATH,
    PortInUseError,
    SampleSiteServer,
    build_site,
    seed_lines,
)

NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "sm": "http://www.sitemaps.org/schemas/sitemap/0.9",
    "news": "http://www.google.com/schemas/sitemap-news/0.9",
}


class Fetched:
    def __init__(self, status: int, headers: Message, body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body


def fetch(url: str, headers: dict[str, str] | None = None, method: str = "GET") -> Fetched:
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Fetched(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:  # 304 and 404 arrive as HTTPError
        with error:
            return Fetched(error.code, error.headers, error.read())


@pytest.fixture(scope="module")
def server() -> Iterator[SampleSiteServer]:
    with SampleSiteServer() as running:
        yield running


def html_of(server: SampleSiteServer, path: str) -> lxml.html.HtmlElement:
    response = fetch(server.url + path)
    assert response.status == 200
    return lxml.html.fromstring(response.body.decode("utf-8"))


def json_ld(document: lxml.html.HtmlElement) -> dict[str, object]:
    (script,) = document.xpath('//script[@type="application/ld+json"]')
    data: dict[str, object] = json.loads(script.text)
    return data


def meta(document: lxml.html.HtmlElement, prop: str) -> str:
    (value,) = document.xpath(f'//meta[@property="{prop}"]/@content')
    return str(value)


# Every page -------------------------------------------------------------------------------


def test_every_page_is_served_with_stable_validators(server: SampleSiteServer) -> None:
    for path, page in server.site.pages.items():
        response = fetch(server.url + path)
        assert response.status == 200, path
        assert response.body == page.body, path
        assert response.headers["Content-Type"].endswith("charset=utf-8"), path
        assert response.headers["ETag"] == page.headers["ETag"], path
        assert response.headers["Last-Modified"] == page.headers["Last-Modified"], path
        assert response.headers["Content-Length"] == str(len(page.body)), path
        page.body.decode("utf-8")  # every page is valid UTF-8


def test_build_is_deterministic_and_validators_come_from_content() -> None:
    first = build_site("http://127.0.0.1:8741")
    second = build_site("http://127.0.0.1:8741/")
    assert first.pages.keys() == second.pages.keys()
    for path, page in first.pages.items():
        assert page == second.pages[path], path
    etags = [page.etag for page in first.pages.values()]
    assert len(set(etags)) == len(etags)
    with pytest.raises(ValueError, match="edition"):
        build_site("http://127.0.0.1:8741", edition=3)


def test_unknown_path_gets_the_404_page(server: SampleSiteServer) -> None:
    response = fetch(server.url + "/no/such/page.html")
    assert response.status == 404
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert b"Page not found" in response.body


def test_head_request_sends_headers_without_body(server: SampleSiteServer) -> None:
    response = fetch(server.url + ARABIC_ARTICLE_PATH, method="HEAD")
    page = server.site.pages[ARABIC_ARTICLE_PATH]
    assert response.status == 200
    assert response.body == b""
    assert response.headers["Content-Length"] == str(len(page.body))


def test_no_internal_link_is_broken() -> None:
    site = build_site("http://127.0.0.1:8741")
    for path, page in site.pages.items():
        if not page.content_type.startswith("text/html"):
            continue
        document = lxml.html.fromstring(page.body.decode("utf-8"))
        for link in document.xpath("//a/@href | //link/@href | //script/@src | //img/@src"):
            if link.startswith("/"):
                assert site.lookup(link.split("#")[0]) is not None, f"{path} -> {link}"


# Home, sections, feeds, sitemap, robots ---------------------------------------------------


def test_home_page_links_feeds_sections_and_latest_articles(server: SampleSiteServer) -> None:
    document = html_of(server, "/")
    assert document.get("lang") == "en"
    (feed,) = document.xpath('//head/link[@rel="alternate"][@type="application/rss+xml"]/@href')
    assert feed == "/feed.xml"
    links = {href.split("?")[0] for href in document.xpath("//a/@href")}
    assert {"/world/", "/business/", "/science/", "/region/"} <= links
    assert set(server.site.article_paths) <= links
    assert len(document.xpath('//nav[@class="main-nav"]//a')) >= 20


def test_section_page_paginates_with_rel_next(server: SampleSiteServer) -> None:
    first = html_of(server, "/world/")
    assert first.xpath('//head/link[@rel="next"]/@href') == ["/world/?page=2"]
    assert first.xpath('//a[@rel="next"]/@href') == ["/world/?page=2"]
    second = html_of(server, "/world/?page=2")
    assert second.xpath('//head/link[@rel="prev"]/@href') == ["/world/"]
    assert not second.xpath('//link[@rel="next"]')
    listed = set(first.xpath("//li[@class='teaser']//a/@href")) | set(
        second.xpath("//li[@class='teaser']//a/@href")
    )
    assert ARABIC_ARTICLE_PATH in listed  # the oldest world story is only on page 2
    assert ARABIC_ARTICLE_PATH not in first.xpath("//li[@class='teaser']//a/@href")


def test_rss_feed_parses_with_dated_items(server: SampleSiteServer) -> None:
    response = fetch(server.url + "/feed.xml")
    assert response.headers["Content-Type"] == "application/rss+xml; charset=utf-8"
    channel = ET.fromstring(response.body).find("channel")
    assert channel is not None
    items = channel.findall("item")
    links = [item.findtext("link") for item in items]
    assert links == [server.url + path for path in server.site.article_paths]
    for item in items:
        published = parsedate_to_datetime(item.findtext("pubDate") or "")
        assert published.tzinfo is not None
        assert item.findtext("title")
        assert item.findtext("guid") == item.findtext("link")


def test_atom_feed_parses(server: SampleSiteServer) -> None:
    root = ET.fromstring(fetch(server.url + "/atom.xml").body)
    entries = root.findall("atom:entry", NS)
    assert len(entries) == len(server.site.articles)
    for entry in entries:
        link = entry.find("atom:link", NS)
        assert link is not None and link.get("href", "").startswith(server.url + "/")
        assert entry.findtext("atom:published", namespaces=NS)


def test_news_sitemap_lists_every_article(server: SampleSiteServer) -> None:
    root = ET.fromstring(fetch(server.url + "/sitemap.xml").body)
    urls = root.findall("sm:url", NS)
    locs = {url.findtext("sm:loc", namespaces=NS) for url in urls}
    assert locs == {server.url + path for path in server.site.article_paths}
    for url in urls:
        date = url.findtext("news:news/news:publication_date", namespaces=NS)
        assert date and re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$", date)
    languages = {url.findtext(".//news:language", namespaces=NS) for url in urls}
    assert languages == {"en", "ar"}


def test_robots_txt_names_the_sitemap(server: SampleSiteServer) -> None:
    text = fetch(server.url + "/robots.txt").body.decode()
    assert f"Sitemap: {server.url}/sitemap.xml" in text.splitlines()


# Articles ---------------------------------------------------------------------------------


def test_arabic_page_carries_the_seed_exactly(server: SampleSiteServer) -> None:
    lines = seed_lines()
    document = html_of(server, ARABIC_ARTICLE_PATH)
    assert (document.get("lang"), document.get("dir")) == ("ar", "rtl")
    (h1,) = document.xpath("//h1")
    assert h1.text_content() == lines[0]
    (lead,) = document.xpath('//p[@class="lead"]')
    assert lead.text_content() == lines[1]
    body = [p.text_content() for p in document.xpath('//div[@class="story-body"]/p')]
    assert body == lines[2:]
    assert "“" in "".join(body)  # typographic quotes kept
    data = json_ld(document)
    assert data["@type"] == "NewsArticle"
    assert data["headline"] == lines[0]
    assert data["datePublished"] == "2021-05-15T18:30:00+04:30"
    assert data["inLanguage"] == "ar"
    assert data["author"]
    assert meta(document, "og:type") == "article"
    assert meta(document, "og:title") == lines[0]


def test_republished_copy_is_respelled_and_edited(server: SampleSiteServer) -> None:
    lines = seed_lines()
    text = fetch(server.url + REPUBLISHED_ARTICLE_PATH).body.decode("utf-8")
    assert "قاآني" not in text
    assert "قآني" in text
    document = lxml.html.fromstring(text)
    body = [p.text_content() for p in document.xpath('//div[@class="entry-content"]/p')]
    respelled = [line.replace("قاآني", "قآني") for line in lines[2:]]
    assert len(body) == len(respelled) - 1  # one paragraph dropped
    changed = [paragraph for paragraph in body if paragraph not in respelled]
    assert len(changed) == 2  # a few words changed in two paragraphs
    assert document.xpath('//body[@class="regional-desk"]')  # other boilerplate
    assert not document.xpath('//nav[@class="main-nav"]')
    assert meta(document, "og:url") == server.url + REPUBLISHED_ARTICLE_PATH


def test_english_articles_have_metadata_and_enough_prose(server: SampleSiteServer) -> None:
    english = [article for article in server.site.articles if article.language == "en"]
    assert len(english) >= 4
    assert len({article.section for article in english}) >= 3
    for article in english:
        assert 400 <= article.word_count <= 900, article.path
        document = html_of(server, article.path)
        assert document.get("lang") == "en"
        data = json_ld(document)
        assert data["datePublished"] == article.published.isoformat()
        assert data["author"] == {"@type": "Person", "name": article.author}
        assert meta(document, "og:title") == article.title
        assert meta(document, "og:type") == "article"
        assert document.xpath('//link[@rel="canonical"]/@href') == [server.url + article.path]
        # The boilerplate a real page carries around the story.
        assert document.xpath('//aside[@class="related"]//a')
        assert document.xpath('//aside[@class="newsletter-box"]')
        assert document.xpath('//div[@id="cookie-banner"]')
        assert document.xpath('//section[@id="comments"]')
        assert document.xpath("//script[@src]") and document.xpath("//script[not(@src)]")
        assert len(document.xpath('//footer[@class="site-footer"]//a')) >= 20


def test_tracking_links_resolve_to_the_canonical_article(server: SampleSiteServer) -> None:
    home = html_of(server, "/")
    tracked = [href for href in home.xpath("//a/@href") if "utm_source=" in href]
    assert tracked and all(href.startswith(TRACKED_ARTICLE_PATH + "?") for href in tracked)
    response = fetch(server.url + tracked[0])
    assert response.body == server.site.pages[TRACKED_ARTICLE_PATH].body
    document = lxml.html.fromstring(response.body.decode("utf-8"))
    assert document.xpath('//link[@rel="canonical"]/@href') == [server.url + TRACKED_ARTICLE_PATH]


# HTTP behaviour ---------------------------------------------------------------------------


def test_gzip_when_asked_and_the_same_page_inside(server: SampleSiteServer) -> None:
    for path in server.site.article_paths:
        response = fetch(server.url + path, {"Accept-Encoding": "gzip, deflate"})
        assert response.headers["Content-Encoding"] == "gzip", path
        assert "Accept-Encoding" in response.headers["Vary"]
        assert response.headers["Content-Length"] == str(len(response.body))
        assert gzip.decompress(response.body) == server.site.pages[path].body
        again = fetch(server.url + path, {"Accept-Encoding": "gzip"})
        assert again.body == response.body  # the compressed bytes are stable too
    plain = fetch(server.url + ARABIC_ARTICLE_PATH, {"Accept-Encoding": "gzip;q=0, identity"})
    assert plain.headers["Content-Encoding"] is None
    assert plain.body == server.site.pages[ARABIC_ARTICLE_PATH].body


def test_conditional_get_answers_304(server: SampleSiteServer) -> None:
    url = server.url + ARABIC_ARTICLE_PATH
    first = fetch(url)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    not_modified = fetch(url, {"If-None-Match": etag})
    assert (not_modified.status, not_modified.body) == (304, b"")
    assert not_modified.headers["ETag"] == etag
    zipped = fetch(url, {"Accept-Encoding": "gzip"})
    assert zipped.headers["ETag"] != etag
    assert fetch(url, {"If-None-Match": zipped.headers["ETag"]}).status == 304
    assert fetch(url, {"If-None-Match": f'"other", W/{etag}'}).status == 304
    assert fetch(url, {"If-Modified-Since": modified}).status == 304
    earlier = format_datetime(parsedate_to_datetime(modified) - timedelta(days=1), usegmt=True)
    assert fetch(url, {"If-Modified-Since": earlier}).status == 200
    assert fetch(url, {"If-None-Match": '"stale"'}).status == 200
    # If-None-Match wins over If-Modified-Since.
    assert fetch(url, {"If-None-Match": '"stale"', "If-Modified-Since": modified}).status == 200
    assert fetch(url, {"If-Modified-Since": "not a date"}).status == 200


def test_edition_switch_changes_one_article_only() -> None:
    with SampleSiteServer() as server:
        paths = list(server.site.pages)
        before = {path: fetch(server.url + path) for path in paths}
        server.set_edition(2)
        assert server.edition == 2
        after = {path: fetch(server.url + path) for path in paths}
        changed = [path for path in paths if before[path].body != after[path].body]
        assert changed == [EDITED_ARTICLE_PATH]
        old, new = before[EDITED_ARTICLE_PATH], after[EDITED_ARTICLE_PATH]
        assert old.headers["ETag"] != new.headers["ETag"]
        old_time = parsedate_to_datetime(old.headers["Last-Modified"])
        assert parsedate_to_datetime(new.headers["Last-Modified"]) > old_time
        for path in paths:
            if path != EDITED_ARTICLE_PATH:
                assert before[path].headers["ETag"] == after[path].headers["ETag"], path
        old_body = _story(old.body)
        new_body = _story(new.body)
        assert new_body[-1].startswith("Correction: ")
        assert len(new_body) == len(old_body) + 1
        assert sum(a != b for a, b in zip(old_body, new_body, strict=False)) == 1
        # A re-crawl with the old validators gets the new version, not a 304.
        assert (
            fetch(server.url + EDITED_ARTICLE_PATH, {"If-None-Match": old.headers["ETag"]}).status
            == 200
        )
        server.set_edition(1)
        assert fetch(server.url + EDITED_ARTICLE_PATH).body == old.body


def _story(body: bytes) -> list[str]:
    document = lxml.html.fromstring(body.decode("utf-8"))
    return [p.text_content() for p in document.xpath('//div[@class="story-body"]/p')]


def test_requests_are_logged_in_memory_not_on_stderr(
    server: SampleSiteServer, capfd: pytest.CaptureFixture[str]
) -> None:
    fetch(server.url + "/robots.txt?probe=1", {"User-Agent": "sample-site-test"})
    fetch(server.url + "/missing-page")
    records = [record for record in server.requests if record.path == "/robots.txt?probe=1"]
    assert records and records[-1].headers["User-Agent"] == "sample-site-test"
    assert records[-1].status == 200 and records[-1].method == "GET"
    assert records[-1].time.tzinfo is not None
    assert server.requests[-1].status == 404
    assert capfd.readouterr().err == ""


def test_busy_port_raises_port_in_use_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PortInUseError) as raised:
            SampleSiteServer(port=port)
    message = str(raised.value)
    assert str(port) in message and "NEWSVAULT_SAMPLE_SITE_PORT" in message
    assert raised.value.port == port


def test_standalone_module_serves_and_prints_url() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "newsvault.sample_site", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in line
        assert fetch(f"http://127.0.0.1:{port}/robots.txt").status == 200
    finally:
        process.terminate()
        process.wait(timeout=10)
