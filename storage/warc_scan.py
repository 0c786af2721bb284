"""Reading the WARC files back into index rows: the first half of ``newsvault reindex``.

The WARC files are the source of truth; this turns their records into the rows the index
holds, with no processing knowledge: a capture per response or revisit record, a version
placeholder per ``conversion`` record (one JSON document per cleaned version), each file's
crawl job (the ``crawl-job`` field of its warcinfo record, when that job still exists).

What the WARC files do not say, and how it is recovered here:

* the crawl-time ``kind`` of a capture: recorded in the ``WARC-Newsvault-Kind`` header since
  it exists, else ``robots``/``feed``/``sitemap`` from the path and media type, ``article``
  for a capture that holds a version, ``page`` otherwise;
* which captures processing linked to an existing version without writing a record
  ("unchanged" responses: new bytes, same cleaned text). Matching them needs the pipeline's
  extraction, which storage does not have: :func:`link_unchanged` is handed a function that
  answers a response's content hash, and links it to the version with that hash.

Row ids are assigned in a fixed order (file name, then offset), so a second scan gives
identical rows.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from storage.archive import mime_type, processing_plan
from storage.documents import version_note
from storage.fetch import DOM_URN
from storage.warc import IndexedRecord, VerifyProblem, iter_records
from storage.warc_files import OPEN_SUFFIX, WARC_SUFFIX
from storage.warc_records import KIND_HEADER

log = logging.getLogger(__name__)

# (stage, done, total): stage "scan" counts bytes of WARC files, "extract" and "versions" count
# items. The CLI draws it as a progress bar.
Progress = Callable[[str, int, int], None]

_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json")


@dataclass(slots=True)
class ScannedCapture:
    """A capture row being rebuilt (plain attributes: a million of these may be held)."""

    id: int
    url: str
    canonical_url: str
    fetched_at: datetime
    status: int
    mime: str | None
    content_length: int
    payload_digest: str
    record_id: str
    record_type: str
    refers_to: str | None
    warc_name: str
    offset: int
    length: int
    etag: str | None
    last_modified: str | None
    crawl_job_id: int | None
    kind: str = "page"
    recorded_kind: str | None = None  # WARC-Newsvault-Kind, in files written since it exists
    state: str = "pending"
    note: str | None = None
    version_id: int | None = None
    # A browser capture's rendered DOM record (urn:dom:, concurrent to this response).
    dom: tuple[str, int, int] | None = None  # (warc name, offset, length)


@dataclass(slots=True)
class ScannedConversion:
    """A conversion record: where it is and what reindex needs before reading it again."""

    record_id: str
    refers_to: str
    date: datetime
    warc_name: str
    offset: int
    length: int
    url: str
    number: int
    content_hash: str
    recognition: str = ""  # why processing took the page as an article
    id: int = 0  # the version id it becomes


# (name, state, size, created, closed): a warc_files row.
ScannedFile = tuple[str, str, int, datetime | None, datetime]


@dataclass
class WarcScan:
    files: list[ScannedFile] = field(default_factory=list)
    captures: list[ScannedCapture] = field(default_factory=list)
    conversions: list[ScannedConversion] = field(default_factory=list)
    records: int = 0
    problems: list[VerifyProblem] = field(default_factory=list)


@dataclass(frozen=True)
class NoVersion:
    """What a response that holds no version was: its processing state and note."""

    state: str  # skipped | error
    note: str


# A response's content hash (the cleaned text processing would store), or why it has none.
ContentHashOf = Callable[[ScannedCapture], str | NoVersion]


# -- scanning -------------------------------------------------------------------------------


def warc_paths(directory: Path) -> list[Path]:
    """Closed files and ``.open`` ones still being written, in name (= creation) order."""
    paths = [*directory.glob("*" + WARC_SUFFIX), *directory.glob("*" + WARC_SUFFIX + OPEN_SUFFIX)]
    return sorted(paths, key=lambda p: p.name)


def scan_warcs(directory: Path, jobs: set[int], progress: Progress | None = None) -> WarcScan:
    """Every file, capture and conversion record in ``directory``; ``jobs``: known job ids."""
    scan = WarcScan()
    paths = warc_paths(directory)
    total = sum(path.stat().st_size for path in paths)
    done = 0
    doms: dict[str, tuple[str, int, int]] = {}  # response record id -> its DOM record
    for path in paths:
        name = path.name.removesuffix(OPEN_SUFFIX)
        job: int | None = None
        created: datetime | None = None
        for record in iter_records(path, on_problem=scan.problems.append):
            scan.records += 1
            if record.rec_type == "warcinfo":
                created = created or record.date
                job = crawl_job_of(record, jobs)
            elif record.rec_type in ("response", "revisit"):
                scan.captures.append(scanned_capture(record, name, len(scan.captures) + 1, job))
            elif record.rec_type == "conversion":
                conversion = _conversion(record, name)
                if conversion is not None:
                    scan.conversions.append(conversion)
            elif (dom := dom_of(record, name)) is not None:
                doms[dom[0]] = dom[1]
            if progress is not None:
                progress("scan", done + record.offset + record.length, total)
        stat = path.stat()
        state = "open" if path.name.endswith(OPEN_SUFFIX) else "closed"
        closed_at = datetime.fromtimestamp(stat.st_mtime, UTC)
        scan.files.append((name, state, stat.st_size, created, closed_at))
        done += stat.st_size
    attach_doms(scan.captures, doms)
    return scan


def dom_of(record: IndexedRecord, warc_name: str) -> tuple[str, tuple[str, int, int]] | None:
    """A rendered-DOM record: (the response it belongs to, where the DOM is), else None."""
    if record.rec_type != "resource" or not record.concurrent_to:
        return None
    if not (record.target_uri or "").startswith(DOM_URN):
        return None
    return record.concurrent_to, (warc_name, record.offset, record.length)


def attach_doms(captures: list[ScannedCapture], doms: dict[str, tuple[str, int, int]]) -> None:
    """Point each browser capture at its rendered DOM (the DOM may sit in a later file)."""
    if doms:
        for cap in captures:
            cap.dom = doms.get(cap.record_id)


def crawl_job_of(record: IndexedRecord, jobs: set[int]) -> int | None:
    """The ``crawl-job`` field of a warcinfo record, if that job is still in the index."""
    for line in (record.payload or b"").decode("utf-8", "replace").splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == "crawl-job" and value.strip().isdigit():
            job = int(value.strip())
            return job if job in jobs else None
    return None


def scanned_capture(
    record: IndexedRecord, warc_name: str, capture_id: int, job: int | None
) -> ScannedCapture:
    """The capture row of a response or revisit record, before its kind and state are set."""
    from vocabulary.canonical import UnsupportedURL, canonicalize

    url = record.target_uri or ""
    try:
        canonical = canonicalize(url)
    except UnsupportedURL:
        canonical = url  # what the crawler stores for such a URL (crawler.middlewares)
    headers = record.http_headers
    assert record.date is not None, "WARC-Date is mandatory"
    return ScannedCapture(
        id=capture_id,
        url=url,
        canonical_url=canonical,
        fetched_at=record.date.astimezone(UTC),
        status=record.http_status or 0,
        mime=mime_type(_header(headers, "Content-Type")),
        content_length=record.payload_length,
        payload_digest=record.payload_digest or "",
        record_id=record.record_id,
        record_type=record.rec_type,
        refers_to=record.refers_to if record.rec_type == "revisit" else None,
        warc_name=warc_name,
        offset=record.offset,
        length=record.length,
        etag=_header(headers, "ETag"),
        last_modified=_header(headers, "Last-Modified"),
        crawl_job_id=job,
        recorded_kind=_header(record.warc_headers, KIND_HEADER),
    )


def _conversion(record: IndexedRecord, warc_name: str) -> ScannedConversion | None:
    if not record.refers_to or not (record.target_uri or "").startswith("urn:newsvault:version:"):
        return None
    try:
        document = json.loads(record.payload or b"")
        assert record.date is not None
        return ScannedConversion(
            record_id=record.record_id,
            refers_to=record.refers_to,
            date=record.date.astimezone(UTC),
            warc_name=warc_name,
            offset=record.offset,
            length=record.length,
            url=document["url"],
            number=int(document["version"]),
            content_hash=document["content_hash"],
            recognition=str((document.get("meta") or {}).get("recognition") or ""),
        )
    except (ValueError, KeyError, TypeError, AssertionError) as exc:
        log.warning("%s@%s: unreadable conversion record: %s", warc_name, record.offset, exc)
        return None


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers if key.lower() == wanted), None)


# -- deciding what each capture was ---------------------------------------------------------


def usable_conversions(scan: WarcScan) -> list[ScannedConversion]:
    """One conversion per (article, number) and per capture, in processing order.

    A retried processing step can leave two records for one version (written, then the
    database transaction failed); the later one is what the index held. Each kept one gets
    its version id, in that order.
    """
    known = {cap.record_id for cap in scan.captures}
    in_order = sorted(scan.conversions, key=processing_order)
    latest = {(c.url, c.number): c for c in in_order if c.refers_to in known}
    per_capture = {c.refers_to: c for c in sorted(latest.values(), key=processing_order)}
    ordered = sorted(per_capture.values(), key=processing_order)
    for number, conv in enumerate(ordered, start=1):
        conv.id = number
    return ordered


def processing_order(conv: ScannedConversion) -> tuple[datetime, str, int]:
    """The order processing stored the versions in: their conversion records' dates."""
    return conv.date, conv.warc_name, conv.offset


