"""``process_captures``: archived responses become cleaned, deduplicated article versions.

The steps are plain functions in their own modules (decode, extract, normalize, dedup,
diff); this module only orders them and does the I/O around them. Each capture is extracted
and fingerprinted first, outside any transaction; then a batch of them is stored in one
transaction. It is idempotent: each capture's ``process_state`` is re-checked under a lock
before anything is written, so a second delivery, or two workers on one capture, store one
version.

Why batches and Core statements: this is every worker's hot path, and per capture the
database work (a unit of work's bookkeeping, a commit, an fsync of the version record) cost
as much CPU and waiting as the extraction itself. A batch takes its locks in two statements,
inserts its versions in one, writes the rest (current versions, search documents, capture
states) in one statement each, and fsyncs the versions' WARC records once. The ORM models
stay the schema's single description.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Row, Table, select

from processing.decode import DecodedPage, decode_html
from processing.dedup import signature
from processing.extract import ExtractedArticle, NotAnArticle, Selectors, extract_article
from storage.db import read_scope
from storage.models import Capture, CrawlJob, Site
from storage.warc import read_record
from tasks.batch import Cleaned, Outcome, PendingCapture, Prepared, Rejected, Revisit
from tasks.versioning import store_batch
from vocabulary.normalize import clean_text, hash_of_keys, joined_key, matching_key

if TYPE_CHECKING:
    from tasks.config import TasksConfig

__all__ = ["Outcome", "extract_capture", "process_capture", "process_captures"]

log = logging.getLogger(__name__)

_captures = cast(Table, Capture.__table__)
# A result row of any columns (SQLAlchemy 2.1 types rows by their column tuple).
AnyRow = Row[*tuple[Any, ...]]


def process_capture(capture_id: int, settings: TasksConfig) -> Outcome:
    """Process one capture; safe to call any number of times for the same id."""
    return process_captures([capture_id], settings)[0]


def process_captures(capture_ids: Sequence[int], settings: TasksConfig) -> list[Outcome]:
    """Process captures (one outcome each, in order); safe to repeat for the same ids.

    The batch is stored in one transaction: if that fails (the database or Redis went away),
    the error is raised and every capture of the batch stays pending, to be retried.
    """
    ids = list(dict.fromkeys(capture_ids))
    captures = _read_captures(settings, ids)
    outcomes: dict[int, Outcome] = {}
    prepared: list[tuple[PendingCapture, Prepared]] = []
    for capture_id in ids:
        capture = captures.get(capture_id)
        if capture is None:
            outcomes[capture_id] = Outcome(capture_id, "error", note="no such capture in the index")
        elif capture.process_state != "pending":
            outcomes[capture_id] = Outcome(capture_id, "already_done", note=capture.process_state)
        else:
            prepared.append((capture, _prepare(capture, settings)))
    if prepared:
        outcomes.update(store_batch(prepared, settings))
    return [outcomes[capture_id] for capture_id in capture_ids]


def _read_captures(settings: TasksConfig, capture_ids: Sequence[int]) -> dict[int, PendingCapture]:
    query = (
        select(
            _captures.c.id,
            _captures.c.url,
            _captures.c.canonical_url,
            _captures.c.fetched_at,
            _captures.c.kind,
            _captures.c.record_type,
            _captures.c.record_id,
            _captures.c.refers_to_record_id,
            _captures.c.warc_name,
            _captures.c.warc_offset,
            _captures.c.process_state,
            _captures.c.dom_warc_name,
            _captures.c.dom_warc_offset,
            CrawlJob.site_id,
            Site.definition,
        )
        .outerjoin(CrawlJob, CrawlJob.id == _captures.c.crawl_job_id)
        .outerjoin(Site, Site.id == CrawlJob.site_id)
        .where(_captures.c.id.in_(list(capture_ids)))
    )
    with read_scope(settings.index_url) as session:
        return {row.id: _capture_of(row) for row in session.execute(query)}


def _capture_of(row: AnyRow) -> PendingCapture:
    fields = row._asdict()
    site = dict(fields.pop("definition") or {})
    return PendingCapture(**fields, site=site)


# Steps before the transaction: extraction, cleaning, fingerprints -------------------------


def _prepare(capture: PendingCapture, settings: TasksConfig) -> Prepared:
    dom = _dom_of(capture.dom_warc_name, capture.dom_warc_offset)
    # A browser capture's page is often the same empty shell on every visit while its
    # article (fetched by scripts) changes: its rendered DOM is read even when the raw
    # response is a revisit.
    if capture.record_type == "revisit" and dom is None:
        return Revisit()
    try:
        page, extracted = extract_capture(
            settings,
            capture_id=capture.id,
            url=capture.url,
            warc_name=capture.warc_name,
            warc_offset=capture.warc_offset,
            kind=capture.kind,
            site=capture.site,
            dom=dom,
        )
    except Exception as exc:  # a bad record must never kill the worker; it is recorded
        log.exception("capture %s: extraction failed", capture.id)
        return Rejected("error", "error", f"extraction failed: {exc}")
    # A charset that looked wrong (repaired or not) is recorded on the capture, never silent.
    charset_note = f"; charset: {page.note}" if page.note else ""
    if isinstance(extracted, NotAnArticle):
        return Rejected("skipped", "not_article", extracted.reason + charset_note)
    title = clean_text(extracted.title)
    text = clean_text(extracted.text)
    title_key, text_key = matching_key(title), matching_key(text)
    # One key serves the signature and the search index (storage.search.document_key).
    key = joined_key(title_key, text_key)
    digest = hash_of_keys(title_key, text_key)
    return Cleaned(extracted, title, text, digest, key, signature(key), charset_note)


def _dom_of(name: str | None, offset: int | None) -> tuple[str, int] | None:
    return (name, offset) if name is not None and offset is not None else None


def extract_capture(
    settings: TasksConfig,
    *,
    capture_id: int,
    url: str,
    warc_name: str,
    warc_offset: int,
    kind: str,
    site: dict[str, Any],
    dom: tuple[str, int] | None = None,
) -> tuple[DecodedPage, ExtractedArticle | NotAnArticle]:
    """Read an archived response and extract it under its site's definition.

    ``dom``: where a browser capture's rendered DOM is (``resource`` record, WARC file name and
    offset); extraction then reads it instead of the raw response. Also what ``newsvault
    reindex`` runs, so both give the same answer for one record.
    """
    if dom is not None:
        rendered = read_record(settings.warc_dir, *dom)
        body, content_type = rendered.payload, rendered.warc_header("Content-Type")
    else:
        record = read_record(settings.warc_dir, warc_name, warc_offset)
        body, content_type = record.decoded_payload(), record.header("Content-Type")
    language_hint = site.get("language")
    page = decode_html(body, content_type, language_hint=language_hint)
    if page.suspicious:
        log.warning("capture %s: %s", capture_id, page.note)
    selectors = Selectors(**site["selectors"]) if site.get("selectors") else None
    return page, extract_article(
        page.text,
        url,
        selectors=selectors,
        language_hint=language_hint,
        route=kind,
    )
