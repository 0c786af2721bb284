"""``newsvault demo``: the whole flow against the bundled sample site, nothing else running.

The sample site is served from this process on a fixed port (so its URLs, and therefore the
archive's, are the same on every run) while the crawler runs in its own process.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console

from newsvault.cli_text import styled
from newsvault.config import Settings
from newsvault.services import sites
from newsvault.services.crawls import create_job, run_job_here
from newsvault.summary import JobSummary, summarize_job
from storage.db import session_scope

SITE_NAME = "sample"


class DemoError(Exception):
    """The demo cannot start (port taken, ...); the message says how to fix it."""


def sample_site_definition(base_url: str) -> dict[str, Any]:
    """The site definition of the bundled site, as ops would write it in a TOML file."""
    return {
        "name": SITE_NAME,
        "start": {
            "feeds": [f"{base_url}/feed.xml"],
            "sitemaps": [f"{base_url}/sitemap.xml"],
            "sections": [f"{base_url}/"],
        },
        "allowed_domains": ["127.0.0.1"],
        # The demo crawls a site on this machine; crawls are refused private addresses otherwise.
        "allowed_networks": ["127.0.0.1/32"],
        "politeness": {"delay": 0.0, "concurrency": 4},
    }


def register_site(settings: Settings, definition: dict[str, Any]) -> None:
    """Add or replace the sample site, as `newsvault sites add --replace` would."""
    site = sites.parse_definition(definition, source="the sample site's definition")
    sites.save_site(settings, site, replace=True)


def run_demo(settings: Settings, *, port: int | None, console: Console) -> JobSummary:
    from newsvault.output import crawl_progress
    from newsvault.sample_site import PortInUseError, SampleSiteServer

    try:
        server = SampleSiteServer(port=port or settings.sample_site_port)
    except PortInUseError as exc:
        raise DemoError(str(exc)) from None
    with server:
        console.print(
            styled("Serving the sample news site at [cyan]{url}[/]", url=server.url, highlight=True)
        )
        register_site(settings, sample_site_definition(server.url))
        job_id = create_job(settings, SITE_NAME)
        with crawl_progress(console, server.url) as report:
            run_job_here(settings, job_id, on_progress=report)
    with session_scope(settings.index_url) as session:
        return summarize_job(session, job_id)