def infer_kind(cap: ScannedCapture) -> str:
    """The crawl-time kind: recorded in the WARC since it had the field, else guessed."""
    if cap.recorded_kind:
        return cap.recorded_kind
    path = cap.url.split("?", 1)[0]
    if path.endswith("/robots.txt"):
        return "robots"
    if cap.mime in _FEED_TYPES:
        return "feed"
    if cap.mime in ("application/xml", "text/xml") and "sitemap" in path.rsplit("/", 1)[-1]:
        return "sitemap"
    return "page"


def plan_capture(cap: ScannedCapture) -> None:
    """Set the kind and the processing state a capture had when the crawl indexed it."""
    cap.kind = infer_kind(cap)
    cap.state, cap.note = processing_plan(cap.status, cap.mime, cap.kind)


def link_versions(
    conversions: list[ScannedConversion], by_record: dict[str, ScannedCapture]
) -> None:
    """Captures that hold a version, and the plan (processing state) of all the others."""
    for cap in by_record.values():
        plan_capture(cap)
        if cap.record_type == "revisit":
            _revisit_fields(cap, by_record.get(cap.refers_to or ""))
    for conv in conversions:
        cap = by_record[conv.refers_to]
        cap.version_id, cap.kind = conv.id, cap.recorded_kind or "article"
        cap.state, cap.note = "done", version_note(conv.number, conv.recognition)


