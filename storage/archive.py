"""The raw archive as the crawler sees it: hand over a fetch, get a durable, indexed capture.

Order of durability (the WARC files are the source of truth): a fetch is written to the
process's own WARC file at once, but its index row is inserted only by :meth:`Archive.commit`,
after the file has been fsynced. A crash between the two loses index rows, never bytes, and
``newsvault reindex`` (or the ``.open`` recovery) brings them back.
"""

from __future__ import annotations

import base64
import hashlib
import socket
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session
from w3lib.url import safe_url_string

from storage.db import READ_ONLY, engine_for, session_scope
from storage.fetch import DOM_URN, SCREENSHOT_URN, Fetch, Rendering
from storage.models import Capture, FetchEvent, WarcFile, utcnow
from storage.warc import RevisitTarget, WarcWriter, WrittenRecord

if TYPE_CHECKING:
    from storage.config import StorageConfig

HTML_TYPES = ("text/html", "application/xhtml+xml")


def payload_digest(body: bytes) -> str:
    """The WARC payload digest of ``body``: ``sha1:`` and base32, as warcio writes it."""
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


def mime_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None


@dataclass(frozen=True)
class PriorCapture:
    """What the archive remembers of a URL's last full capture (for revisits and validators)."""

    record_id: str
    url: str
    date: datetime
    payload_digest: str
    etag: str | None
    last_modified: str | None
    mime_type: str | None = None


def processing_plan(status: int, mime: str | None, kind: str) -> tuple[str, str | None]:
    """Whether a capture goes to processing: ``("pending", None)`` or ``("skipped", reason)``.

    Every response is archived; only HTML pages that may be articles are processed.
    """
    if kind in ("feed", "sitemap", "robots"):
        return "skipped", f"{kind}, not an article page"
    if kind == "requisite":
        return "skipped", "loaded by a browser for a page, not an article page"
    if status == 304:
        return "pending", None  # unchanged: processing links it to the current version
    if status != 200:
        return "skipped", f"HTTP {status}"
    if mime not in HTML_TYPES:
        return "skipped", f"not HTML ({mime or 'no Content-Type'}): archived raw only"
    return "pending", None


