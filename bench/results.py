"""bench/RESULTS.md: each benchmark run appends one dated section; the history stays."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from rich.table import Table

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
_FIRST_LINES = "# Benchmark results\n\nAppended by the bench/ scripts; newest last.\n"


def markdown_table(
    header: Sequence[str], rows: Iterable[Sequence[str]], title: str | None = None
) -> str:
    lines = [f"**{title}**", ""] if title else []
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def rich_markdown(table: Table) -> str:
    """A rich table (as printed) in Markdown."""
    columns = [[str(cell) for cell in column._cells] for column in table.columns]
    header = [str(column.header) for column in table.columns]
    title = str(table.title) if table.title else None
    return markdown_table(header, zip(*columns, strict=True), title)


def ok_mark(ok: bool | None) -> str:
    return "" if ok is None else ("yes" if ok else "NO")


def append_section(command: str, note: str, tables: Sequence[str]) -> None:
    """Append ``## <UTC time>: <command>``, the note, then the tables."""
    if not RESULTS.exists():
        RESULTS.write_text(_FIRST_LINES, "utf-8")
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = "\n\n".join(tables)
    with RESULTS.open("a", encoding="utf-8") as handle:
        handle.write(f"\n## {stamp}: {command}\n\n{note}\n\n{body}\n")
