"""The report of ``newsvault sites validate``: what probing a site's start points found,
as JSON (:func:`report_dict`) or as a table on the terminal (:func:`print_report`)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from newsvault.cli_text import styled

if TYPE_CHECKING:
    from crawler.probe import SiteReport


def report_dict(report: SiteReport) -> dict[str, Any]:
    """The report as JSON: ``sites validate --format json``."""
    return {
        "site": report.name,
        "ok": report.ok,
        "start_points": [
            {
                "kind": p.kind,
                "url": p.url,
                "ok": p.ok,
                "status": p.status,
                "error": p.error,
                "items": p.items,
                "newest": p.newest.isoformat() if p.newest else None,
                "child_sitemaps": p.child_sitemaps,
                "pagination_links": p.pages,
                "samples": p.samples,
            }
            for p in report.start_points
        ],
        "sample_articles": report.samples,
    }


def _found(kind: str, items: int, children: int, pages: int) -> str:
    if kind == "feed":
        return f"{items:,} items"
    if kind == "sitemap":
        index = f" (index of {children} sitemaps)" if children else ""
        return f"{items:,} entries{index}"
    return f"{items:,} links, {pages} pagination"


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def print_report(console: Console, report: SiteReport) -> None:
    """The report as a table of start points, sample URLs and a verdict."""
    table = Table(title=f"Start points of {report.name}", title_justify="left")
    for column in ("", "kind", "URL", "HTTP", "found", "newest"):
        table.add_column(column, overflow="fold")
    for p in report.start_points:
        mark = Text("ok", style="green") if p.ok else Text("FAIL", style="red")
        found = Text(_found(p.kind, p.items, p.child_sitemaps, p.pages))
        if p.error:
            error = Text(p.error, style="red")
            found = error if not p.items else Text.assemble(found, "; ", error)
        table.add_row(mark, p.kind, p.url, str(p.status or "-"), found, _when(p.newest))
    console.print(table)
    if report.samples:
        console.print("Sample article URLs:")
        for url in report.samples[:10]:
            console.print(f"  {url}", highlight=False, soft_wrap=True)
    if report.ok:
        console.print(
            styled(
                "[green]Looks good.[/] Crawl it: [cyan]newsvault crawl {name}[/]",
                name=report.name,
                highlight=True,
            )
        )
    else:
        failed = sum(not p.ok for p in report.start_points)
        console.print(
            styled(
                "[red]{failed} start point(s) found nothing or failed.[/]",
                failed=failed,
                highlight=True,
            )
        )
