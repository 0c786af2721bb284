"""A fixture news site over HTTP on 127.0.0.1, and a crawl runner for subprocess tests.

The server records every request it receives (method, path, headers). ``run_crawl_subprocess``
runs :func:`crawler.run.run_crawl` in a fresh Python process (a Twisted reactor cannot be
restarted) with a sink that writes fetches and failures to JSONL files for inspection.
"""

from __future__ import annotations

import base64
import gzip
import json
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ARABIC_TEXT = "قال مسؤول إن الوفد سيزور المنطقة الأسبوع المقبل لبحث الاتفاق."
SLOW_SECONDS = 3.0
BIG_BYTES = 300_000  # the crawls below cap pages at 200_000 bytes
# Decompression bombs: a few KB on the wire, 5 MB once Content-Encoding is undone.
BOMB_BYTES = 5_000_000


def _page(title: str, body: str, *, head: str = "", og_article: bool = True) -> bytes:
    og = '<meta property="og:type" content="article">' if og_article else ""
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>{og}{head}"
        f"</head><body><nav><a href='/'>Home</a> <a href='/news/'>News</a></nav>"
        f"<h1>{title}</h1>{body}<footer>© Fixture News</footer></body></html>"
    ).encode()


def _article(n: str, links: str = "", head: str = "") -> bytes:
    return _page(f"Article {n}", f"<p>Story {n} text.</p>{links}", head=head)


