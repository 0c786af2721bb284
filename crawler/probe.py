"""Probe a site definition: fetch each start point once and report what a crawl would find.

``newsvault sites validate`` uses this before a site is crawled for real. It fetches with the
standard library (no reactor: the CLI stays a plain process) under the crawl's own rules:

* the same SSRF policy as the crawler (:class:`crawler.ssrf.NetworkPolicy`), checked on the
  address actually connected to, for every redirect hop;
* robots.txt as the crawler reads it (:func:`crawler.robots_policy.robots_decision`);
* the spider's own parsers (feeds, sitemaps, section links), so the report matches a crawl.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urljoin, urlsplit

from protego import Protego
from scrapy.http import HtmlResponse

from crawler.feeds import parse_date, parse_feed, sitemap_entries
from crawler.links import age_cutoff, page_links, pagination_links, too_old
from crawler.robots_policy import RobotsAction, RobotsDecision, robots_decision
from crawler.sitedef import SiteDefinition
from crawler.spider import NewsSpider
from crawler.ssrf import NetworkPolicy, check_literal_host
from vocabulary.canonical import UnsupportedURL, canonicalize

__all__ = [
    "ProbeError",
    "ProbeFetch",
    "ProbeRefused",
    "SiteReport",
    "StartPointReport",
    "probe_site",
]

MAX_REDIRECTS = 5
MAX_CHILD_SITEMAPS = 3  # of a sitemap index: enough to show entries without a crawl
SAMPLES = 5


class ProbeError(Exception):
    """A start point could not be fetched; the message says why (SSRF, robots, network...)."""


class ProbeRefused(ProbeError):
    """The network policy refuses the address (nothing was sent)."""


@dataclass(frozen=True)
class ProbeFetch:
    url: str  # after redirects
    status: int
    content_type: str
    body: bytes  # Content-Encoding undone (size-capped)


@dataclass
class StartPointReport:
    kind: str  # feed | sitemap | section
    url: str
    status: int | None = None
    error: str | None = None
    items: int = 0  # feed items, sitemap entries, or article links on a section page
    newest: datetime | None = None  # newest feed date / sitemap lastmod
    child_sitemaps: int = 0  # of a sitemap index
    pages: int = 0  # pagination links on a section page
    samples: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None and self.items > 0


@dataclass
class SiteReport:
    name: str
    start_points: list[StartPointReport]

    @property
    def ok(self) -> bool:
        """Every start point answered, and each found something."""
        return bool(self.start_points) and all(p.ok for p in self.start_points)

    @property
    def samples(self) -> list[str]:
        seen: dict[str, None] = {}
        for point in self.start_points:
            seen.update(dict.fromkeys(point.samples))
        return list(seen)


# Fetching -------------------------------------------------------------------------------------


def _connect(host: str, port: int, policy: NetworkPolicy, timeout: float) -> socket.socket:
    """A TCP connection to the first address of ``host`` the policy allows (checked here, on
    the very address connected to, so a changing DNS answer cannot get around it)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ProbeError(f"{host}: DNS lookup failed ({exc.strerror})") from None
    refusals = []
    for family, kind, proto, _, address in infos:
        reason = policy.refusal(str(address[0]))
        if reason is not None:
            refusals.append(reason)
            continue
        sock = socket.socket(family, kind, proto)
        sock.settimeout(timeout)
        try:
            sock.connect(address)
        except OSError as exc:
            sock.close()
            raise ProbeError(f"{host}:{port}: cannot connect ({exc})") from None
        return sock
    if refusals:
        raise ProbeRefused(f"{host} resolves to {refusals[0]}")
    raise ProbeError(f"{host}: no address")


class _GuardedHTTP(http.client.HTTPConnection):
    policy: NetworkPolicy

    def connect(self) -> None:
        self.sock = _connect(self.host, self.port, self.policy, self.timeout or 30.0)


class _GuardedHTTPS(http.client.HTTPSConnection):
    policy: NetworkPolicy

    def connect(self) -> None:
        raw = _connect(self.host, self.port, self.policy, self.timeout or 30.0)
        self.sock = ssl.create_default_context().wrap_socket(raw, server_hostname=self.host)


