"""A generated news site on 127.0.0.1 for benchmarks: N article pages, sections, sitemaps.

    python bench/generated_site.py --pages 5000 --port 8800      # serve until Ctrl-C

    with GeneratedSite(pages=5000, port=0) as site:              # from a benchmark
        crawl(site.url, ...)

The content is deterministic (same N, same bytes). Article pages are about ``page_kb`` KB of
HTML, mostly boilerplate (navigation, inline CSS and scripts, a footer of links, ad slots)
around a story of 300-500 words; every fifth article is in Arabic. The stories come from
bench/corpus.py's language models (real words with their frequencies, a long tail): two
stories share about as many character shingles as two unrelated news articles do, so the
near-duplicate index sees a realistic load. Routes:

    /robots.txt                            allows all, names the sitemap index
    /sitemap_index.xml                     -> /sitemaps/news-K.xml (1,000 URLs each, Google News)
    /section/NAME/?page=P                  20 articles a page, rel=next pagination
    /NAME/2025/MM/DD/ID-slug.html           article pages (link to 5 related articles)

The server must not be the bottleneck of what it measures: every response is rendered and
gzip-compressed once at start-up (served compressed when the client accepts gzip, as news
sites do), and a small HTTP/1.1 keep-alive loop per connection answers from a dict, without
http.server's per-request header parsing.
"""

from __future__ import annotations

import argparse
import gzip
import random
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.corpus import article_text  # needs the path above

__all__ = ["ARTICLE_PATTERN", "GeneratedSite", "iter_site", "render_site"]

SECTIONS = ("world", "politics", "business", "science", "culture", "sport", "health", "tech")
PER_SECTION_PAGE = 20
PER_SITEMAP = 1000
# What an article URL looks like (the site definition's article_allow).
ARTICLE_PATTERN = r"/\d{4}/\d{2}/\d{2}/\d+-"
T0 = datetime(2025, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Article:
    number: int
    section: str
    path: str
    published: datetime
    arabic: bool


def _articles(pages: int) -> list[Article]:
    out = []
    for n in range(pages):
        section = SECTIONS[n % len(SECTIONS)]
        published = T0 + timedelta(minutes=37 * n)
        day = published.strftime("%Y/%m/%d")
        arabic = n % 5 == 4
        slug = "khabar" if arabic else "story"
        out.append(Article(n, section, f"/{section}/{day}/{n}-{slug}.html", published, arabic))
    return out


def _boilerplate(page_kb: int) -> tuple[str, str]:
    """(head + top of body, footer): the bulk of every page, identical on all of them."""
    nav = "".join(f"<li><a href='/section/{s}/'>{s.title()}</a></li>" for s in SECTIONS)
    static = "".join(
        f"<li><a href='/about/{name}.html'>{name}</a></li>"
        for name in ("contact", "terms", "privacy", "jobs", "advertise", "newsletters")
    )
    css = "".join(
        f".c{i}{{margin:{i % 7}px;padding:{i % 5}px;color:#{i * 2654435761 % 0xFFFFFF:06x}}}"
        for i in range(page_kb * 9)
    )
    script = "".join(
        f"window.__cfg{i}={{id:{i},slot:'ad-{i % 9}',lazy:true,targets:['a','b','c']}};"
        for i in range(page_kb * 6)
    )
    menu = "".join(
        f"<div class='mega c{i}'><span>{SECTIONS[i % len(SECTIONS)]} topic {i}</span>"
        f"<a href='/section/{SECTIONS[i % len(SECTIONS)]}/'>more</a></div>"
        for i in range(page_kb * 2)
    )
    head = (
        "<!doctype html><html lang='@LANG@' dir='@DIR@'><head><meta charset='utf-8'>"
        "<title>@TITLE@</title><meta property='og:type' content='article'>"
        "<link rel='canonical' href='@CANONICAL@'>"
        f"<style>{css}</style><script>{script}</script></head><body>"
        f"<header><nav><ul>{nav}</ul></nav><div class='menu'>{menu}</div></header>"
        "<div class='ad' id='top-ad'></div>"
    )
    footer = (
        "<div class='ad' id='bottom-ad'></div>"
        f"<footer><ul>{static}</ul><ul>{nav}</ul><p>© Generated News</p></footer>"
        "</body></html>"
    )
    return head, footer


def _story(article: Article, rng: random.Random) -> tuple[str, str]:
    title, paragraphs = article_text("ar" if article.arabic else "en", rng, rng.randint(300, 500))
    return title.capitalize(), "".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)


