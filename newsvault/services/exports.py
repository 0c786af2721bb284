"""Exports: captures as one WARC file, cleaned versions as JSON lines, with one set of rules.

The command line writes a file (:func:`export_to_file`), the API streams the versions
(:func:`version_documents`); both select with :class:`storage.export.Selection`, so a site,
a time range or a language means the same thing in either.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from newsvault.config import Settings
from newsvault.services.errors import Invalid
from storage.db import read_scope
from storage.documents import version_document
from storage.export import (
    BadSelection,
    ExportProgress,
    ExportReport,
    Selection,
    export_jsonl,
    export_warc,
    selected_versions,
)

ExportFormat = Literal["warc", "jsonl"]
SUFFIXES: dict[str, str] = {"warc": ".warc.gz", "jsonl": ".jsonl"}


def selection(
    *,
    site: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    language: str | None = None,
) -> Selection:
    """A checked selection: ``since`` (inclusive) must come before ``until`` (exclusive)."""
    if since is not None and until is not None and since >= until:
        raise Invalid("since must be before until")
    return Selection(site=site, since=since, until=until, language=language)


def export_to_file(
    settings: Settings,
    format: ExportFormat,
    chosen: Selection,
    out: Path,
    *,
    progress: ExportProgress | None = None,
) -> ExportReport:
    """Write the selection to a new file ``out`` (never over an existing one)."""
    if out.is_dir() or out.exists():
        raise Invalid(f"--out {out}: already exists; choose a new file name")
    suffix = SUFFIXES[format]
    if not out.name.endswith(suffix):
        raise Invalid(f"--out {out}: a {format} export is named *{suffix}")
    writer = export_warc if format == "warc" else export_jsonl
    try:
        return writer(settings, chosen, out, progress=progress)
    except BadSelection as exc:
        raise Invalid(str(exc)) from None


def version_documents(settings: Settings, chosen: Selection) -> Iterator[dict[str, Any]]:
    """Every selected version as its JSON document (with its article id), oldest first.

    The selection is checked before this returns, so a bad one is an error, not a stream
    that breaks off.
    """
    with read_scope(settings.index_url) as session:
        try:
            selected_versions(session, chosen)
        except BadSelection as exc:
            raise Invalid(str(exc)) from None
    return _documents(settings, chosen)


def _documents(settings: Settings, chosen: Selection) -> Iterator[dict[str, Any]]:
    with read_scope(settings.index_url) as session:
        query = selected_versions(session, chosen)
        for version, url in session.execute(query.execution_options(yield_per=500)):
            document = version_document(version, url)
            document["article_id"] = version.article_id
            yield document
