"""``newsvault sites add|list|show|remove|validate``: the site definitions crawls run from.

A site lives in the index (a ``Site`` row holding the validated definition as JSON), so
``newsvault crawl NAME``, the scheduler and the workers all read the same one. It is added from
a TOML file (``sites/example.toml`` documents every field) or from command-line options, and is
always validated by :class:`crawler.sitedef.SiteDefinition` first: a bad value is refused with
one line naming the file (or option) and the field.

The shared helpers (``fail``, ``ready_index``, ...) are imported from ``newsvault.cli`` inside
the functions, as ``newsvault.cli`` imports this module at its end.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from newsvault.cli_common import (
    Format,
    FormatOption,
    console,
    fail,
    fail_with,
    print_json,
    ready_index,
    settings_or_exit,
)
from newsvault.cli_probe_report import print_report, report_dict
from newsvault.cli_text import styled
from newsvault.services import sites
from newsvault.services.errors import ServiceError

if TYPE_CHECKING:
    from crawler.sitedef import SiteDefinition
    from storage.models import Site

sites_app = typer.Typer(
    name="sites",
    help="Site definitions: what to crawl on each news site, and how politely.",
    no_args_is_help=True,
)

# Field paths in validation messages -> the option that sets them (for `sites add` options).
_OPTION_OF = {
    "name": "--name",
    "start.feeds": "--feed",
    "start.sitemaps": "--sitemap",
    "start.sections": "--section",
    "start": "--feed/--sitemap/--section",
    "article_allow": "--allow",
    "article_deny": "--deny",
    "language": "--language",
    "politeness.delay": "--delay",
    "politeness.concurrency": "--concurrency",
    "allowed_networks": "--allow-network",
}


# Definitions ----------------------------------------------------------------------------------


def definition_from_options(
    *,
    name: str,
    feeds: list[str],
    sitemaps: list[str],
    sections: list[str],
    allow: list[str],
    deny: list[str],
    language: str | None,
    delay: float | None,
    concurrency: int | None,
    allow_networks: list[str],
) -> dict[str, Any]:
    """The mapping `sites add --name ...` describes; only what was given (defaults apply)."""
    politeness = {
        k: v for k, v in {"delay": delay, "concurrency": concurrency}.items() if v is not None
    }
    data: dict[str, Any] = {
        "name": name,
        "start": {"feeds": feeds, "sitemaps": sitemaps, "sections": sections},
        "article_allow": allow,
        "article_deny": deny,
        "allowed_networks": allow_networks,
    }
    if language is not None:
        data["language"] = language
    if politeness:
        data["politeness"] = politeness
    return data


def _option_message(message: str) -> str:
    """'command line: start.feeds.0: bad URL' -> '--feed (start.feeds.0): bad URL'."""
    _source, _, rest = message.partition(": ")
    where, _, detail = rest.partition(": ")
    if where == "(definition)":  # a check across fields: its message starts with the field
        where, _, detail = detail.partition(": ")
    base = ".".join(p for p in where.split(".") if not p.isdigit())
    option = _OPTION_OF.get(base)
    return f"{option} ({where}): {detail}" if option and detail else message


def _definition_of(row: Site) -> SiteDefinition:
    try:
        return sites.definition_of(row)
    except ServiceError as exc:
        fail_with(exc)


def _summary(site: SiteDefinition) -> dict[str, Any]:
    return {
        "name": site.name,
        "feeds": len(site.start.feeds),
        "sitemaps": len(site.start.sitemaps),
        "sections": len(site.start.sections),
        "domains": list(site.allowed_domains),
        "language": site.language,
        "delay": site.politeness.delay,
        "concurrency": site.politeness.concurrency,
        "schedule": site.schedule,
    }


# Commands -------------------------------------------------------------------------------------


def add(
    file: Annotated[
        Path | None, typer.Argument(help="A TOML site definition (see sites/example.toml).")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Site name, e.g. bbc-ar.")] = None,
    feed: Annotated[list[str] | None, typer.Option(help="RSS/Atom/RDF feed (repeatable).")] = None,
    sitemap: Annotated[
        list[str] | None, typer.Option(help="Sitemap or sitemap index (repeatable).")
    ] = None,
    section: Annotated[
        list[str] | None, typer.Option(help="Section page, pagination followed (repeatable).")
    ] = None,
    allow: Annotated[
        list[str] | None, typer.Option(help="Regex article URLs match (repeatable).")
    ] = None,
    deny: Annotated[
        list[str] | None, typer.Option(help="Regex of URLs that are never articles.")
    ] = None,
    language: Annotated[str | None, typer.Option(help="Language hint, e.g. ar.")] = None,
    delay: Annotated[float | None, typer.Option(help="Seconds between requests to a host.")] = None,
    concurrency: Annotated[int | None, typer.Option(help="Parallel requests per host.")] = None,
    allow_network: Annotated[
        list[str] | None,
        typer.Option(help="Private network this site may be reached on, e.g. 127.0.0.0/8."),
    ] = None,
    replace: Annotated[bool, typer.Option(help="Replace a site of the same name.")] = False,
    format: FormatOption = Format.text,
) -> None:
    """Add a site from a TOML file, or from options (--name and at least one start point)."""
    from crawler.sitedef import SiteDefinitionError, load_site, parse_site

    options = [feed, sitemap, section, allow, deny, allow_network, language, delay, concurrency]
    given = any(o not in (None, []) for o in options)
    if file is not None and (given or name is not None):
        fail("give a TOML file or options (--name, --feed, ...), not both", 2)
    try:
        if file is not None:
            site = load_site(file)
        elif name is None:
            fail("give a TOML file (`newsvault sites add sites/example.toml`) or --name", 2)
        else:
            data = definition_from_options(
                name=name,
                feeds=feed or [],
                sitemaps=sitemap or [],
                sections=section or [],
                allow=allow or [],
                deny=deny or [],
                language=language,
                delay=delay,
                concurrency=concurrency,
                allow_networks=allow_network or [],
            )
            try:
                site = parse_site(data, source="command line")
            except SiteDefinitionError as exc:
                raise SiteDefinitionError(_option_message(str(exc))) from None
    except SiteDefinitionError as exc:
        fail(str(exc), 2)

    settings = ready_index(settings_or_exit())
    try:
        saved = sites.save_site(settings, site, replace=replace)
    except ServiceError as exc:
        fail_with(exc, 2)
    if format is Format.json:
        print_json({"added": site.name, "replaced": saved.replaced, "definition": saved.definition})
        return
    verb = "Replaced" if saved.replaced else "Added"
    console.print(
        styled(
            "{verb} site [bold]{name}[/]: {feeds} feeds, {sitemaps} sitemaps, {sections} "
            "sections on {domains}.\n"
            "Next: [cyan]newsvault sites validate {name}[/] then [cyan]newsvault crawl {name}[/]",
            verb=verb,
            name=site.name,
            feeds=len(site.start.feeds),
            sitemaps=len(site.start.sitemaps),
            sections=len(site.start.sections),
            domains=", ".join(site.allowed_domains),
        )
    )


def list_(format: FormatOption = Format.text) -> None:
    """List the sites crawls can run from."""
    from sqlalchemy import select

    from storage.db import read_scope
    from storage.models import Site

    settings = ready_index(settings_or_exit())
    rows = []
    with read_scope(settings.index_url) as session:
        for row in session.scalars(select(Site).order_by(Site.name)):
            rows.append({**_summary(_definition_of(row)), **sites.site_usage(session, row)})
    if format is Format.json:
        print_json(rows)
        return
    if not rows:
        console.print(
            styled(
                "No sites yet. Add one: [cyan]newsvault sites add sites/example.toml[/]",
                highlight=True,
            )
        )
        return
    table = Table("name", "feeds", "sitemaps", "sections", "domains", "politeness", "captures")
    table.add_column("last crawl")
    for r in rows:
        last = r["last_crawl"]
        table.add_row(
            r["name"],
            str(r["feeds"]),
            str(r["sitemaps"]),
            str(r["sections"]),
            ", ".join(r["domains"]),
            f"{r['delay']:g} s, x{r['concurrency']}",
            f"{r['captures']:,}",
            f"#{last['job_id']} {last['state']}" if last else "never",
        )
    console.print(table)


def show(
    name: Annotated[str, typer.Argument(help="The site's name.")],
    format: FormatOption = Format.text,
) -> None:
    """Show a site's definition and its crawl history."""
    from storage.db import read_scope

    settings = ready_index(settings_or_exit())
    with read_scope(settings.index_url) as session:
        row = sites.stored(session, name)
        if row is None:
            fail(f"no site named {name!r}; see `newsvault sites list`")
        site = _definition_of(row)
        usage = sites.site_usage(session, row)
    document = {"definition": site.model_dump(mode="json"), **usage}
    if format is Format.json:
        print_json(document)
        return
    console.print(
        styled(
            "[bold]{name}[/]  ({captures} captures, {crawls} crawls)",
            name=site.name,
            captures=f"{usage['captures']:,}",
            crawls=usage["crawls"],
            highlight=True,
        )
    )
    table = Table("field", "value", show_header=False, box=None, pad_edge=False)
    for kind, urls in (
        ("feeds", site.start.feeds),
        ("sitemaps", site.start.sitemaps),
        ("sections", site.start.sections),
    ):
        table.add_row(kind, "\n".join(urls) or "-")
    table.add_row("domains", ", ".join(site.allowed_domains))
    table.add_row("article allow", "\n".join(site.article_allow) or "(JSON-LD / og:type signals)")
    table.add_row("article deny", "\n".join(site.article_deny) or "-")
    table.add_row("language", site.language or "-")
    table.add_row("limits", _limits(site))
    table.add_row(
        "politeness", f"{site.politeness.delay:g} s delay, {site.politeness.concurrency} per host"
    )
    table.add_row("schedule", site.schedule or "-")
    table.add_row("networks", ", ".join(site.allowed_networks) or "public only")
    last = usage["last_crawl"]
    if last:
        table.add_row("last crawl", f"#{last['job_id']} {last['state']} {last['started_at'] or ''}")
    console.print(table)


