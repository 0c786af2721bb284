"""The bundled demo news site, "The Levant Ledger": what `newsvault demo`, the tests and the
benchmarks crawl. ``content`` builds the pages in memory (pure); ``server`` serves them."""

from __future__ import annotations

from newsvault.sample_site.articles import (
    ARABIC_ARTICLE_PATH,
    EDITED_ARTICLE_PATH,
    REPUBLISHED_ARTICLE_PATH,
    SEED_PATH,
    TRACKED_ARTICLE_PATH,
    Article,
    seed_lines,
)
from newsvault.sample_site.content import EDITIONS, Page, SampleSite, build_site
from newsvault.sample_site.server import (
    PORT_SETTING,
    PortInUseError,
    RequestRecord,
    SampleSiteServer,
)

__all__ = [
    "ARABIC_ARTICLE_PATH",
    "EDITED_ARTICLE_PATH",
    "EDITIONS",
    "PORT_SETTING",
    "REPUBLISHED_ARTICLE_PATH",
    "SEED_PATH",
    "TRACKED_ARTICLE_PATH",
    "Article",
    "Page",
    "PortInUseError",
    "RequestRecord",
    "SampleSite",
    "SampleSiteServer",
    "build_site",
    "seed_lines",
]