def _revisit_fields(cap: ScannedCapture, original: ScannedCapture | None) -> None:
    """What the archive copied from the earlier capture when it wrote the revisit."""
    if cap.status == 304:
        # storage.archive does the same: a 304 carries no Content-Type of its own, so it
        # takes the one of the page it confirms.
        cap.mime, cap.content_length = (original.mime if original else None), 0
    if original is not None:
        if cap.status != 304:
            cap.content_length = original.content_length
        cap.etag = cap.etag or original.etag
        cap.last_modified = cap.last_modified or original.last_modified
    if cap.state == "pending":
        cap.note = f"unchanged: revisit of {cap.refers_to}"


def link_unchanged(
    captures: list[ScannedCapture],
    conversions: list[ScannedConversion],
    by_record: dict[str, ScannedCapture],
    content_hash_of: ContentHashOf,
    progress: Progress | None = None,
) -> None:
    """Link processable responses that hold no version by content hash, then the revisits.

    ``content_hash_of`` is the caller's extraction (the pipeline's own, so both give the same
    answer for one record). A response whose hash matches no version was never processed: it
    stays ``pending``.
    """
    versions: dict[str, list[tuple[datetime, ScannedConversion]]] = defaultdict(list)
    for conv in conversions:
        versions[conv.url].append((by_record[conv.refers_to].fetched_at, conv))
    todo = [
        cap
        for cap in captures
        if cap.record_type == "response" and cap.state == "pending" and cap.version_id is None
    ]
    for number, cap in enumerate(todo, start=1):
        _match_response(cap, content_hash_of(cap), versions.get(cap.canonical_url, []))
        if progress is not None:
            progress("extract", number, len(todo))
    link_revisits(captures, by_record)


def _match_response(
    cap: ScannedCapture,
    answer: str | NoVersion,
    versions: list[tuple[datetime, ScannedConversion]],
) -> None:
    if isinstance(answer, NoVersion):
        cap.state, cap.note = answer.state, answer.note
        return
    matching = [(at, conv) for at, conv in versions if conv.content_hash == answer]
    if not matching:
        return  # an article that was never processed: stays pending
    # Processing compared it with the version current then: the latest one before it.
    earlier = [item for item in matching if item[0] <= cap.fetched_at]
    _, conv = max(earlier, key=lambda item: item[1].number) if earlier else matching[0]
    cap.version_id, cap.kind = conv.id, cap.recorded_kind or "article"
    cap.state, cap.note = "done", "unchanged"


def link_revisits(captures: list[ScannedCapture], by_record: dict[str, ScannedCapture]) -> None:
    """Revisits repeat the payload of the capture they refer to: they get its version."""
    for cap in captures:
        if cap.record_type != "revisit" or cap.state != "pending":
            continue
        original = by_record.get(cap.refers_to or "")
        if original is None or original.version_id is None:
            cap.state, cap.note = "skipped", "unchanged page that never held an article"
        else:
            cap.version_id, cap.kind = original.version_id, cap.recorded_kind or "article"
            cap.state, cap.note = "done", "unchanged"
