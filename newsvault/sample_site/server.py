"""A small threaded HTTP server for the sample site: conditional GET, gzip on request,
a 404 page, a runtime switch between editions, and an in-memory request log for tests.

Quiet by design: no request lines or tracebacks on stderr (``.requests`` keeps the log).
"""

from __future__ import annotations

import errno
import gzip
import socketserver
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from email.utils import parsedate_to_datetime
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

from newsvault.sample_site.content import Page, SampleSite, build_site

PORT_SETTING = "NEWSVAULT_SAMPLE_SITE_PORT"


class PortInUseError(RuntimeError):
    """The port the sample site should listen on is taken."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(
            f"port {port} on {host} is already in use: stop whatever listens there, "
            f"or choose another port with {PORT_SETTING}=<port>"
        )
        self.host = host
        self.port = port


@dataclass(frozen=True)
class RequestRecord:
    """One request the server answered."""

    method: str
    path: str
    headers: dict[str, str]
    time: datetime
    status: int


@dataclass(frozen=True)
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


# Content negotiation and validators (pure) -----------------------------------------------


def accepts_gzip(accept_encoding: str | None) -> bool:
    """True when the Accept-Encoding header allows gzip (and does not refuse it with q=0)."""
    for part in (accept_encoding or "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "x-gzip", "*"):
            return params.replace(" ", "").lower() not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


@lru_cache(maxsize=512)
def gzipped(body: bytes) -> bytes:
    # mtime=0 keeps the compressed bytes identical on every run and every request.
    return gzip.compress(body, compresslevel=6, mtime=0)


def _gzip_etag(etag: str) -> str:
    # A different representation needs a different strong validator (RFC 9110 8.8.3).
    return etag[:-1] + '-gzip"' if etag.endswith('"') else etag + "-gzip"


def is_not_modified(page: Page, request_headers: Message) -> bool:
    """Conditional GET: If-None-Match wins over If-Modified-Since, as RFC 9110 says."""
    if page.status != 200:
        return False
    if_none_match = request_headers.get("If-None-Match")
    if if_none_match is not None:
        return _etag_matches(page, if_none_match)
    if_modified_since = request_headers.get("If-Modified-Since")
    if if_modified_since and page.last_modified is not None:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False  # an unparsable date is ignored, not an error
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return page.last_modified <= since
    return False


def _etag_matches(page: Page, header: str) -> bool:
    if page.etag is None:
        return False
    ours = {page.etag, _gzip_etag(page.etag)}
    for candidate in header.split(","):
        tag = candidate.strip().removeprefix("W/")
        if tag == "*" or tag in ours:
            return True
    return False


def respond(page: Page, request_headers: Message) -> Response:
    """The response to a GET of ``page``: 304, gzip-encoded, or plain."""
    use_gzip = accepts_gzip(request_headers.get("Accept-Encoding"))
    headers = [("Content-Type", page.content_type), ("Vary", "Accept-Encoding")]
    validators = dict(page.headers)
    if use_gzip and page.etag:
        validators["ETag"] = _gzip_etag(page.etag)
    headers.extend(validators.items())
    if is_not_modified(page, request_headers):
        # No Content-Type on a 304: it describes no body.
        return Response(304, headers[1:], b"")
    body = page.body
    if use_gzip:
        body = gzipped(body)
        headers.append(("Content-Encoding", "gzip"))
    headers.append(("Content-Length", str(len(body))))
    return Response(page.status, headers, body)


# The server ------------------------------------------------------------------------------


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    owner: SampleSiteServer

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), a reverse DNS lookup that can
        # stall for seconds on machines without DNS; the name is not needed here.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that hang up mid-response are normal for crawlers; stay quiet.
        return


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "LevantLedger/1.0"
    sys_version = ""
    timeout = 30  # an idle keep-alive connection does not hold a thread forever

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def _serve(self, *, send_body: bool) -> None:
        site = self.server.owner.site
        target = self.path
        if target.startswith(("http://", "https://")):  # absolute-form request target
            parts = urlsplit(target)
            target = parts.path + (f"?{parts.query}" if parts.query else "")
        page = site.lookup(target) or site.not_found
        response = respond(page, self.headers)
        # Recorded before answering: a client that has its answer finds its request logged.
        self.server.owner._record(self.command, self.path, self.headers, response.status)
        try:
            self.send_response(response.status)
            for name, value in response.headers:
                self.send_header(name, value)
            self.end_headers()
            if send_body:
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        return  # requests are logged in memory (SampleSiteServer.requests), not on stderr


class SampleSiteServer:
    """The sample site over HTTP on ``host``:``port`` (0: a free port), in a background thread.

    Usage::

        with SampleSiteServer() as server:
            urllib.request.urlopen(server.url + "/feed.xml")
            server.set_edition(2)
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, edition: int = 1) -> None:
        self._httpd = _bind(host, port)
        self._httpd.owner = self
        self.host = host
        self.port: int = self._httpd.server_port
        self.requests: list[RequestRecord] = []
        self._lock = threading.Lock()
        self._sites: dict[int, SampleSite] = {}
        self._site = self._edition_site(edition)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL, with the real port, without a trailing slash."""
        return f"http://{self.host}:{self.port}"

    @property
    def site(self) -> SampleSite:
        """The site currently served."""
        return self._site

    @property
    def edition(self) -> int:
        return self._site.edition

    def set_edition(self, edition: int) -> None:
        """Serve another edition from the next request on."""
        site = self._edition_site(edition)
        with self._lock:
            self._site = site

    def _edition_site(self, edition: int) -> SampleSite:
        if edition not in self._sites:
            self._sites[edition] = build_site(self.url, edition=edition)
        return self._sites[edition]

    def start(self) -> Self:
        """Serve in a daemon thread; returns self."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.1},
                name=f"sample-site-{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (the standalone command)."""
        try:
            self._httpd.serve_forever(poll_interval=0.2)
        finally:
            self._httpd.server_close()

    def stop(self) -> None:
        """Stop serving and free the port."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _record(self, method: str, path: str, headers: Message, status: int) -> None:
        record = RequestRecord(
            method=method,
            path=path,
            headers=dict(headers.items()),
            time=datetime.now(UTC),
            status=status,
        )
        with self._lock:
            self.requests.append(record)


def _bind(host: str, port: int) -> _HTTPServer:
    try:
        return _HTTPServer((host, port), _Handler)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise PortInUseError(host, port) from None
        raise