def _fill(template: str, **values: str) -> str:
    # Not str.format: the inline CSS and scripts are full of braces.
    for key, value in values.items():
        template = template.replace(f"@{key}@", value)
    return template


class _Renderer:
    def __init__(self, pages: int, page_kb: int, host: str) -> None:
        self.articles = _articles(pages)
        self.host = host
        self.head, self.footer = _boilerplate(page_kb)

    def article(self, article: Article) -> bytes:
        rng = random.Random(article.number)
        title, body = _story(article, rng)
        count = len(self.articles)
        related = "".join(
            f"<li><a href='{self.articles[(article.number + k * 97) % count].path}'>"
            f"related {k}</a></li>"
            for k in range(1, 6)
        )
        head = _fill(
            self.head,
            LANG="ar" if article.arabic else "en",
            DIR="rtl" if article.arabic else "ltr",
            TITLE=title,
            CANONICAL=self.host + article.path,
        )
        html = (
            f"{head}<main><article><h1>{title}</h1>"
            f"<time datetime='{article.published.isoformat()}'>"
            f"{article.published:%d %B %Y}</time>{body}</article>"
            f"<aside><h2>Related</h2><ul>{related}</ul></aside></main>{self.footer}"
        )
        return html.encode()

    def section(self, name: str, page: int, items: list[Article], last: int) -> bytes:
        links = "".join(f"<li><a href='{a.path}'>Story {a.number}</a></li>" for a in items)
        nxt = (
            f"<a rel='next' href='/section/{name}/?page={page + 1}'>next</a>" if page < last else ""
        )
        head = _fill(self.head, LANG="en", DIR="ltr", TITLE=name, CANONICAL=f"/section/{name}/")
        head = head.replace("<meta property='og:type' content='article'>", "")
        return f"{head}<main><ul>{links}</ul>{nxt}</main>{self.footer}".encode()


def render_site(pages: int, page_kb: int = 60, host: str = "") -> dict[str, tuple[str, bytes]]:
    """path -> (Content-Type, body) of the whole site. ``host`` prefixes absolute URLs."""
    return {path: (kind, body) for path, kind, body in iter_site(pages, page_kb, host)}


def iter_site(pages: int, page_kb: int = 60, host: str = "") -> Iterator[tuple[str, str, bytes]]:
    """(path, Content-Type, body) of every page, one at a time (a 50,000-page site rendered
    at once would take a GB; the server keeps only the gzipped bytes)."""
    r = _Renderer(pages, page_kb, host)
    html = "text/html; charset=utf-8"
    site: dict[str, tuple[str, bytes]] = {}
    for article in r.articles:
        yield article.path, html, r.article(article)
    for name in SECTIONS:
        items = [a for a in reversed(r.articles) if a.section == name]
        chunks = [items[i : i + PER_SECTION_PAGE] for i in range(0, len(items), PER_SECTION_PAGE)]
        last = max(len(chunks), 1)
        for page, chunk in enumerate(chunks or [[]], start=1):
            path = f"/section/{name}/" + (f"?page={page}" if page > 1 else "")
            site[path] = (html, r.section(name, page, chunk, last))
    for name in ("contact", "terms", "privacy", "jobs", "advertise", "newsletters"):
        site[f"/about/{name}.html"] = (html, f"<html><body>{name}</body></html>".encode())
    maps = [r.articles[i : i + PER_SITEMAP] for i in range(0, len(r.articles), PER_SITEMAP)]
    entries = "".join(
        f"<sitemap><loc>{host}/sitemaps/news-{k}.xml</loc></sitemap>" for k in range(len(maps))
    )
    site["/sitemap_index.xml"] = (
        "application/xml",
        (
            "<?xml version='1.0' encoding='UTF-8'?><sitemapindex "
            f"xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>{entries}</sitemapindex>"
        ).encode(),
    )
    for k, chunk in enumerate(maps):
        urls = "".join(
            f"<url><loc>{host}{a.path}</loc><lastmod>{a.published.isoformat()}</lastmod>"
            "<news:news><news:publication><news:name>Generated News</news:name>"
            f"<news:language>{'ar' if a.arabic else 'en'}</news:language></news:publication>"
            f"<news:publication_date>{a.published.isoformat()}</news:publication_date>"
            f"<news:title>Story {a.number}</news:title></news:news></url>"
            for a in chunk
        )
        site[f"/sitemaps/news-{k}.xml"] = (
            "application/xml",
            (
                "<?xml version='1.0' encoding='UTF-8'?><urlset "
                "xmlns='http://www.sitemaps.org/schemas/sitemap/0.9' "
                "xmlns:news='http://www.google.com/schemas/sitemap-news/0.9'>"
                f"{urls}</urlset>"
            ).encode(),
        )
    site["/robots.txt"] = (
        "text/plain",
        f"User-agent: *\nDisallow: /private/\nSitemap: {host}/sitemap_index.xml\n".encode(),
    )
    for path, (kind, body) in site.items():
        yield path, kind, body


