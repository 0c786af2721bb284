"""Archive commands: ``reindex``, ``verify``, ``snapshots``, ``diff``, ``export``.

Plain typer-annotated functions, added to the app by :func:`register`. The shared helpers
(``fail``, ``ready_index``, ...) are imported from ``newsvault.cli`` inside each function, as
``newsvault.cli`` imports this module (at its end, once ``Format`` and the helpers exist).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from newsvault.cli_common import (
    Format,
    console,
    errors,
    fail,
    fail_with,
    parse_when,
    print_json,
    ready_index,
    settings_or_exit,
)
from newsvault.cli_text import styled
from newsvault.services import exports
from newsvault.services.errors import ServiceError

if TYPE_CHECKING:
    from storage.retrieval import Snapshot

_DATE_ONLY = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*$")


class ExportFormat(StrEnum):
    warc = "warc"
    jsonl = "jsonl"


@contextmanager
def _progress_bar(
    console: Console, *, in_bytes: bool = False
) -> Iterator[Callable[[str, int, int], None]]:
    """A rich progress bar with one line per stage; yields ``report(stage, done, total)``."""
    count = DownloadColumn() if in_bytes else MofNCompleteColumn()
    # markup=False: a stage's label is printed as it is (rich parses it otherwise).
    label = TextColumn("{task.description}", markup=False)
    columns = (label, BarColumn(), count, TimeRemainingColumn())
    tasks: dict[str, TaskID] = {}
    with Progress(*columns, console=console, transient=False) as bar:

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield report


# Commands ---------------------------------------------------------------------------------


def reindex() -> None:
    """Rebuild the whole index from the WARC files alone (sites and crawl jobs are kept)."""
    from tasks.reindex import reindex as rebuild

    settings = ready_index(settings_or_exit())
    labels = {"scan": "reading WARC files", "extract": "re-extracting", "versions": "versions"}
    with _progress_bar(console) as report:
        result = rebuild(settings, progress=lambda s, d, t: report(labels.get(s, s), d, t))
    for recovered in result.recovered:
        console.print(
            f"recovered {recovered.file}: {recovered.action}, {recovered.records_kept} records "
            f"kept, {recovered.bytes_cut} bytes cut"
            + (f" ({recovered.problem})" if recovered.problem else ""),
            highlight=False,
        )
    console.print(
        f"{result.files} WARC files, {result.records} records: {result.captures} captures, "
        f"{result.articles} articles, {result.versions} versions, {result.clusters} clusters",
        highlight=False,
    )
    if result.pending:
        console.print(f"{result.pending} captures were never processed (left pending)")
    if result.orphan_conversions:
        console.print(f"{result.orphan_conversions} conversion records skipped (no response)")
    for problem in result.problems:
        console.print(
            styled(
                "[red]bad record[/] {file} offset {offset}: {problem}",
                file=problem.file,
                offset=problem.offset,
                problem=problem.problem,
            )
        )
    if result.problems:
        raise typer.Exit(1)


def verify(
    since: Annotated[
        str | None,
        typer.Option(help="Only files written to at or after this ISO date or datetime."),
    ] = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.text,
) -> None:
    """Re-read every record of every WARC file and check both digests; exit 1 if any is bad."""
    from storage.verify import verify_archive

    settings = settings_or_exit()
    when = parse_when(since, "--since") if since else None
    with _progress_bar(errors, in_bytes=True) as report:
        result = verify_archive(
            settings.warc_dir, since=when, progress=lambda d, t: report("verifying", d, t)
        )
    problems = [{"file": p.file, "offset": p.offset, "problem": p.problem} for p in result.problems]
    if format is Format.json:
        print_json({"files": len(result.files), "records": result.records, "bad": problems})
    else:
        for problem in result.problems:
            console.print(
                styled(
                    "[red]BAD[/] {file} offset {offset}: {problem}",
                    file=problem.file,
                    offset=problem.offset,
                    problem=problem.problem,
                ),
                soft_wrap=True,
            )
        verdict = (
            Text("all good", style="green")
            if result.ok
            else Text(f"{len(problems)} bad records", style="red")
        )
        console.print(
            Text.assemble(f"{len(result.files)} files, {result.records} records checked: ", verdict)
        )
    if not result.ok:
        raise typer.Exit(1)


def snapshots(
    url: Annotated[str, typer.Argument(help="The URL (canonical or any variant of it).")],
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.text,
) -> None:
    """The capture timeline of one URL: time, status, version, changed or unchanged, digest."""
    from storage.db import session_scope
    from storage.retrieval import NotArchived
    from storage.retrieval import snapshots as timeline

    settings = ready_index(settings_or_exit())
    with session_scope(settings.index_url) as session:
        try:
            found = timeline(session, url)
        except NotArchived as exc:
            fail(str(exc))
    if format is Format.json:
        print_json([snapshot_dict(s) for s in found])
        return
    table = Table(title=f"{len(found)} captures of {found[0].url}")
    for name, justify in (
        ("time (UTC)", "left"),
        ("status", "right"),
        ("record", "left"),
        ("version", "right"),
        ("", "left"),
        ("payload digest", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for snapshot in found:
        change = _change_label(snapshot)
        table.add_row(
            snapshot.fetched_at.isoformat(timespec="microseconds"),
            str(snapshot.status),
            snapshot.record_type,
            str(snapshot.version) if snapshot.version is not None else "-",
            change,
            snapshot.payload_digest,
        )
    console.print(table)


def _change_label(snapshot: Snapshot) -> Text:
    if snapshot.version is None:
        return Text("")
    return Text("changed", style="yellow") if snapshot.changed else Text("unchanged", style="dim")


def snapshot_dict(snapshot: Snapshot) -> dict[str, Any]:
    return {
        "time": snapshot.fetched_at.isoformat(),
        "url": snapshot.url,
        "status": snapshot.status,
        "record_type": snapshot.record_type,
        "mime_type": snapshot.mime_type,
        "version": snapshot.version,
        "changed": snapshot.changed if snapshot.version is not None else None,
        "payload_digest": snapshot.payload_digest,
    }


def diff(
    url: Annotated[str, typer.Argument(help="The article's URL (canonical or any variant).")],
    from_: Annotated[
        int | None, typer.Option("--from", help="Older version number (default: next to last).")
    ] = None,
    to: Annotated[int | None, typer.Option("--to", help="Newer version (default: last).")] = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.text,
) -> None:
    """Word-level diff of two versions of an article's cleaned text (default: the last two)."""
    from processing.diff import render_terminal, word_diff
    from storage.db import session_scope
    from storage.retrieval import NotArchived, article_versions

    settings = ready_index(settings_or_exit())
    with session_scope(settings.index_url) as session:
        try:
            article, versions = article_versions(session, url)
        except NotArchived as exc:
            fail(str(exc))
        session.expunge_all()
    numbers = [v.number for v in versions]
    if len(versions) < 2 and from_ is None and to is None:
        fail(f"{article.canonical_url} has only {len(versions)} version; nothing to compare")
    new_number = to if to is not None else numbers[-1]
    old_number = from_ if from_ is not None else _previous(numbers, new_number)
    by_number = {v.number: v for v in versions}
    for option, number in (("--from", old_number), ("--to", new_number)):
        if number not in by_number:
            fail(f"{option} {number}: {article.canonical_url} has versions {_span(numbers)}", 2)
    old, new = by_number[old_number], by_number[new_number]
    changes = word_diff(_full_text(old.title, old.text), _full_text(new.title, new.text))
    if format is Format.json:
        print_json(
            {
                "url": article.canonical_url,
                "from": {"version": old.number, "captured_at": old.captured_at.isoformat()},
                "to": {"version": new.number, "captured_at": new.captured_at.isoformat()},
                "added": changes.added,
                "removed": changes.removed,
                "ops": [{"op": op.kind, "text": op.text} for op in changes.ops],
            }
        )
        return
    console.print(
        styled(
            "[bold]{url}[/]\nversion {old} ({old_at} UTC) -> version {new} ({new_at} UTC): "
            "[green]+{added}[/] [red]-{removed}[/] words\n",
            url=article.canonical_url,
            old=old.number,
            old_at=f"{old.captured_at:%Y-%m-%d %H:%M}",
            new=new.number,
            new_at=f"{new.captured_at:%Y-%m-%d %H:%M}",
            added=changes.added,
            removed=changes.removed,
        )
    )
    console.print(render_terminal(changes), highlight=False, soft_wrap=True)


