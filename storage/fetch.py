"""What the crawler hands to the archive: one HTTP exchange as it went over the wire."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


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
    # What the crawler fetched this as: article | feed | sitemap | section | robots | page
    kind: str = "page"

    def header(self, name: str) -> str | None:
        """The first response header called ``name`` (case-insensitive), or None."""
        wanted = name.lower()
        for key, value in self.response_headers:
            if key.lower() == wanted:
                return value
        return None
