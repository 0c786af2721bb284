"""The one config-driven spider: feeds, sitemaps and section pages -> article pages.

Every response is archived by :class:`crawler.middlewares.archive.ArchiveMiddleware` before
it gets here; the spider only decides what to fetch next. Each canonical URL is requested at most
once per crawl (own seen-set + a fingerprinter on the canonical URL for redirects/duplicates).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from weakref import WeakKeyDictionary

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import HtmlResponse, Request, Response, TextResponse

from crawler.discovery import LinkGraph, jsonld_types, route_by_shape
from crawler.feeds import parse_date, parse_feed, sitemap_entries
from crawler.links import age_cutoff, page_links, pagination_links, too_old
from crawler.middlewares.common import BROWSER_META, BROWSER_RESULT
from crawler.sitedef import SiteDefinition
from vocabulary.canonical import UnsupportedURL, amp_alternate, canonical_from_page, canonicalize
from vocabulary.schema_org import ARTICLE_TYPES

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

# Kinds, as recorded in request.meta["kind"] and in each Fetch.
ARTICLE, FEED, SITEMAP, SECTION, PAGE = "article", "feed", "sitemap", "section", "page"

# Priorities: routes first (they name many articles), then articles, then exploration.
_PRIORITY = {FEED: 30, SITEMAP: 30, ARTICLE: 20, SECTION: 10, PAGE: 0}

_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml")
# request.meta flag: the request URL is canonical already (made by the spider), so the
# fingerprinter and the conditional-request middleware need not canonicalize it again.
CANONICAL_META = "nv_canonical"


class CanonicalRequestFingerprinter:
    """REQUEST_FINGERPRINTER_CLASS: requests differing only in URL spelling are one request."""

    def __init__(self) -> None:
        self._cache: WeakKeyDictionary[Request, bytes] = WeakKeyDictionary()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls()

    def fingerprint(self, request: Request) -> bytes:
        if request not in self._cache:
            try:
                # A redirect copies meta but changes the URL: trust the flag only for the
                # URL the spider made.
                flagged = request.meta.get(CANONICAL_META) and not request.meta.get("redirect_urls")
                url = request.url if flagged else canonicalize(request.url)
            except UnsupportedURL:
                url = request.url
            digest = hashlib.sha1(request.method.encode() + b" " + url.encode())
            digest.update(request.body or b"")
            self._cache[request] = digest.digest()
        return self._cache[request]


class NewsSpider(scrapy.Spider):
    """Crawl one :class:`SiteDefinition`."""

    name = "newsvault"

    def __init__(self, site: SiteDefinition, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.site = site
        self.allowed_domains = list(site.allowed_domains)
        self._allow = site.compiled_allow()
        self._deny = site.compiled_deny()
        self._tracking = tuple(site.tracking_params)
        self._seen: set[str] = set()
        # URLs as linked -> already handled. Pages repeat the same links (related stories,
        # navigation); skipping them before canonicalization is the crawl's hottest path.
        self._linked: set[str] = set()
        # A page's links, computed once (pagination and following both read them).
        self._page_links: WeakKeyDictionary[Response, list[str]] = WeakKeyDictionary()
        self.requested = 0
        self.articles: set[str] = set()
        self.unchanged = 0
        self.max_size = 0
        self.not_before = age_cutoff(site.limits.max_age_days)
        # Without article patterns, a link's kind comes from its shape and the link graph
        # (crawler/discovery.py); links without a telling shape wait in the graph.
        self.by_shape = not self._allow
        self.graph = LinkGraph()
        self.browser = site.capture == "browser"

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.max_size = crawler.settings.getint("DOWNLOAD_MAXSIZE")
        if spider.site.discover:
            crawler.signals.connect(spider._robots_parsed, signal=signals.robots_parsed)
        if spider.by_shape:
            crawler.signals.connect(spider._idle, signal=signals.spider_idle)
        return spider

    # Scheduling ----------------------------------------------------------------------------

    def in_scope(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        return any(host == d or host.endswith("." + d) for d in self.allowed_domains)

    def looks_like_article(self, url: str) -> bool | None:
        """True/False from the site's patterns; None when the site has no allow pattern."""
        if any(p.search(url) for p in self._deny):
            return False
        if self._allow:
            return any(p.search(url) for p in self._allow)
        return None

    def route(self, url: str) -> str | None:
        """The kind a link is fetched as: the site's patterns first, else the URL's shape.

        None: not followed (a pattern says it is no article); "": no telling shape, the
        link graph decides (:meth:`_idle`).
        """
        verdict = self.looks_like_article(url)
        if verdict is not None:
            return ARTICLE if verdict else None
        return route_by_shape(url) or ""

    def make_request(self, url: str, kind: str, *, depth: int = 0, **meta: Any) -> Request | None:
        """A request for ``url`` unless it is out of scope, seen, or past the page limit."""
        if url in self._linked:
            return None
        try:
            canonical = canonicalize(url, extra_tracking_params=self._tracking)
        except UnsupportedURL:
            return None
        if canonical in self._seen or not self.in_scope(canonical):
            self._linked.add(url)
            return None
        if self.requested >= self.site.limits.max_pages:
            return None
        self._seen.add(canonical)
        self._linked.add(url)
        self.requested += 1
        callback = {
            FEED: self.parse_feed,
            SITEMAP: self.parse_sitemap,
            SECTION: self.parse_section,
        }.get(kind, self.parse_page)
        if self.browser and kind in (ARTICLE, PAGE):
            # Pages that may be articles load in the browser; feeds, sitemaps and section
            # pages stay plain fetches (their links are in the HTML on news sites).
            meta[BROWSER_META] = True
        return Request(
            canonical,
            callback=callback,
            errback=self.on_error,
            priority=_PRIORITY.get(kind, 0),
            meta={"kind": kind, "nv_depth": depth, CANONICAL_META: True, **meta},
        )

    def _requests(self, urls: Iterable[str], kind: str, depth: int = 0) -> Iterator[Request]:
        for url in urls:
            request = self.make_request(url, kind, depth=depth)
            if request is not None:
                yield request

    async def start(self) -> AsyncIterator[Any]:
        start = self.site.start
        for request in self._requests(start.feeds, FEED):
            yield request
        for request in self._requests(start.sitemaps, SITEMAP):
            yield request
        for url in start.sections:
            section = self.make_request(url, SECTION, home=self.site.discover)
            if section is not None:
                yield section
        # Re-crawls (tasks/reconcile.py) name known articles directly.
        for request in self._requests(start.articles, ARTICLE):
            yield request
        if self.site.discover:
            roots = {f"{urlsplit(u).scheme}://{urlsplit(u).netloc}/" for u in start.sections}
            for root in sorted(roots):
                for request in self._requests([root + "sitemap.xml"], SITEMAP):
                    yield request

    def _robots_parsed(self, robotparser: Any, request: Request, **kwargs: Any) -> None:
        # Zero-config discovery: sitemaps named in robots.txt (Protego keeps them).
        parsed = getattr(robotparser, "rp", None)
        sitemaps = list(getattr(parsed, "sitemaps", []) or [])
        engine = self.crawler.engine
        for url in sitemaps:
            new = self.make_request(url, SITEMAP)
            if new is not None and engine is not None:
                engine.crawl(new)

    def _idle(self) -> None:
        """The crawl ran out of work: decide the links waiting in the graph, fetch them."""
        engine = self.crawler.engine
        if not len(self.graph) or engine is None:
            return
        scheduled = False
        for url, route, depth in self.graph.drain():
            kind = ARTICLE if route == "article" else PAGE
            if kind == PAGE and depth > self.site.limits.max_depth:
                continue
            request = self.make_request(url, kind, depth=depth)
            if request is not None:
                engine.crawl(request)
                scheduled = True
        if scheduled:
            raise DontCloseSpider

    def on_error(self, failure: Any) -> None:
        # The failure itself is recorded by FetchFailureMiddleware; keep the log short.
        logger.info("fetch failed: %s (%s)", failure.request.url, failure.value)

    # Callbacks ------------------------------------------------------------------------------

    def _unchanged(self, response: Response) -> bool:
        if response.status == 304:
            self.unchanged += 1
            return True
        return False

    def parse_feed(self, response: Response) -> Iterator[Request]:
        if self._unchanged(response):
            return
        depth = response.meta.get("nv_depth", 0) + 1
        for link, date in parse_feed(response.body):
            if (
                too_old(date, self.not_before)
                or self.looks_like_article(response.urljoin(link)) is False
            ):
                continue
            request = self.make_request(response.urljoin(link), ARTICLE, depth=depth)
            if request is not None:
                yield request

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        if self._unchanged(response):
            return
        try:
            kind, entries = sitemap_entries(response.body, self.max_size)
        except OSError as exc:  # bad gzip, or past the size cap once unpacked
            logger.warning("unreadable sitemap %s: %s", response.url, exc)
            return
        depth = response.meta.get("nv_depth", 0) + 1
        for entry in entries:
            loc = response.urljoin(entry.get("loc", ""))
            date = parse_date(entry.get("publication_date") or entry.get("lastmod"))
            if too_old(date, self.not_before):
                continue
            request: Request | None
            if kind == "sitemapindex":
                request = self.make_request(loc, SITEMAP, depth=depth)
            elif self.looks_like_article(loc) is False:
                continue
            else:
                listing = self.by_shape and route_by_shape(loc) == SECTION
                request = self.make_request(loc, SECTION if listing else ARTICLE, depth=depth)
            if request is not None:
                yield request

    def parse_section(self, response: Response) -> Iterator[Request]:
        if self._unchanged(response) or not isinstance(response, TextResponse):
            return
        depth = response.meta.get("nv_depth", 0)
        if response.meta.get("home"):
            yield from self._discover_feeds(response)
        self._note_canonical(response)
        self.graph.page_parsed()
        # A listing page is an article only when a site pattern says so: sloppy sites put
        # og:type=article and NewsArticle JSON-LD on author, tag and section pages too.
        if self.looks_like_article(response.url):
            self.articles.add(canonicalize(response.url))
        yield from self._follow(response, depth, from_section=True)

    def parse_page(self, response: Response) -> Iterator[Request]:
        if self._unchanged(response) or not isinstance(response, TextResponse):
            return
        content_type = response.headers.get(b"Content-Type") or b"text/html"
        if not content_type.lower().startswith((b"text/html", b"application/xhtml")):
            return
        # A page the browser loaded is read as it rendered: links its scripts built count.
        response = _rendered(response) or response
        depth = response.meta.get("nv_depth", 0)
        regular = self._note_canonical(response)
        if regular is not None:
            yield regular
        self.graph.page_parsed()
        if response.meta.get("kind") == ARTICLE or self._is_article(response):
            self.articles.add(canonicalize(response.url))
        yield from self._follow(response, depth, from_section=False)

    # Page analysis --------------------------------------------------------------------------

    def _is_article(self, response: TextResponse) -> bool:
        by_pattern = self.looks_like_article(response.url)
        if by_pattern is not None:
            return by_pattern
        if self.by_shape and route_by_shape(response.url) == SECTION:
            return False  # a listing's markup is not evidence enough
        og_type = response.xpath('//meta[@property="og:type"]/@content').get("")
        if og_type.strip().lower() == "article":
            return True
        blocks = response.xpath('//script[@type="application/ld+json"]/text()').getall()
        return bool(jsonld_types(blocks) & ARTICLE_TYPES)

    def _note_canonical(self, response: TextResponse) -> Request | None:
        """Apply the page's rel=canonical / rel=amphtml; the regular version of an AMP page.

        A page declaring another canonical URL is that URL's content: mark it seen so it is
        not fetched again. An AMP page's canonical is its regular article, which is fetched
        (once). AMP alternatives of regular pages are never fetched.
        """
        links = [
            (link.attrib.get("rel", ""), link.attrib.get("href", ""))
            for link in response.xpath("//head/link[@rel][@href]")
        ]
        if not links:
            return None
        own = canonicalize(response.url, extra_tracking_params=self._tracking)
        declared = canonical_from_page(response.url, links, extra_tracking_params=self._tracking)
        amp = amp_alternate(response.url, links)
        if amp is not None and amp != own:
            self._seen.add(amp)
        if declared == own:
            return None
        html = response.xpath("/html")
        is_amp = bool(html) and any(name in ("amp", "\u26a1") for name in html[0].root.attrib)
        if is_amp:
            return self.make_request(declared, ARTICLE, depth=response.meta.get("nv_depth", 0))
        if self.in_scope(declared):
            self._seen.add(declared)
        return None

    def _discover_feeds(self, response: TextResponse) -> Iterator[Request]:
        for link in response.xpath('//head/link[@rel="alternate"][@href][@type]'):
            if link.attrib.get("type", "").lower().split(";")[0].strip() in _FEED_TYPES:
                request = self.make_request(response.urljoin(link.attrib["href"]), FEED)
                if request is not None:
                    yield request

    def _links(self, response: TextResponse) -> list[str]:
        """:func:`crawler.links.page_links`, computed once per page."""
        cached = self._page_links.get(response)
        if cached is None:
            cached = self._page_links[response] = page_links(response)
        return cached

    def _follow(
        self, response: TextResponse, depth: int, *, from_section: bool
    ) -> Iterator[Request]:
        max_depth = self.site.limits.max_depth
        next_depth = depth + 1
        pagination = pagination_links(response, self._links(response)) if from_section else set()
        if next_depth <= max_depth:
            for url in sorted(pagination):
                request = self.make_request(url, SECTION, depth=next_depth)
                if request is not None:
                    yield request
        # An article may sit one step past the depth limit; exploration may not.
        limit = {ARTICLE: max_depth + 1, "": max_depth + 1, SECTION: max_depth, PAGE: max_depth}
        for url in self._links(response):
            if url in pagination or url in self._linked:
                continue
            kind = self.route(url)
            if kind is None or next_depth > limit[kind]:
                continue
            if kind == "":
                self.graph.offer(url, next_depth, from_listing=from_section)
                continue
            request = self.make_request(url, kind, depth=next_depth)
            if request is not None:
                yield request


def _rendered(response: TextResponse) -> TextResponse | None:
    """The browser's rendered DOM of ``response`` as a response of its own, if it has one."""
    request = response.request
    captured = request.meta.get(BROWSER_RESULT) if request is not None else None
    rendering = getattr(captured, "rendering", None)
    if rendering is None or rendering.dom is None:
        return None
    return HtmlResponse(url=response.url, body=rendering.dom, encoding="utf-8", request=request)
