"""960 and 590: undo Content-Encoding once, size-capped, before the response is archived."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured

from crawler.context import context_of
from crawler.middlewares.common import TooLarge, record_failure

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response

__all__ = ["DecompressionGuardMiddleware", "ReusingHttpCompressionMiddleware"]

# request.meta key: (raw response, decoded response) from the guard at 960 for the 590 step.
_DECODED_META = "_newsvault_decoded"


class DecompressionGuardMiddleware(HttpCompressionMiddleware):
    """Undo Content-Encoding *before* the response is archived, within DOWNLOAD_MAXSIZE.

    Scrapy's HttpCompressionMiddleware (590) refuses a body that grows past the cap while
    decompressing, but it raises IgnoreRequest from ``process_response``: that goes to the
    request's errback, past every ``process_exception``, so nothing was recorded, and the
    archive (950) had already stored the bomb for processing to inflate later. Decoding here,
    above the archive, records it as ``too_large`` and keeps it out of the archive. The
    decoded response is handed down to 590 so bodies are decompressed once.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler=crawler)
        self.crawler = crawler
        self.context = context_of(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("COMPRESSION_ENABLED"):
            raise NotConfigured
        return cls(crawler)

    def process_request(self, request: Request) -> None:  # type: ignore[override]
        return None  # Accept-Encoding is set by the 590 middleware

    def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Response:
        request.meta.pop(_DECODED_META, None)
        if not response.headers.get(b"Content-Encoding"):
            return response
        try:
            # A copy of the headers: Scrapy's middleware edits Content-Encoding in place, and
            # the archive must store the headers as received.
            view = response.replace(headers=response.headers.copy())
            decoded = super().process_response(request, view)
        except IgnoreRequest as exc:
            record_failure(self.crawler, self.context, request, "too_large", str(exc))
            raise TooLarge(str(exc)) from None
        if decoded is not view:
            request.meta[_DECODED_META] = (response, decoded)
        return response


class ReusingHttpCompressionMiddleware(HttpCompressionMiddleware):
    """Scrapy's, taking the body :class:`DecompressionGuardMiddleware` already decoded."""

    def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Request | Response:
        stashed = request.meta.pop(_DECODED_META, None)
        # Identity check: a redirect copies meta into the next request, so a stash may be
        # from another hop.
        if stashed is not None and stashed[0] is response:
            return stashed[1]
        return super().process_response(request, response)
