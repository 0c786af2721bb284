"""What the crawler reads of the configuration, declared here so it imports no front end.

``newsvault.config.Settings`` satisfies :class:`CrawlerConfig` structurally: callers pass
their Settings object and mypy checks the fit at each call site.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

__all__ = ["CrawlerConfig"]


class CrawlerConfig(Protocol):
    @property
    def user_agent(self) -> str:
        """Sent with every request, and the name robots.txt rules are read for."""
        ...

    @property
    def allowed_networks(self) -> Sequence[str]:
        """CIDR networks crawls may reach besides public addresses (SSRF guard)."""
        ...

    @property
    def max_page_bytes(self) -> int:
        """Largest body fetched (after Content-Encoding is undone)."""
        ...

    @property
    def download_timeout(self) -> float:
        """Seconds one request may take."""
        ...

    @property
    def chromium_path(self) -> Path:
        """The chromium that loads the pages of ``capture = "browser"`` sites."""
        ...
