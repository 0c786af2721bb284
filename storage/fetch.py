"""What the crawler hands to the archive: one HTTP exchange as it went over the wire."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# WARC-Target-URI prefixes of a browser capture's resource records, as Browsertrix names its
# own (``urn:<type>:<page URL>``): the rendered DOM, and the full-page screenshot.
DOM_URN = "urn:dom:"
SCREENSHOT_URN = "urn:fullPage:"


@dataclass(frozen=True)
class Rendering:
    """What a browser made of a page, besides the page's own response.

    ``dom`` is the serialized DOM after the page loaded (UTF-8, with a BOM so that no
    ``<meta charset>`` the page declares can make a reader decode it otherwise); it is what
    extraction reads. ``resources`` are the other exchanges the browser had for the page
    (redirect hops of the document, scripts, XHR/fetch, images, CSS, fonts), each archived as
    a request/response pair of its own.
    """

    dom: bytes | None  # None: past the size cap (extraction then reads the raw page)
    screenshot: bytes | None = None  # PNG
    resources: tuple[Fetch, ...] = ()


@dataclass(frozen=True)
class Fetch:
    """One request and its response, bytes as received.

    ``body`` is what came over the wire: still compressed when the server sent a
    ``Content-Encoding``, so the WARC record holds exactly what a browser would have received.
    """

    url: str
    canonical_url: str
    status: int
    response_headers: list[tuple[str, str]]
    body: bytes
    fetched_at: datetime
    method: str = "GET"
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    protocol: str = "HTTP/1.1"
    reason: str = ""
    ip_address: str | None = None
    # What the crawler fetched this as: article | feed | sitemap | section | robots | page,
    # or requisite (a resource a browser loaded for a page)
    kind: str = "page"
    # Set when a browser loaded the page (a site with capture = "browser").
    rendering: Rendering | None = None

    def header(self, name: str) -> str | None:
        """The first response header called ``name`` (case-insensitive), or None."""
        wanted = name.lower()
        for key, value in self.response_headers:
            if key.lower() == wanted:
                return value
        return None
