"""How the command line shows things: rich tables for people, plain dicts for ``--format json``.

Page text (titles, paragraphs, URLs, error messages quoting them) goes to the console as plain
strings or ``Text``, never as markup; our own styles are built with :func:`styled`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsvault.cli_text import styled
from storage.models import Article, Capture, Version

if TYPE_CHECKING:
    from newsvault.config import Settings
    from newsvault.services.crawls import JobProgress
    from newsvault.summary import JobSummary
    from processing.extract import ExtractedArticle
    from storage.retrieval import ArticleSummary


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


# Articles and versions ---------------------------------------------------------------------


def article_dict(article: ArticleSummary) -> dict[str, Any]:
    return {
        "url": article.url,
        "title": article.title,
        "language": article.language,
        "versions": article.versions,
        "first_seen": _iso(article.first_seen),
        "last_seen": _iso(article.last_seen),
        "cluster": article.cluster_id,
    }


def article_table(console: Console, found: list[ArticleSummary]) -> None:
    if not found:
        hint = styled("No articles archived yet. Try [bold]newsvault demo[/].", highlight=True)
        console.print(hint)
        return
    table = Table(title=f"{len(found)} archived articles", show_lines=False)
    table.add_column("versions", justify="right")
    table.add_column("lang")
    table.add_column("title", overflow="fold")
    table.add_column("url", overflow="fold", style="cyan")
    for article in found:
        table.add_row(
            str(article.versions), article.language or "?", article.title or "", article.url
        )
    console.print(table)


def version_dict(article: Article, version: Version) -> dict[str, Any]:
    return {
        "url": article.canonical_url,
        "title": version.title,
        "lead": (version.meta or {}).get("lead"),
        "text": version.text,
        "language": version.language,
        "authors": version.authors,
        "published": _iso(version.published),
        "published_raw": version.published_raw,
        "modified": _iso(version.modified),
        "captured_at": _iso(version.captured_at),
        "version": version.number,
        "versions": article.version_count,
        "words_added": version.words_added,
        "words_removed": version.words_removed,
    }


def extracted_dict(extracted: ExtractedArticle, clean: Callable[[str], str]) -> dict[str, Any]:
    return {
        "article": True,
        "title": clean(extracted.title),
        "lead": clean(extracted.lead) if extracted.lead else None,  # the standfirst
        "text": clean(extracted.text),
        "language": extracted.language,
        "authors": list(extracted.authors),
        "published": _iso(extracted.published),
        "published_raw": extracted.published_raw,
        "modified": _iso(extracted.modified),
        "canonical_url": extracted.canonical_url,
        "section": extracted.section,
        "tags": list(extracted.tags),
        "top_image": extracted.top_image,
        "site_name": extracted.site_name,
        "recognition": extracted.recognition,  # why the page was taken as an article
    }


def cluster_members(session: Session, article: Article) -> list[str]:
    """The other URLs carrying the same story (near-duplicates), for ``show``."""
    if article.cluster_id is None:
        return []
    return list(
        session.scalars(
            select(Article.canonical_url).where(
                Article.cluster_id == article.cluster_id, Article.id != article.id
            )
        )
    )


def version_text(console: Console, document: dict[str, Any]) -> None:
    """A cleaned article for reading in a terminal; right-to-left text is left to the terminal."""
    console.print(Text(document.get("title") or "(no title)", style="bold"))
    facts = [
        f"{key}: {document[key]}"
        for key in ("url", "language", "published", "captured_at", "version")
        if document.get(key) is not None
    ]
    console.print(Text(" · ".join(facts), style="dim"))
    if document.get("cluster"):
        urls = ", ".join(document["cluster"])
        console.print(styled("[dim]same story at: {urls}[/]", urls=urls, highlight=True))
    console.print()
    if document.get("lead"):
        console.print(Text(document["lead"], style="italic"), soft_wrap=True)
        console.print()
    for paragraph in (document.get("text") or "").split("\n"):
        console.print(paragraph, highlight=False, soft_wrap=True)
        console.print()


def raw_capture(settings: Settings, capture: Capture, *, with_headers: bool) -> None:
    """Write the archived bytes exactly as fetched to standard output."""
    from storage.warc import read_record

    record = read_record(settings.warc_dir, capture.warc_name, capture.warc_offset)
    out = sys.stdout.buffer
    if with_headers:
        out.write(record.http_head_bytes())
    out.write(record.payload)
    out.flush()


# Crawl jobs ---------------------------------------------------------------------------------


@contextmanager
def crawl_progress(console: Console, target: str) -> Iterator[Callable[[JobProgress], None]]:
    """A live status line while a crawl runs in its own process."""
    # A str status would be read as markup by rich's Spinner whatever the console says.
    with console.status(Text(f"crawling {target}…")) as status:

        def report(progress: JobProgress) -> None:
            status.update(
                Text(
                    f"crawling {target}: {progress.captures} captures archived, "
                    f"{progress.processed} processed, {progress.errors} fetch errors"
                )
            )

        yield report


def summary_dict(summary: JobSummary) -> dict[str, Any]:
    return asdict(summary)


def job_summary(console: Console, summary: JobSummary) -> None:
    counts = Table(title=f"crawl job {summary.job_id}: {summary.target} ({summary.state})")
    counts.add_column("pages fetched", justify="right")
    counts.add_column("captures archived", justify="right")
    counts.add_column("articles", justify="right")
    counts.add_column("new versions", justify="right")
    counts.add_column("errors", justify="right")
    counts.add_row(
        str(summary.pages_fetched),
        f"{summary.captures_archived} ({summary.revisits} unchanged)",
        str(summary.articles),
        str(summary.new_versions),
        str(summary.errors),
    )
    console.print(counts)
    if summary.articles_seen:
        table = Table(title="articles")
        table.add_column("", justify="center")
        table.add_column("v", justify="right")
        table.add_column("title", overflow="fold")
        table.add_column("url", overflow="fold", style="cyan")
        marks = {
            "new": Text("new", style="green"),
            "changed": Text("changed", style="yellow"),
            "unchanged": Text("same", style="dim"),
        }
        for line in summary.articles_seen:
            table.add_row(marks[line.outcome], str(line.version), line.title or "", line.url)
        console.print(table)
    if summary.robots_refused:
        console.print(
            styled(
                "[dim]{count} links not fetched: robots.txt disallows them[/]",
                count=summary.robots_refused,
                highlight=True,
            )
        )
    for error in summary.error_lines[:20]:
        console.print(styled("[red]•[/] {error}", error=error), soft_wrap=True)
    if len(summary.error_lines) > 20:
        more = len(summary.error_lines) - 20
        console.print(styled("[red]… and {more} more[/]", more=more, highlight=True))


def next_steps(console: Console, summary: JobSummary, example: str | None = None) -> None:
    """The commands to try next, shown with a real URL from this crawl."""
    urls = [line.url for line in summary.articles_seen if line.language == "ar"]
    urls += [line.url for line in summary.articles_seen] + ["URL"]
    example = example or urls[0]
    console.print(styled("\n[bold]Next, try:[/]", highlight=True))
    for command in (
        "newsvault articles",
        f"newsvault show {example}",
        f"newsvault show {example} --format json",
        f"newsvault show {example} --raw --headers",
        "newsvault demo   # again: a re-crawl, unchanged pages add no version",
    ):
        console.print(styled("  [cyan]{command}[/]", command=command), soft_wrap=True)
