"""570: conditional re-fetches (If-None-Match / If-Modified-Since) from the archive."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.exceptions import NotConfigured

from crawler.context import CrawlContext, require_context
from crawler.middlewares.common import BROWSER_META, request_kind
from vocabulary.canonical import UnsupportedURL, canonicalize

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.http import Request

__all__ = ["ConditionalRequestMiddleware"]


class ConditionalRequestMiddleware:
    """Re-crawls ask "changed since the last capture?"; a 304 is archived as a revisit.

    Only pages that may be articles are asked: feeds, sitemaps and section pages are fetched
    whole every time, because a 304 there would leave the spider with no links to follow.
    """

    conditional_kinds = frozenset({"article", "page"})

    def __init__(self, context: CrawlContext) -> None:
        if context.validators is None:
            raise NotConfigured("no validators")
        self.validators = context.validators

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(require_context(crawler))

    def process_request(self, request: Request) -> None:
        if request.method != "GET" or request_kind(request) not in self.conditional_kinds:
            return
        if request.meta.get(BROWSER_META):
            # A browser page's shell is often unchanged while the article its scripts fetch
            # is not: it is loaded whole every time (and the browser sends no validators).
            return
        if b"If-None-Match" in request.headers or b"If-Modified-Since" in request.headers:
            return
        try:
            # The spider's requests are canonical already (not after a redirect).
            made = request.meta.get("nv_canonical") and not request.meta.get("redirect_urls")
            canonical = request.url if made else canonicalize(request.url)
            known = self.validators(canonical)
        except UnsupportedURL:
            return
        if not known:
            return
        etag, last_modified = known
        if etag:
            request.headers[b"If-None-Match"] = etag
        if last_modified:
            request.headers[b"If-Modified-Since"] = last_modified
        if etag or last_modified:
            allowed = list(request.meta.get("handle_httpstatus_list", []))
            if 304 not in allowed:
                request.meta["handle_httpstatus_list"] = [*allowed, 304]