def _previous(numbers: list[int], number: int) -> int:
    earlier = [n for n in numbers if n < number]
    return earlier[-1] if earlier else number - 1


def _span(numbers: list[int]) -> str:
    return f"1 to {numbers[-1]}" if numbers else "none"


def _full_text(title: str | None, text: str) -> str:
    """The title is part of what editors change, so it is diffed too, as the first line."""
    return f"{title}\n{text}" if title else text


def export(
    out: Annotated[Path, typer.Option("--out", "-o", help="The file to write.")],
    format: Annotated[
        ExportFormat, typer.Option("--format", "-f", help="warc (records) or jsonl (versions).")
    ] = ExportFormat.warc,
    site: Annotated[
        str | None, typer.Option(help="A site name (`newsvault sites list`) or a host.")
    ] = None,
    since: Annotated[str | None, typer.Option(help="From this ISO date or datetime on.")] = None,
    until: Annotated[
        str | None, typer.Option(help="Up to this datetime; a date means up to its end.")
    ] = None,
) -> None:
    """Export captures as one WARC file (records byte for byte), or cleaned versions as JSONL."""

    settings = ready_index(settings_or_exit())
    start = parse_when(since, "--since") if since else None
    end = parse_when(until, "--until") if until else None
    if end is not None and until is not None and _DATE_ONLY.match(until):
        end += timedelta(days=1)  # the whole day named
    try:
        chosen = exports.selection(site=site, since=start, until=end)
        with _progress_bar(console) as report:
            result = exports.export_to_file(
                settings,
                format.value,
                chosen,
                out,
                progress=lambda d, t: report("export", d, t),
            )
    except ServiceError as exc:
        fail_with(exc, 2)
    what = "records" if format is ExportFormat.warc else "versions"
    console.print(
        f"wrote {result.path}: {result.records} {what} ({result.captures} captures, "
        f"{result.bytes:,} bytes)",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Add the archive commands to the ``newsvault`` app."""
    for command in (reindex, verify, snapshots, diff, export):
        app.command()(command)
