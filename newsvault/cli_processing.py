"""Processing commands: ``clusters`` (near-duplicate stories) and ``process`` (run again).

Plain typer-annotated functions, added to the app by :func:`register`. The shared helpers
(``fail``, ``ready_index``, ...) are imported from ``newsvault.cli`` inside each function, as
``newsvault.cli`` imports this module at its end, once ``Format`` and the helpers exist.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy import select, update

from newsvault.cli_common import (
    Format,
    console,
    errors,
    fail,
    print_json,
    ready_index,
    settings_or_exit,
)
from storage.models import Capture

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from newsvault.config import Settings
    from tasks.clusters import ClusterSummary


# --- clusters ---------------------------------------------------------------------------------


def cluster_dict(cluster: ClusterSummary) -> dict[str, Any]:
    return {
        "cluster": cluster.cluster_id,
        "size": len(cluster.members),
        "created_at": cluster.created_at.isoformat(),
        "first_seen": cluster.first_seen.isoformat(),
        "members": [
            {
                "url": member.url,
                "title": member.title,
                "language": member.language,
                "first_seen": member.first_seen.isoformat(),
            }
            for member in cluster.members
        ],
    }


def cluster_table(console: Console, found: list[ClusterSummary]) -> None:
    if not found:
        console.print("No clusters yet: no story has been archived at two URLs.")
        return
    table = Table(title=f"{len(found)} clusters of near-duplicate articles", show_lines=True)
    table.add_column("cluster", justify="right")
    table.add_column("first seen")
    table.add_column("lang")
    table.add_column("title", overflow="fold")
    table.add_column("url", overflow="fold", style="cyan")
    for cluster in found:
        for number, member in enumerate(cluster.members):
            table.add_row(
                f"{cluster.cluster_id} ({len(cluster.members)})" if number == 0 else "",
                member.first_seen.strftime("%Y-%m-%d %H:%M"),
                member.language or "?",
                member.title or "",
                member.url,
            )
    console.print(table)


def clusters(
    min_size: Annotated[int, typer.Option(min=1, help="Only clusters with this many members.")] = 2,
    limit: Annotated[int | None, typer.Option(min=1, help="Show at most this many.")] = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.text,
) -> None:
    """List clusters of near-duplicate articles (one story at several URLs), largest first."""
    from storage.db import read_scope
    from tasks.clusters import list_clusters

    settings = ready_index(settings_or_exit())
    with read_scope(settings.index_url) as session:
        found = list_clusters(session, min_size=min_size, limit=limit)
    if format is Format.json:
        print_json([cluster_dict(cluster) for cluster in found])
    else:
        cluster_table(console, found)


# --- process ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    """Which captures to (re)process; ``unknown`` are requested ids not in the index."""

    capture_ids: list[int]
    unknown: list[int]
    reset_errors: int


def select_captures(
    session: Session, *, pending: bool, all_errors: bool, capture_ids: list[int]
) -> Selection:
    """The captures to run, errors among them put back to ``pending`` (in this transaction).

    An explicitly named capture that is already done or skipped is kept in the list: the
    processing step re-checks and reports it as ``already_done`` instead of redoing it.
    """
    states: list[str] = (["pending"] if pending else []) + (["error"] if all_errors else [])
    chosen: set[int] = set()
    if states:
        chosen.update(session.scalars(select(Capture.id).where(Capture.process_state.in_(states))))
    known = set(session.scalars(select(Capture.id).where(Capture.id.in_(capture_ids))))
    chosen |= known
    errors = list(
        session.scalars(
            select(Capture.id).where(Capture.id.in_(chosen), Capture.process_state == "error")
        )
    )
    if errors:  # an error is a finished state: processing only picks up pending captures
        session.execute(
            update(Capture)
            .where(Capture.id.in_(errors))
            .values(process_state="pending", process_note=None)
        )
    unknown = sorted(set(capture_ids) - known)
    return Selection(sorted(chosen), unknown, len(errors))


def run_inline(
    capture_ids: list[int], settings: Settings, progress: Callable[[int, int], None]
) -> Counter[str]:
    """Process each capture here; outcomes counted, a crash counted and the capture left."""
    import logging

    from tasks.pipeline import process_capture

    log = logging.getLogger(__name__)
    outcomes: Counter[str] = Counter()
    for done, capture_id in enumerate(capture_ids, start=1):
        try:
            outcomes[process_capture(capture_id, settings).result] += 1
        except Exception:  # one bad capture must not stop the rest; it stays pending
            log.exception("capture %s: processing failed; it stays pending", capture_id)
            outcomes["failed (still pending)"] += 1
        progress(done, len(capture_ids))
    return outcomes


def queue_all(
    capture_ids: list[int], settings: Settings, progress: Callable[[int, int], None]
) -> Counter[str]:
    """Hand the captures to the ``process`` queue, in batches so the bar moves."""
    from tasks.dispatch import submit_captures

    batch = 500
    for start in range(0, len(capture_ids), batch):
        submit_captures(capture_ids[start : start + batch], settings)
        progress(min(start + batch, len(capture_ids)), len(capture_ids))
    return Counter({"queued": len(capture_ids)})


def _with_progress(
    console: Console,
    label: str,
    work: Callable[[Callable[[int, int], None]], Counter[str]],
) -> Counter[str]:
    # markup=False: the label is printed as it is (rich parses it otherwise).
    label_column = TextColumn("{task.description}", markup=False)
    columns = (label_column, BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeRemainingColumn(), console=console) as bar:
        task = bar.add_task(label, total=None)

        def report(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return work(report)


def outcome_table(console: Console, outcomes: Counter[str], reset: int) -> None:
    table = Table(title="processing outcomes")
    table.add_column("outcome")
    table.add_column("captures", justify="right")
    for outcome, count in sorted(outcomes.items(), key=lambda item: (-item[1], item[0])):
        table.add_row(outcome, str(count))
    console.print(table)
    if reset:
        console.print(f"{reset} captures in error were put back to pending first", highlight=False)


def process(
    pending: Annotated[
        bool, typer.Option("--pending", help="Captures left pending, e.g. after a crash.")
    ] = False,
    capture: Annotated[
        list[int] | None, typer.Option("--capture", help="This capture id (repeatable).")
    ] = None,
    all_errors: Annotated[
        bool, typer.Option("--all-errors", help="Captures whose processing ended in error.")
    ] = False,
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.text,
) -> None:
    """Run processing again for pending or failed captures (default: --pending).

    Embedded mode processes them here; with a broker they are queued for the workers.
    """
    from storage.db import session_scope

    capture_ids = list(capture or [])
    if not (pending or all_errors or capture_ids):
        pending = True
    settings = ready_index(settings_or_exit())
    with session_scope(settings.index_url) as session:
        selection = select_captures(
            session, pending=pending, all_errors=all_errors, capture_ids=capture_ids
        )
    if selection.unknown:
        shown = ", ".join(str(capture_id) for capture_id in selection.unknown)
        fail(f"--capture: no capture {shown} in the index; `newsvault snapshots URL` lists ids")
    if settings.embedded:
        outcomes = _with_progress(
            errors, "processing", lambda report: run_inline(selection.capture_ids, settings, report)
        )
    else:
        outcomes = _with_progress(
            errors, "queueing", lambda report: queue_all(selection.capture_ids, settings, report)
        )
    if format is Format.json:
        print_json(
            {
                "captures": len(selection.capture_ids),
                "reset_errors": selection.reset_errors,
                "mode": "embedded" if settings.embedded else "queued",
                "outcomes": dict(outcomes),
            }
        )
    elif not selection.capture_ids:
        console.print("Nothing to process: no capture is pending or in error.")
    else:
        outcome_table(console, outcomes, selection.reset_errors)
    if outcomes.get("error") or outcomes.get("failed (still pending)"):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the processing commands to the ``newsvault`` app."""
    for command in (clusters, process):
        app.command()(command)
