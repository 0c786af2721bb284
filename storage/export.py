"""``newsvault export``: a selection of the archive as one WARC file, or as JSONL.

The WARC export copies records byte for byte (each is a complete gzip member in its source
file), so digests, record ids and dates are the originals and the export is as trustworthy as
the archive. A new ``warcinfo`` record opens the file. For each capture: its response or
revisit record, the request record written right after it, and the conversion records of the
versions it holds. A revisit is useless without the response it repeats (replay tools fetch
the payload from it), so that response is exported too, even when it is outside the dates.

The JSONL export writes one cleaned version per line: the JSON document of its conversion
record, as stored.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import Session
from warcio.archiveiterator import ArchiveIterator

from storage.db import session_scope
from storage.documents import version_document
from storage.models import Article, Capture, CrawlJob, Site, Version
from storage.warc import read_record
from storage.warc_files import OPEN_SUFFIX
from storage.warc_records import WarcRecordWriter, warc_date, warcinfo_fields

if TYPE_CHECKING:
    from storage.config import StorageConfig

# (items done, items in all)
ExportProgress = Callable[[int, int], None]
_CHUNK = 1 << 16


class BadSelection(ValueError):
    """The selection names no site or host the archive knows; the message says which."""


@dataclass(frozen=True)
class Selection:
    """What to export: captures of one site (a site name or a host) between two instants.

    ``since`` is inclusive, ``until`` exclusive.
    """

    site: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    language: str | None = None  # versions in this language only (JSONL)

    def describe(self) -> str:
        parts = [f"site={self.site}"] if self.site else []
        parts += [f"language={self.language}"] if self.language else []
        parts += [f"since={self.since.isoformat()}"] if self.since else []
        parts += [f"until={self.until.isoformat()}"] if self.until else []
        return ", ".join(parts) or "everything"


@dataclass(frozen=True)
class ExportReport:
    path: Path
    records: int
    captures: int
    versions: int
    bytes: int


# -- selection ------------------------------------------------------------------------------


def _site_condition(session: Session, site: str) -> ColumnElement[bool]:
    """A configured site's crawl jobs, or else a host (``example.org`` or ``host:port``)."""
    site_id = session.scalar(select(Site.id).where(Site.name == site))
    if site_id is not None:
        return Capture.crawl_job_id.in_(select(CrawlJob.id).where(CrawlJob.site_id == site_id))
    host = site.strip().lower().removeprefix("http://").removeprefix("https://").rstrip("/")
    if "." not in host and ":" not in host and host != "localhost":
        raise BadSelection(
            f"--site {site!r}: no site of that name (`newsvault sites list`), nor a host name"
        )
    return or_(
        Capture.canonical_url.startswith(f"http://{host}/", autoescape=True),
        Capture.canonical_url.startswith(f"https://{host}/", autoescape=True),
    )


def _conditions(session: Session, selection: Selection) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if selection.site:
        conditions.append(_site_condition(session, selection.site))
    if selection.since:
        conditions.append(Capture.fetched_at >= selection.since)
    if selection.until:
        conditions.append(Capture.fetched_at < selection.until)
    return conditions


def selected_captures(session: Session, selection: Selection) -> Select[Capture]:
    return (
        select(Capture)
        .where(and_(True, *_conditions(session, selection)))
        .order_by(Capture.fetched_at, Capture.id)
    )


def selected_versions(session: Session, selection: Selection) -> Select[Version, str]:
    """The cleaned versions of the selected captures with their article's URL, oldest first."""
    query = (
        select(Version, Article.canonical_url)
        .join(Capture, Capture.id == Version.capture_id)
        .join(Article, Article.id == Version.article_id)
        .where(and_(True, *_conditions(session, selection)))
    )
    if selection.language:
        query = query.where(Version.language == selection.language)
    return query.order_by(Capture.fetched_at, Version.id)


# -- WARC -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Place:
    warc_name: str
    offset: int
    length: int


def export_warc(
    settings: StorageConfig,
    selection: Selection,
    out: Path,
    *,
    progress: ExportProgress | None = None,
) -> ExportReport:
    """Write the selected records to ``out`` (gzip per record, warcinfo first)."""
    with session_scope(settings.index_url) as session:
        captures = list(session.scalars(selected_captures(session, selection)))
        directory = settings.warc_dir
        places, versions = _record_places(session, directory, captures)
    with _atomic_output(out) as fh:
        _write_warcinfo(fh, out.name, selection)
        for number, place in enumerate(places, start=1):
            _copy(directory, place, fh)
            if progress is not None:
                progress(number, len(places))
    return ExportReport(out, len(places) + 1, len(captures), versions, out.stat().st_size)