def _limits(site: SiteDefinition) -> str:
    limits = site.limits
    age = f", newer than {limits.max_age_days:g} days" if limits.max_age_days else ""
    return f"{limits.max_pages:,} pages, depth {limits.max_depth}{age}"


def remove(
    name: Annotated[str, typer.Argument(help="The site's name.")],
    force: Annotated[bool, typer.Option(help="Remove it even though it has captures.")] = False,
) -> None:
    """Remove a site definition. Its archived captures are kept (the archive is never pruned)."""
    settings = ready_index(settings_or_exit())
    try:
        removed = sites.remove_site(settings, name, force=force)
    except ServiceError as exc:
        fail_with(exc)
    kept = f"; its {removed.captures:,} captures stay in the archive" if removed.captures else ""
    console.print(styled("Removed site [bold]{name}[/]{kept}.", name=name, kept=kept))


def validate(
    target: Annotated[str, typer.Argument(help="A site name in the index, or a TOML file.")],
    timeout: Annotated[float, typer.Option(min=1.0, help="Seconds per fetch.")] = 20.0,
    format: FormatOption = Format.text,
) -> None:
    """Fetch each start point once and report what a crawl would find (exit 1 if nothing)."""
    from crawler.probe import probe_site
    from crawler.sitedef import SiteDefinitionError, load_site
    from storage.db import read_scope

    settings = settings_or_exit()
    path = Path(target)
    if path.suffix == ".toml" or path.is_file():
        try:
            site = load_site(path)
        except SiteDefinitionError as exc:
            fail(str(exc), 2)
    else:
        with read_scope(ready_index(settings).index_url) as session:
            row = sites.stored(session, target)
            if row is None:
                fail(f"no site named {target!r} and no file {target}; see `newsvault sites list`")
            site = _definition_of(row)
    report = probe_site(
        site,
        allowed_networks=settings.allowed_networks,
        user_agent=settings.user_agent,
        timeout=timeout,
        max_bytes=settings.max_page_bytes,
    )
    if format is Format.json:
        print_json(report_dict(report))
    else:
        print_report(console, report)
    if not report.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``newsvault sites ...`` to the app."""
    sites_app.command()(add)
    sites_app.command("list")(list_)
    sites_app.command()(show)
    sites_app.command()(remove)
    sites_app.command()(validate)
    from newsvault.cli_ops import register_site_commands

    register_site_commands(sites_app)
    app.add_typer(sites_app, name="sites")