def _decode(body: bytes, encoding: str, max_bytes: int) -> bytes:
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "x-gzip", "deflate"):
        return body  # br/zstd: the parsers below see bytes they cannot read; reported as empty
    wbits = zlib.MAX_WBITS | 32 if encoding != "deflate" else zlib.MAX_WBITS
    decoder = zlib.decompressobj(wbits)
    out = decoder.decompress(body, max_bytes + 1)
    if len(out) > max_bytes:
        raise ProbeError(f"body over {max_bytes} bytes once decompressed")
    return out


class Fetcher:
    """One-shot GETs under the crawl's network policy, user agent and size cap."""

    def __init__(
        self, policy: NetworkPolicy, *, user_agent: str, timeout: float, max_bytes: int
    ) -> None:
        self.policy = policy
        self.user_agent = user_agent
        self.timeout = timeout
        self.max_bytes = max_bytes

    def get(self, url: str) -> ProbeFetch:
        for _ in range(MAX_REDIRECTS + 1):
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https"):
                raise ProbeRefused(f"scheme {parts.scheme}: is not crawled")
            host = parts.hostname or ""
            reason = check_literal_host(host, self.policy)
            if reason is not None:
                raise ProbeRefused(reason)
            cls = _GuardedHTTPS if parts.scheme == "https" else _GuardedHTTP
            conn = cls(host, parts.port, timeout=self.timeout)
            conn.policy = self.policy
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            try:
                conn.request(
                    "GET",
                    path,
                    headers={"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate"},
                )
                response = conn.getresponse()
                raw = response.read(self.max_bytes + 1)
            except ProbeError:
                raise
            except (OSError, http.client.HTTPException) as exc:
                raise ProbeError(f"{url}: {type(exc).__name__}: {exc}") from None
            finally:
                conn.close()
            if len(raw) > self.max_bytes:
                raise ProbeError(f"{url}: body over {self.max_bytes} bytes")
            location = response.getheader("Location")
            if response.status in (301, 302, 303, 307, 308) and location:
                url = urljoin(url, location)
                continue
            body = _decode(raw, response.getheader("Content-Encoding") or "", self.max_bytes)
            return ProbeFetch(url, response.status, response.getheader("Content-Type") or "", body)
        raise ProbeError(f"{url}: more than {MAX_REDIRECTS} redirects")


# Robots ---------------------------------------------------------------------------------------


def _would_disallow(decision: RobotsDecision) -> str:
    return f"robots.txt {decision.reason}: the crawl would disallow the host"


class RobotsCache:
    """robots.txt per origin, with the crawler's RFC 9309 reading of failures."""

    def __init__(self, fetcher: Fetcher) -> None:
        self.fetcher = fetcher
        self.rules: dict[str, Protego | str] = {}  # origin -> parser, or why all is disallowed

    def refusal(self, url: str) -> str | None:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self.rules:
            self.rules[origin] = self._load(origin)
        rules = self.rules[origin]
        if isinstance(rules, str):
            return rules
        if not rules.can_fetch(url, self.fetcher.user_agent):
            return "robots.txt disallows it"
        return None

    def _load(self, origin: str) -> Protego | str:
        try:
            fetch = self.fetcher.get(origin + "/robots.txt")
        except ProbeRefused as exc:  # the host itself may not be reached: say that
            return str(exc)
        except ProbeError as exc:
            return _would_disallow(robots_decision(exc))
        decision = robots_decision(fetch.status)
        if decision.action is RobotsAction.DISALLOW_ALL:
            return _would_disallow(decision)
        if decision.action is RobotsAction.ALLOW_ALL:
            return Protego.parse("")
        return Protego.parse(fetch.body.decode("utf-8", "replace"))


# Start points ---------------------------------------------------------------------------------


def _newest(dates: Iterable[datetime | None]) -> datetime | None:
    known = [d for d in dates if d is not None]
    return max(known) if known else None