@dataclass
class SeenRequest:
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class FixtureSite:
    """The fixture site. ``robots_status`` 503 makes robots.txt unreachable."""

    robots_status: int = 200
    requests: list[SeenRequest] = field(default_factory=list)
    port: int = 0
    _flaky_hits: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def paths(self) -> list[str]:
        with self._lock:
            return [r.path for r in self.requests]

    def count(self, path: str) -> int:
        return self.paths().count(path)

    # Content ------------------------------------------------------------------------------

    def route(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        html = {"Content-Type": "text/html; charset=utf-8"}
        base = self.base
        if path == "/robots.txt":
            if self.robots_status != 200:
                return self.robots_status, {"Content-Type": "text/html"}, b"<h1>busy</h1>"
            body = f"User-agent: *\nDisallow: /private/\nSitemap: {base}/sitemap_index.xml\n"
            return 200, {"Content-Type": "text/plain"}, body.encode()
        if path == "/":
            head = (
                '<link rel="alternate" type="application/rss+xml" href="/feed.rss">'
                '<link rel="alternate" type="application/atom+xml" href="/feed.atom">'
            )
            return (
                200,
                html,
                _page("Home", "<a href='/news/'>News</a>", head=head, og_article=False),
            )
        if path == "/feed.rss":
            body = f"""<?xml version="1.0"?><rss version="2.0"><channel><title>F</title>
<item><title>1</title><link>{base}/articles/a1.html?utm_source=rss&amp;utm_medium=feed</link>
<pubDate>Mon, 06 Jan 2025 10:00:00 GMT</pubDate></item>
<item><title>2</title><link>{base}/articles/a2.html</link></item>
<item><title>old</title><link>{base}/articles/old.html</link>
<pubDate>Mon, 06 Jan 2003 10:00:00 GMT</pubDate></item>
</channel></rss>"""
            return 200, {"Content-Type": "application/rss+xml"}, body.encode()
        if path == "/feed.atom":
            body = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>
<entry><title>3</title><link rel="alternate" href="{base}/articles/a3.html"/>
<updated>2025-01-06T10:00:00Z</updated></entry>
<entry><title>1 again</title><link href="{base}/articles/a1.html#comments"/></entry>
</feed>"""
            return 200, {"Content-Type": "application/atom+xml"}, body.encode()
        if path == "/sitemap_index.xml":
            body = f"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>{base}/sitemap-news.xml.gz</loc></sitemap>
</sitemapindex>"""
            return 200, {"Content-Type": "application/xml"}, body.encode()
        if path == "/sitemap-news.xml.gz":
            xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
 xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>{base}/articles/a4.html</loc><news:news><news:publication>
<news:name>F</news:name><news:language>en</news:language></news:publication>
<news:publication_date>2025-01-06T10:00:00+00:00</news:publication_date>
<news:title>4</news:title></news:news></url>
<url><loc>{base}/articles/arabic.html</loc></url>
<url><loc>{base}/articles/a9.html</loc><news:news>
<news:publication_date>2001-01-01</news:publication_date></news:news></url>
</urlset>"""
            return 200, {"Content-Type": "application/x-gzip"}, gzip.compress(xml.encode())
        if path.startswith("/news/"):
            if "page=2" in path:
                links = "<a href='/articles/a5.html'>5</a>"
            else:
                links = (
                    "<a href='/articles/a1.html?fbclid=XYZ&amp;utm_campaign=c'>1</a>"
                    "<a href='/articles/a2.html#top'>2</a>"
                    "<a href='/private/secret.html'>secret</a>"
                    "<a href='/articles/amp/a6.html'>6 amp</a>"
                    "<a href='/docs/report.pdf'>pdf</a><a href='/broken.html'>b</a>"
                    "<a href='/missing.html'>404</a><a href='/flaky.html'>flaky</a>"
                    "<a href='/redirect1'>moved</a><a href='/slow.html'>slow</a>"
                    "<a href='/big.html'>big</a><a href='/news/?page=2'>next</a>"
                    "<a href='/bomb.html'>gz bomb</a><a href='/bomb-br.html'>br bomb</a>"
                    "<a href='/style.css'>css</a><a href='mailto:x@y'>m</a>"
                )
            return 200, html, _page("News", links, og_article=False)
        if path == "/articles/a1.html":
            head = (
                '<link rel="canonical" href="/articles/a1.html">'
                '<link rel="amphtml" href="/articles/amp/a1.html">'
            )
            return (
                200,
                {**html, "Content-Encoding": "gzip"},
                gzip.compress(_article("1", head=head)),
            )
        if path == "/articles/a2.html":
            etag = '"a2-v1"'
            if headers.get("if-none-match") == etag:
                return 304, {"ETag": etag}, b""
            return 200, {**html, "ETag": etag}, _article("2")
        if path == "/articles/amp/a6.html":
            amp = (
                b"<!doctype html><html amp><head><meta charset='utf-8'>"
                b"<link rel='canonical' href='/articles/a6.html'><title>6</title></head>"
                b"<body><h1>Article 6 (AMP)</h1></body></html>"
            )
            return 200, html, amp
        if path == "/articles/arabic.html":
            arabic = (
                "<html lang='ar' dir='rtl'><head><meta charset='windows-1256'>"
                f"<title>خبر</title></head><body><h1>خبر</h1><p>{ARABIC_TEXT}</p></body></html>"
            ).encode("cp1256")
            return 200, {"Content-Type": "text/html; charset=windows-1256"}, arabic
        if path.startswith("/articles/"):
            name = path.rsplit("/", 1)[-1].removesuffix(".html")
            return 200, html, _article(name)
        if path == "/broken.html":
            return (
                200,
                html,
                b"<html><body><p>unclosed <div><a href='/articles/a8.html'>8</a><table><tr><td>x",
            )
        if path == "/docs/report.pdf":
            return (
                200,
                {"Content-Type": "application/pdf"},
                b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n",
            )
        if path == "/flaky.html":
            with self._lock:
                self._flaky_hits += 1
                first = self._flaky_hits == 1
            if first:
                return 500, html, b"<h1>oops</h1>"
            return 200, html, _article("flaky")
        if path == "/redirect1":
            return 302, {"Location": "/redirect2"}, b""
        if path == "/redirect2":
            return 301, {"Location": f"{base}/articles/a7.html?utm_source=redirect"}, b""
        if path == "/slow.html":
            time.sleep(SLOW_SECONDS)
            return 200, html, _article("slow")
        if path == "/bomb.html":
            bomb = gzip.compress(b"<html><body>" + b" " * BOMB_BYTES, 9)
            return 200, {**html, "Content-Encoding": "gzip"}, bomb
        if path == "/bomb-br.html":
            import brotli

            bomb = brotli.compress(b"<html><body>" + b" " * BOMB_BYTES)
            return 200, {**html, "Content-Encoding": "br"}, bomb
        if path == "/big.html":
            return 200, html, b"<html><body>" + b"x" * BIG_BYTES + b"</body></html>"
        return 404, html, b"<h1>not found</h1>"

    # Server -------------------------------------------------------------------------------

    def start(self) -> FixtureSite:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                with site._lock:
                    site.requests.append(SeenRequest("GET", self.path, headers))
                status, extra, body = site.route(self.path, headers)
                try:
                    self.send_response(status)
                    for key, value in extra.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if status != 304:
                        self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            # The default backlog of 5 drops SYNs under 8+ parallel connections; the client's
            # SYN retry (1 s) would then look like a timeout.
            request_queue_size = 128
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # clients hang up on the slow page by design

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


# Crawl runner (subprocess side) ---------------------------------------------------------------


class JsonlSink:
    """An ArchiveSink writing each fetch / failure / commit as one JSON line."""

    def __init__(self, directory: Path) -> None:
        self.fetches = (directory / "fetches.jsonl").open("a", encoding="utf-8")
        self.failures = (directory / "failures.jsonl").open("a", encoding="utf-8")
        self.commits = (directory / "commits.jsonl").open("a", encoding="utf-8")
        self.pending = 0
        self.next_id = 1

    def add(self, fetch: Any) -> None:
        record = {
            "url": fetch.url,
            "canonical_url": fetch.canonical_url,
            "method": fetch.method,
            "status": fetch.status,
            "reason": fetch.reason,
            "protocol": fetch.protocol,
            "kind": fetch.kind,
            "ip_address": fetch.ip_address,
            "fetched_at": fetch.fetched_at.isoformat(),
            "request_headers": fetch.request_headers,
            "response_headers": fetch.response_headers,
            "body": base64.b64encode(fetch.body).decode(),
        }
        self.fetches.write(json.dumps(record) + "\n")
        self.pending += 1

    def record_failure(self, url: str, kind: str, message: str) -> None:
        self.failures.write(json.dumps({"url": url, "kind": kind, "message": message}) + "\n")

    def commit(self) -> list[int]:
        ids = list(range(self.next_id, self.next_id + self.pending))
        self.next_id += self.pending
        self.pending = 0
        for handle in (self.fetches, self.failures):
            handle.flush()
        return ids

    def close(self) -> list[int]:
        ids = self.commit()
        for handle in (self.fetches, self.failures, self.commits):
            handle.close()
        return ids


def _child_main(config_path: str) -> None:
    from dataclasses import asdict

    from crawler.run import run_crawl
    from crawler.sitedef import parse_site
    from newsvault.config import Settings

    config = json.loads(Path(config_path).read_text())
    out = Path(config["out"])
    sink = JsonlSink(out)
    known = config.get("validators", {})

    def validators(url: str) -> tuple[str | None, str | None] | None:
        value = known.get(url)
        return (value[0], value[1]) if value else None

    def on_committed(ids: list[int]) -> None:
        sink.commits.write(json.dumps(ids) + "\n")
        sink.commits.flush()

    stats = run_crawl(
        parse_site(config["site"]),
        settings=Settings(**config.get("settings", {})),
        sink=sink,
        on_committed=on_committed,
        validators=validators if known else None,
        concurrency=config.get("concurrency"),
        delay=config.get("delay"),
        scrapy_overrides=config.get("scrapy", {}),
    )
    sink.close()
    (out / "stats.json").write_text(json.dumps(asdict(stats)))


@dataclass
class CrawlResult:
    stats: dict[str, Any]
    fetches: list[dict[str, Any]]
    failures: list[dict[str, Any]]
    commits: list[list[int]]
    log: str

    def fetched(self, path: str) -> list[dict[str, Any]]:
        return [f for f in self.fetches if f["url"].split("/", 3)[-1] == path.lstrip("/")]

    def body(self, fetch: dict[str, Any]) -> bytes:
        return base64.b64decode(fetch["body"])

    def failure_kinds(self) -> dict[str, str]:
        return {f["url"]: f["kind"] for f in self.failures}


def run_crawl_subprocess(config: dict[str, Any], out: Path, *, timeout: float = 60) -> CrawlResult:
    out.mkdir(parents=True, exist_ok=True)
    config = {**config, "out": str(out)}
    config_path = out / "config.json"
    config_path.write_text(json.dumps(config))
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from tests.crawl_fixtures import _child_main; _child_main(sys.argv[1])",
            str(config_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    log = proc.stdout + proc.stderr
    if proc.returncode != 0 or not (out / "stats.json").exists():
        raise AssertionError(f"crawl failed ({proc.returncode}):\n{log[-6000:]}")

    def lines(name: str) -> list[Any]:
        path = out / name
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    return CrawlResult(
        stats=json.loads((out / "stats.json").read_text()),
        fetches=lines("fetches.jsonl"),
        failures=lines("failures.jsonl"),
        commits=lines("commits.jsonl"),
        log=log,
    )


# A scripted server for politeness tests -------------------------------------------------------

Answer = tuple[int, dict[str, str], bytes]


@dataclass
class Arrival:
    at: float  # time.monotonic() when the request line was read
    path: str
    headers: dict[str, str]


class ScriptedSite:
    """An HTTP/1.1 server on 127.0.0.1 answering from ``routes`` (path -> answer, or a callable
    of the hit number, 1-based), recording the arrival time of every request on the server
    side, so tests can measure spacing as the site sees it. Unknown paths answer 404.
    """

    def __init__(self, routes: dict[str, Answer | Any]) -> None:
        self.routes = routes
        self.arrivals: list[Arrival] = []
        self._hits: dict[str, int] = {}
        self._lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                with site._lock:
                    site.arrivals.append(
                        Arrival(
                            time.monotonic(),
                            self.path,
                            {k.lower(): v for k, v in self.headers.items()},
                        )
                    )
                    hit = site._hits[self.path] = site._hits.get(self.path, 0) + 1
                answer = site.routes.get(self.path, (404, {}, b"not found"))
                status, headers, body = answer(hit) if callable(answer) else answer
                self.send_response(status)
                for key, value in {"Content-Type": "text/html", **headers}.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 128
            daemon_threads = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def paths(self) -> list[str]:
        with self._lock:
            return [a.path for a in self.arrivals]

    def __enter__(self) -> ScriptedSite:
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def links_page(paths: list[str]) -> bytes:
    """A section page linking to ``paths``."""
    links = "".join(f"<a href='{p}'>{p}</a>" for p in paths)
    return f"<html><head><title>s</title></head><body>{links}</body></html>".encode()
