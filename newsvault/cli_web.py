"""``newsvault search``: the archive's full-text search from the command line.

Same function as ``/api/search`` (``storage.search.search``), so both give the same hits.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from newsvault.cli_common import (
    Format,
    console,
    fail,
    parse_when,
    print_json,
    ready_index,
    settings_or_exit,
)
from storage.search import SearchHit

_MARK = re.compile(r"</?mark>")


def register(app: typer.Typer) -> None:
    app.command(name="search")(search_command)


def search_command(
    query: Annotated[str, typer.Argument(help="Words to find (spelling variants match).")],
    site: Annotated[str | None, typer.Option(help="Only this site.")] = None,
    lang: Annotated[str | None, typer.Option(help="Only this language, e.g. ar.")] = None,
    since: Annotated[str | None, typer.Option(help="Published (or captured) on or after.")] = None,
    until: Annotated[str | None, typer.Option(help="Published (or captured) on or before.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200, help="Show at most this many.")] = 20,
    format: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
) -> None:
    """Search archived articles; diacritics, case and spelling variants do not matter."""
    from storage.db import session_scope
    from storage.search import BadQuery, search

    try:
        chosen = Format(format)
    except ValueError:
        fail(f"--format {format!r}: use text or json", 2)
    settings = ready_index(settings_or_exit())
    start = parse_when(since, "--since") if since else None
    end = parse_when(until, "--until") if until else None
    with session_scope(settings.index_url) as session:
        try:
            page = search(session, query, site=site, lang=lang, since=start, until=end, limit=limit)
        except BadQuery as exc:
            fail(str(exc), 2)
    if chosen is Format.json:
        print_json({"query": query, "results": [hit_dict(h) for h in page.results]})
    else:
        hit_table(console, query, page.results)
    if not page.results:
        raise typer.Exit(1)


def hit_dict(hit: SearchHit) -> dict[str, Any]:
    return {
        "article_id": hit.article_id,
        "url": hit.url,
        "title": hit.title,
        "snippet": _MARK.sub("", hit.snippet_html),
        "snippet_html": hit.snippet_html,
        "site": hit.site,
        "published": hit.published.isoformat() if hit.published else None,
        "captured_at": hit.captured_at.isoformat(),
        "language": hit.language,
        "version": hit.version,
    }


def hit_table(console: Console, query: str, hits: list[SearchHit]) -> None:
    if not hits:
        console.print(f"No archived article contains all of: {query}", highlight=False)
        return
    import html

    table = Table(title=f"{len(hits)} articles for “{query}”", show_lines=True)
    table.add_column("date", no_wrap=True)
    table.add_column("lang")
    table.add_column("site")
    table.add_column("title / snippet", overflow="fold")
    for hit in hits:
        when = (hit.published or hit.captured_at).date().isoformat()
        # The snippet is escaped HTML with <mark> around the matches: shown as plain text.
        snippet = html.unescape(_MARK.sub("", hit.snippet_html))
        body = Text.assemble((hit.title or "", "bold"), "\n", snippet, "\n", (hit.url, "cyan"))
        table.add_row(when, hit.language or "?", hit.site or "", body)
    console.print(table)