def _response(status: str, content_type: str, body: bytes, gzipped: bool) -> bytes:
    headers = [
        f"HTTP/1.1 {status}",
        f"Content-Type: {content_type}",
        f"Content-Length: {len(body)}",
        "Cache-Control: max-age=60",
    ]
    if gzipped:
        headers.append("Content-Encoding: gzip")
        headers.append("Vary: Accept-Encoding")
    return ("\r\n".join(headers) + "\r\n\r\n").encode() + body


class _Handler(socketserver.StreamRequestHandler):
    """HTTP/1.1 keep-alive: read a request head, answer from the pre-built table, repeat."""

    server: _Server

    def handle(self) -> None:
        rfile, sock = self.rfile, self.connection
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        table = self.server.table
        while True:
            line = rfile.readline(8192)
            if not line:
                return
            gzip_ok = False
            while True:  # headers: only Accept-Encoding matters
                header = rfile.readline(8192)
                if header in (b"\r\n", b"\n", b""):
                    break
                if header[:16].lower() == b"accept-encoding:" and b"gzip" in header.lower():
                    gzip_ok = True
            parts = line.split()
            path = parts[1].decode("latin-1") if len(parts) > 1 else "/"
            self.server.count += 1
            answer = table.get(path)
            if answer is None:
                sock.sendall(self.server.not_found)
            elif gzip_ok:
                sock.sendall(answer[0])
            else:  # rare (crawlers accept gzip): decompress on demand rather than keep both
                sock.sendall(_response("200 OK", answer[1], gzip.decompress(answer[2]), False))


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, port: int, table: dict[str, tuple[bytes, str, bytes]]) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.table = table
        self.count = 0
        self.not_found = _response("404 Not Found", "text/html", b"<h1>not found</h1>", False)


class GeneratedSite:
    """The generated site served on 127.0.0.1 from a background thread (a context manager)."""

    def __init__(self, pages: int = 5000, *, port: int = 0, page_kb: int = 60) -> None:
        self.pages = pages
        self.page_kb = page_kb
        self._server = _Server(port, {})
        self.port: int = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        started = time.perf_counter()
        self.raw_bytes = 0
        self.wire_bytes = 0
        # path -> (whole gzipped response, Content-Type, gzipped body)
        table: dict[str, tuple[bytes, str, bytes]] = {}
        for path, content_type, body in iter_site(pages, page_kb, self.url):
            packed = gzip.compress(body, 6, mtime=0)
            table[path] = (_response("200 OK", content_type, packed, True), content_type, packed)
            if path.endswith(".html") and "/about/" not in path:
                self.raw_bytes += len(body)
                self.wire_bytes += len(packed)
        self._server.table = table
        self.render_seconds = time.perf_counter() - started
        self._thread: threading.Thread | None = None

    @property
    def requests_served(self) -> int:
        return self._server.count

    @property
    def article_paths(self) -> list[str]:
        return [a.path for a in _articles(self.pages)]

    def start(self) -> GeneratedSite:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> GeneratedSite:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=5000)
    parser.add_argument("--port", type=int, default=8800)
    parser.add_argument("--page-kb", type=int, default=60, help="size of an article page")
    args = parser.parse_args()
    try:
        site = GeneratedSite(args.pages, port=args.port, page_kb=args.page_kb)
    except OSError as exc:
        raise SystemExit(f"port {args.port}: {exc.strerror}; try another --port") from None
    n = args.pages
    print(
        f"{n:,} articles, {site.raw_bytes / n / 1024:.0f} KB each "
        f"({site.wire_bytes / n / 1024:.1f} KB gzipped), rendered in {site.render_seconds:.1f} s"
    )
    print(f"Serving {site.url}/  (sitemap: {site.url}/sitemap_index.xml)  Ctrl-C stops")
    with site:
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