class Archive:
    """Writes fetches to WARC and indexes them; one per crawl process (never shared)."""

    def __init__(
        self,
        settings: StorageConfig,
        *,
        crawl_job_id: int | None = None,
        prefix: str = "newsvault",
    ) -> None:
        settings.ensure_home()
        self._db_url = settings.index_url
        self._crawl_job_id = crawl_job_id
        # Files the writer finished (rotation or close), to mark closed in the index.
        self._closed: list[str] = []
        self._writer = WarcWriter(
            settings.warc_dir,
            prefix=prefix,
            max_size=settings.warc_max_size,
            fsync_every=settings.warc_fsync_every,
            info={"crawl-job": str(crawl_job_id)} if crawl_job_id else None,
            on_close=self._closed.append,
        )
        self._pending: list[Capture] = []
        self._pending_events: list[FetchEvent] = []
        self._known_files: set[str] = set()
        self._prior: dict[str, PriorCapture | None] = {}
        self._lookup = PriorLookup(self._db_url)

    # The sink protocol the crawler uses ----------------------------------------------------

    def add(self, fetch: Fetch) -> None:
        """Write ``fetch`` to the WARC file now; its index row waits for :meth:`commit`.

        A page a browser loaded (``fetch.rendering``) also gets its rendered DOM and its
        screenshot as ``resource`` records concurrent to its response, and every other
        exchange the browser had for it as a capture of its own (revisits of what this
        archive already holds, like any fetch).
        """
        digest = payload_digest(fetch.body)
        prior = self.prior_capture(fetch.canonical_url)
        revisit = _revisit_target(fetch, digest, prior)
        written = self._writer.write_exchange(fetch, revisit_of=revisit)
        row = self._capture_row(fetch, written, revisit, prior)
        self._pending.append(row)
        if fetch.rendering is not None:
            self._add_rendering(fetch, fetch.rendering, written, row)
        if revisit is None and fetch.status == 200:
            self._prior[fetch.canonical_url] = PriorCapture(
                record_id=written.record_id,
                url=fetch.url,
                date=written.date,
                payload_digest=written.payload_digest,
                etag=fetch.header("ETag"),
                last_modified=fetch.header("Last-Modified"),
                mime_type=mime_type(fetch.header("Content-Type")),
            )

    def _add_rendering(
        self, fetch: Fetch, rendering: Rendering, page: WrittenRecord, row: Capture
    ) -> None:
        if rendering.dom is not None:
            dom = self._writer.write_resource(
                target_uri=DOM_URN + safe_url_string(fetch.url),
                payload=rendering.dom,
                content_type="text/html; charset=utf-8",
                date=fetch.fetched_at,
                concurrent_to=page.record_id,
            )
            row.dom_warc_name, row.dom_warc_offset = dom.warc_name, dom.offset
            row.dom_warc_length = dom.length
        if rendering.screenshot is not None:
            self._writer.write_resource(
                target_uri=SCREENSHOT_URN + safe_url_string(fetch.url),
                payload=rendering.screenshot,
                content_type="image/png",
                date=fetch.fetched_at,
                concurrent_to=page.record_id,
            )
        for resource in rendering.resources:
            self.add(resource)

    def record_failure(self, url: str, kind: str, message: str) -> None:
        self._pending_events.append(
            FetchEvent(crawl_job_id=self._crawl_job_id, url=url, kind=kind, message=message)
        )

    def commit(self) -> list[int]:
        """Make every added fetch durable, then index it; returns the ids to process."""
        if not (self._pending or self._pending_events or self._closed):
            return []
        self._writer.sync()
        rows, self._pending = self._pending, []
        events, self._pending_events = self._pending_events, []
        with session_scope(self._db_url) as session:
            for name in {row.warc_name for row in rows} - self._known_files:
                if session.scalar(select(WarcFile.id).where(WarcFile.name == name)) is None:
                    session.add(WarcFile(name=name, state="open"))
                self._known_files.add(name)
            session.add_all(rows)
            session.add_all(events)
            session.flush()
            self._mark_closed(session)
            return [row.id for row in rows if row.process_state == "pending"]

    def close(self) -> list[int]:
        """Commit what is pending and close the WARC file (renamed from ``.open``)."""
        ids = self.commit()
        self._writer.close()
        with session_scope(self._db_url) as session:
            self._mark_closed(session)
        return ids

    def _mark_closed(self, session: Session) -> None:
        names, self._closed = self._closed, []
        for name in names:
            warc_file = session.scalar(select(WarcFile).where(WarcFile.name == name))
            if warc_file is not None:
                warc_file.state = "closed"
                warc_file.closed_at = utcnow()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # What the crawler asks before fetching -------------------------------------------------

    def prior_capture(self, canonical_url: str) -> PriorCapture | None:
        """The URL's last full 200 capture, from this crawl or the index."""
        if canonical_url not in self._prior:
            self._prior[canonical_url] = self._lookup(canonical_url)
        return self._prior[canonical_url]

    def validators(self, canonical_url: str) -> tuple[str | None, str | None] | None:
        """``(etag, last_modified)`` for a conditional re-fetch, or None for a first fetch."""
        prior = self.prior_capture(canonical_url)
        if prior is None or (prior.etag is None and prior.last_modified is None):
            return None
        return prior.etag, prior.last_modified

    # Helpers ---------------------------------------------------------------------------

    def _capture_row(
        self,
        fetch: Fetch,
        written: WrittenRecord,
        revisit: RevisitTarget | None,
        prior: PriorCapture | None,
    ) -> Capture:
        mime = mime_type(fetch.header("Content-Type"))
        state, note = processing_plan(fetch.status, mime, fetch.kind)
        if revisit is not None and state == "pending":
            note = "unchanged: revisit of " + revisit.record_id
        return Capture(
            crawl_job_id=self._crawl_job_id,
            # As in WARC-Target-URI: non-ASCII percent-encoded, so a reindex gives the same.
            url=safe_url_string(fetch.url),
            canonical_url=fetch.canonical_url,
            fetched_at=written.date,
            status=fetch.status,
            # A 304 carries no body: its media type is the one of the page it confirms.
            mime_type=prior.mime_type if fetch.status == 304 and prior else mime,
            content_length=len(fetch.body),
            payload_digest=revisit.payload_digest if revisit else written.payload_digest,
            record_id=written.record_id,
            record_type="revisit" if revisit else "response",
            refers_to_record_id=revisit.record_id if revisit else None,
            warc_name=written.warc_name,
            warc_offset=written.offset,
            warc_length=written.length,
            etag=fetch.header("ETag") or (prior.etag if prior else None),
            last_modified=fetch.header("Last-Modified") or (prior.last_modified if prior else None),
            kind=fetch.kind,
            process_state=state,
            process_note=note,
        )