def _record_places(
    session: Session, directory: Path, captures: list[Capture]
) -> tuple[list[_Place], int]:
    """Where every record to export is, in export order, each once."""
    places: dict[tuple[str, int], _Place] = {}
    selected = {c.record_id for c in captures}
    originals = {
        c.record_id: c
        for c in session.scalars(
            select(Capture).where(
                Capture.record_id.in_(
                    {c.refers_to_record_id for c in captures if c.refers_to_record_id} - selected
                )
            )
        )
    }
    conversions = _conversions(session, [c.id for c in captures])
    versions = 0
    for capture in captures:
        original = originals.get(capture.refers_to_record_id or "")
        for item in ([original] if original is not None else []) + [capture]:
            for place in _exchange(directory, item):
                places.setdefault((place.warc_name, place.offset), place)
        for place in conversions.get(capture.id, []):
            places.setdefault((place.warc_name, place.offset), place)
            versions += 1
    return list(places.values()), versions


def _conversions(session: Session, capture_ids: list[int]) -> dict[int, list[_Place]]:
    found: dict[int, list[_Place]] = {}
    for start in range(0, len(capture_ids), 500):
        rows = session.execute(
            select(Version.capture_id, Version.warc_name, Version.warc_offset, Version.warc_length)
            .where(Version.capture_id.in_(capture_ids[start : start + 500]))
            .where(Version.warc_name.is_not(None))
        )
        for capture_id, name, offset, length in rows:
            if name is not None and offset is not None and length is not None:
                found.setdefault(capture_id, []).append(_Place(name, offset, length))
    return found


def _exchange(directory: Path, capture: Capture) -> Iterator[_Place]:
    """The response/revisit record and, when it follows it as written, its request record."""
    yield _Place(capture.warc_name, capture.warc_offset, capture.warc_length)
    # WarcWriter.write_exchange writes the request right after its response; it is not
    # indexed, so find its length by reading it.
    yield from _request_after(directory, capture)


def _request_after(directory: Path, capture: Capture) -> Iterator[_Place]:
    path = _existing(directory, capture.warc_name)
    offset = capture.warc_offset + capture.warc_length
    if offset >= path.stat().st_size:
        return
    with path.open("rb") as fh:
        fh.seek(offset)
        iterator = ArchiveIterator(fh)
        try:
            record = next(iter(iterator))
        except StopIteration:
            return
        if record.rec_type != "request" or (
            record.rec_headers.get_header("WARC-Concurrent-To") != capture.record_id
        ):
            return
        record.raw_stream.read()
        yield _Place(capture.warc_name, offset, iterator.get_record_length())


def _existing(directory: Path, warc_name: str) -> Path:
    path = directory / warc_name
    return path if path.exists() else directory / (warc_name + OPEN_SUFFIX)


def _copy(directory: Path, place: _Place, out: BinaryIO) -> None:
    with _existing(directory, place.warc_name).open("rb") as fh:
        fh.seek(place.offset)
        left = place.length
        while left:
            chunk = fh.read(min(_CHUNK, left))
            if not chunk:
                raise OSError(f"{place.warc_name}: file ends inside the record at {place.offset}")
            out.write(chunk)
            left -= len(chunk)


def _write_warcinfo(fh: BinaryIO, name: str, selection: Selection) -> None:
    records = WarcRecordWriter()
    fields = {
        **warcinfo_fields("export"),
        "description": f"newsvault export: {selection.describe()}",
        "exported-at": warc_date(records.now()),
    }
    records.write_warcinfo(fh, filename=name, fields=fields)


class _atomic_output:
    """Write to ``out.part``, fsync, rename: a failed export never leaves a half file."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.part = out.with_name(out.name + ".part")
        self.fh: BinaryIO | None = None

    def __enter__(self) -> BinaryIO:
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.fh = self.part.open("wb")
        return self.fh

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        assert self.fh is not None
        if exc_type is None:
            self.fh.flush()
            os.fsync(self.fh.fileno())
        self.fh.close()
        if exc_type is None:
            os.replace(self.part, self.out)
        else:
            self.part.unlink(missing_ok=True)


# -- JSONL ----------------------------------------------------------------------------------


def export_jsonl(
    settings: StorageConfig,
    selection: Selection,
    out: Path,
    *,
    progress: ExportProgress | None = None,
) -> ExportReport:
    """One line per cleaned version of the selected captures, oldest first."""
    with session_scope(settings.index_url) as session:
        rows = [
            (version, url)
            for version, url in session.execute(selected_versions(session, selection))
        ]
        session.expunge_all()
    with _atomic_output(out) as fh:
        for number, (version, url) in enumerate(rows, start=1):
            if version.warc_name is not None and version.warc_offset is not None:
                record = read_record(settings.warc_dir, version.warc_name, version.warc_offset)
                line = record.payload
            else:  # a version stored before conversion records existed
                line = json.dumps(version_document(version, url), ensure_ascii=False).encode()
            fh.write(line.strip() + b"\n")
            if progress is not None:
                progress(number, len(rows))
    return ExportReport(out, len(rows), len(rows), len(rows), out.stat().st_size)