class SiteProber:
    def __init__(self, site: SiteDefinition, fetcher: Fetcher) -> None:
        self.site = site
        self.fetcher = fetcher
        self.robots = RobotsCache(fetcher)
        # The spider's scope and pattern rules, without a crawler (pure methods only).
        self.spider = NewsSpider(site)
        self.not_before = age_cutoff(site.limits.max_age_days)

    def _fetch(self, point: StartPointReport, url: str) -> ProbeFetch | None:
        why = self.robots.refusal(url)
        if why is not None:
            point.error = why
            return None
        try:
            fetch = self.fetcher.get(url)
        except ProbeError as exc:
            point.error = str(exc)
            return None
        if point.status is None:
            point.status = fetch.status
        if fetch.status >= 400:
            point.error = f"answered HTTP {fetch.status}"
            return None
        return fetch

    def _keep(self, point: StartPointReport, url: str, date: datetime | None = None) -> bool:
        """Count ``url`` if the crawl would follow it (in scope, not denied, not too old, allowed
        by robots.txt); keep the first few as samples."""
        try:
            canonical = canonicalize(url, extra_tracking_params=self.site.tracking_params)
        except UnsupportedURL:
            return False
        spider = self.spider
        if not spider.in_scope(canonical) or spider.looks_like_article(canonical) is False:
            return False
        if too_old(date, self.not_before) or self.robots.refusal(canonical) is not None:
            return False
        if len(point.samples) < SAMPLES and canonical not in point.samples:
            point.samples.append(canonical)
        return True

    def feed(self, url: str) -> StartPointReport:
        point = StartPointReport("feed", url)
        fetch = self._fetch(point, url)
        if fetch is None:
            return point
        entries = parse_feed(fetch.body)
        point.items = sum(self._keep(point, urljoin(fetch.url, u), d) for u, d in entries)
        point.newest = _newest(date for _, date in entries)
        if not entries:
            point.error = "no feed items (not RSS, Atom or RDF, or empty)"
        elif not point.items:
            point.error = (
                f"{len(entries)} items, none the crawl would follow "
                "(scope, patterns, age, robots.txt)"
            )
        return point

    def sitemap(self, url: str) -> StartPointReport:
        point = StartPointReport("sitemap", url)
        fetch = self._fetch(point, url)
        if fetch is None:
            return point
        try:
            kind, entries = sitemap_entries(fetch.body, self.fetcher.max_bytes)
        except OSError as exc:
            point.error = f"unreadable sitemap ({exc})"
            return point
        dates: list[datetime | None] = []
        if kind == "sitemapindex":
            point.child_sitemaps = len(entries)
            for entry in entries[:MAX_CHILD_SITEMAPS]:
                child = self._fetch(point, urljoin(fetch.url, entry.get("loc", "")))
                if child is None:
                    return point
                try:
                    entries_of_child = sitemap_entries(child.body, self.fetcher.max_bytes)[1]
                except OSError as exc:
                    point.error = f"unreadable child sitemap {child.url} ({exc})"
                    return point
                dates += self._urls(point, child.url, entries_of_child)
        elif kind == "urlset":
            dates += self._urls(point, fetch.url, entries)
        else:
            point.error = "not a sitemap (no <urlset> or <sitemapindex>)"
            return point
        point.newest = _newest(dates)
        if not point.items and point.error is None:
            point.error = "no entries the crawl would follow (scope, patterns, age, robots.txt)"
        return point

    def _urls(
        self, point: StartPointReport, base: str, entries: list[dict[str, str]]
    ) -> list[datetime | None]:
        dates = []
        for entry in entries:
            date = parse_date(entry.get("publication_date") or entry.get("lastmod"))
            if self._keep(point, urljoin(base, entry.get("loc", "")), date):
                point.items += 1
                dates.append(date)
        return dates

    def section(self, url: str) -> StartPointReport:
        point = StartPointReport("section", url)
        fetch = self._fetch(point, url)
        if fetch is None:
            return point
        response = HtmlResponse(
            url=fetch.url, body=fetch.body, headers={"Content-Type": fetch.content_type}
        )
        found = page_links(response)
        pagination = pagination_links(response, found)
        point.pages = len(pagination)
        links = dict.fromkeys(u for u in found if u not in pagination)
        point.items = sum(self._keep(point, link) for link in links)
        if not point.items:
            point.error = "no links the crawl would follow"
        return point


def probe_site(
    site: SiteDefinition,
    *,
    allowed_networks: Iterable[str] = (),
    user_agent: str,
    timeout: float = 20.0,
    max_bytes: int = 10 * 1024 * 1024,
) -> SiteReport:
    """Fetch every start point of ``site`` once (plus robots.txt) and report what it holds."""
    policy = NetworkPolicy([*allowed_networks, *site.allowed_networks])
    fetcher = Fetcher(
        policy, user_agent=site.user_agent or user_agent, timeout=timeout, max_bytes=max_bytes
    )
    prober = SiteProber(site, fetcher)
    points = [prober.feed(u) for u in site.start.feeds]
    points += [prober.sitemap(u) for u in site.start.sitemaps]
    points += [prober.section(u) for u in site.start.sections]
    return SiteReport(site.name, points)