def _revisit_target(fetch: Fetch, digest: str, prior: PriorCapture | None) -> RevisitTarget | None:
    if prior is None:
        return None
    if fetch.status == 304:
        profile = "server-not-modified"
    elif fetch.status == 200 and digest == prior.payload_digest:
        profile = "identical-payload-digest"
    else:
        return None
    return RevisitTarget(
        record_id=prior.record_id,
        target_uri=prior.url,
        date=prior.date,
        payload_digest=prior.payload_digest,
        profile=profile,
    )


_PRIOR_QUERY = (
    select(
        Capture.record_id,
        Capture.url,
        Capture.fetched_at,
        Capture.payload_digest,
        Capture.etag,
        Capture.last_modified,
        Capture.mime_type,
    )
    .where(
        Capture.canonical_url == bindparam("url"),
        Capture.status == 200,
        Capture.record_type == "response",
    )
    .order_by(Capture.fetched_at.desc())
    .limit(1)
)
_HOST_QUERY = (
    select(Capture.id)
    .where(Capture.canonical_url >= bindparam("low"), Capture.canonical_url < bindparam("high"))
    .limit(1)
)


class PriorLookup:
    """Finds a URL's last full capture in the index, cheaply: it runs once per fetched URL.

    A host the index has never seen answers "nothing" for all its URLs without a query each,
    which makes a first crawl pay for one query per host instead of one per page.
    """

    def __init__(self, db_url: str) -> None:
        self._engine = engine_for(db_url)
        self._known_hosts: dict[str, bool] = {}

    def __call__(self, canonical_url: str) -> PriorCapture | None:
        origin = _origin(canonical_url)
        with self._engine.connect().execution_options(**{READ_ONLY: True}) as connection:
            if origin not in self._known_hosts:
                # Every canonical URL of the origin sorts between "origin/" and "origin0".
                bounds = {"low": origin + "/", "high": origin + "0"}
                self._known_hosts[origin] = bool(connection.execute(_HOST_QUERY, bounds).first())
            if not self._known_hosts[origin]:
                return None
            row = connection.execute(_PRIOR_QUERY, {"url": canonical_url}).first()
        if row is None:
            return None
        return PriorCapture(
            record_id=row.record_id,
            url=row.url,
            date=_utc(row.fetched_at),
            payload_digest=row.payload_digest,
            etag=row.etag,
            last_modified=row.last_modified,
            mime_type=row.mime_type,
        )


def _origin(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def open_archive_for_job(settings: StorageConfig, job_id: int | None) -> Archive:
    """The archive a crawl process writes to: its own WARC file, indexed under ``job_id``."""
    return Archive(settings, crawl_job_id=job_id)


_version_writers: dict[Path, WarcWriter] = {}
# WarcWriter is not thread-safe; processing may run in threads (a thread pool, the tests), so
# the process's one version file is written under a lock.
_version_lock = threading.Lock()


def _version_writer(settings: StorageConfig) -> WarcWriter:
    directory = settings.warc_dir
    if directory not in _version_writers:
        settings.ensure_home()
        _version_writers[directory] = WarcWriter(
            directory,
            prefix="newsvault-versions",
            max_size=settings.warc_max_size,
            # Synced by sync_version_records, once per batch of versions: the caller knows
            # when its rows are about to point at the records.
            fsync_every=1 << 20,
            info={"hostname": socket.gethostname(), "content": "cleaned article versions"},
        )
    return _version_writers[directory]


def write_version_record(
    settings: StorageConfig, *, refers_to: str, target_uri: str, payload: bytes
) -> WrittenRecord:
    """Write a cleaned version as a ``conversion`` record in this process's file.

    Not yet durable: call :func:`sync_version_records` before committing an index row that
    points at it.
    """
    with _version_lock:
        return _version_writer(settings).write_conversion(
            refers_to=refers_to, target_uri=target_uri, payload=payload
        )


def sync_version_records(settings: StorageConfig) -> None:
    """Make every version record written so far durable (flush and fsync)."""
    with _version_lock:
        writer = _version_writers.get(settings.warc_dir)
        if writer is not None:
            writer.sync()


def close_version_writers() -> list[str]:
    closed: list[str] = []
    with _version_lock:
        for writer in _version_writers.values():
            closed.extend(writer.close())
        _version_writers.clear()
    return closed
