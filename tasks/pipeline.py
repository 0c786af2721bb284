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

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Row, Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from processing.decode import DecodedPage, decode_html
from processing.dedup import (
    LshIndex,
    Signature,
    signature,
    signature_from_bytes,
    signature_to_bytes,
)
from processing.diff import word_diff
from processing.extract import ExtractedArticle, NotAnArticle, Selectors, extract_article
from storage.archive import sync_version_records, write_version_record
from storage.db import read_scope, session_scope
from storage.documents import version_document
from storage.models import Article, Capture, CrawlJob, Site, Version
from storage.search import index_documents
from storage.warc import read_record
from tasks.clusters import join_clusters, join_late_candidates
from tasks.lsh import near_duplicate_index
from vocabulary.normalize import clean_text, hash_of_keys, joined_key, matching_key

if TYPE_CHECKING:
    from tasks.config import TasksConfig

log = logging.getLogger(__name__)

_captures = cast(Table, Capture.__table__)
_articles = cast(Table, Article.__table__)
_versions = cast(Table, Version.__table__)
# A result row of any columns (SQLAlchemy 2.1 types rows by their column tuple).
AnyRow = Row[*tuple[Any, ...]]


@dataclass(frozen=True)
class Outcome:
    """What processing did with one capture, for summaries and tests."""

    capture_id: int
    # new_article | new_version | unchanged | not_article | skipped | already_done | error
    result: str
    article_id: int | None = None
    version: int | None = None
    note: str | None = None


@dataclass(frozen=True)
class _Capture:
    """The columns of a capture (and of its crawl's site) that processing reads."""

    id: int
    url: str
    canonical_url: str
    fetched_at: datetime
    kind: str
    record_type: str
    record_id: str
    refers_to_record_id: str | None
    warc_name: str
    warc_offset: int
    process_state: str
    site_id: int | None
    site: dict[str, Any]


@dataclass(frozen=True)
class _Rejected:
    """Extraction found no article, or failed: recorded on the capture, nothing stored."""

    state: str  # skipped | error
    result: str  # not_article | error
    note: str


@dataclass(frozen=True)
class _Revisit:
    """A revisit record: linked to the version its original payload became."""


@dataclass(frozen=True)
class _Cleaned:
    """An extracted article, cleaned and fingerprinted, ready to be stored."""

    extracted: ExtractedArticle
    title: str
    text: str
    digest: str  # content_hash: equal means unchanged
    key: str  # matching key of title and text: the search document and the signature's input
    sig: Signature
    charset_note: str


_Prepared = _Rejected | _Revisit | _Cleaned


@dataclass
class _ArticleState:
    """An article locked for the batch, with its current version; updated as versions land."""

    id: int
    version_count: int
    last_seen: datetime
    version_id: int | None
    content_hash: str | None
    text: str | None
    minhash: bytes | None
    # The current version when this batch made it: a _NewVersion not inserted yet.
    planned: _NewVersion | None = None


@dataclass
class _NewVersion:
    """A version planned in this batch: its row, inserted with the batch's other versions."""

    capture: _Capture
    item: _Cleaned
    article: _ArticleState
    values: dict[str, Any]
    previous_minhash: bytes | None
    version_id: int | None = None


@dataclass
class _Writes:
    """Rows a batch writes in one statement each, when its versions are stored."""

    captures: list[dict[str, Any]] = field(default_factory=list)
    last_seen: dict[int, datetime] = field(default_factory=dict)
    documents: list[tuple[int, int, str]] = field(default_factory=list)
    # (article id, signature, candidates not yet committed): joined after the commit.
    late_joins: list[tuple[int, Signature, tuple[int, ...]]] = field(default_factory=list)
    new_versions: list[_NewVersion] = field(default_factory=list)
    # Captures unchanged from a version this batch planned: marked once it has its id.
    unchanged_from_planned: list[tuple[int, str, _NewVersion]] = field(default_factory=list)

    def mark(self, capture_id: int, state: str, note: str, version_id: int | None = None) -> None:
        self.captures.append(
            {"b_id": capture_id, "b_state": state, "b_note": note, "b_version": version_id}
        )

    def seen(self, article_id: int, at: datetime) -> None:
        self.last_seen[article_id] = max(at, self.last_seen.get(article_id, at))


_MARK_CAPTURE = (
    update(_captures)
    .where(_captures.c.id == bindparam("b_id"))
    .values(
        process_state=bindparam("b_state"),
        process_note=bindparam("b_note"),
        version_id=bindparam("b_version"),
    )
)
_TOUCH_ARTICLE = (
    update(_articles)
    .where(_articles.c.id == bindparam("b_id"), _articles.c.last_seen < bindparam("b_seen"))
    .values(last_seen=bindparam("b_seen"))
)
# In the order of the rows given: SQLAlchemy's "insertmanyvalues" inserts them in one statement.
_INSERT_VERSION = _versions.insert().returning(_versions.c.id, sort_by_parameter_order=True)
_NEW_CURRENT_VERSION = (
    update(_articles)
    .where(_articles.c.id == bindparam("b_id"))
    .values(
        current_version_id=bindparam("b_version"),
        version_count=bindparam("b_number"),
        title=bindparam("b_title"),
        language=bindparam("b_language"),
    )
)


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
    prepared: list[tuple[_Capture, _Prepared]] = []
    for capture_id in ids:
        capture = captures.get(capture_id)
        if capture is None:
            outcomes[capture_id] = Outcome(capture_id, "error", note="no such capture in the index")
        elif capture.process_state != "pending":
            outcomes[capture_id] = Outcome(capture_id, "already_done", note=capture.process_state)
        else:
            prepared.append((capture, _prepare(capture, settings)))
    if prepared:
        outcomes.update(_store(prepared, settings))
    return [outcomes[capture_id] for capture_id in capture_ids]


def _read_captures(settings: TasksConfig, capture_ids: Sequence[int]) -> dict[int, _Capture]:
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
            CrawlJob.site_id,
            Site.definition,
        )
        .outerjoin(CrawlJob, CrawlJob.id == _captures.c.crawl_job_id)
        .outerjoin(Site, Site.id == CrawlJob.site_id)
        .where(_captures.c.id.in_(list(capture_ids)))
    )
    with read_scope(settings.index_url) as session:
        return {row.id: _capture_of(row) for row in session.execute(query)}


def _capture_of(row: AnyRow) -> _Capture:
    fields = row._asdict()
    site = dict(fields.pop("definition") or {})
    return _Capture(**fields, site=site)


# Steps before the transaction: extraction, cleaning, fingerprints -------------------------


def _prepare(capture: _Capture, settings: TasksConfig) -> _Prepared:
    if capture.record_type == "revisit":
        return _Revisit()
    try:
        page, extracted = extract_capture(
            settings,
            capture_id=capture.id,
            url=capture.url,
            warc_name=capture.warc_name,
            warc_offset=capture.warc_offset,
            kind=capture.kind,
            site=capture.site,
        )
    except Exception as exc:  # a bad record must never kill the worker; it is recorded
        log.exception("capture %s: extraction failed", capture.id)
        return _Rejected("error", "error", f"extraction failed: {exc}")
    # A charset that looked wrong (repaired or not) is recorded on the capture, never silent.
    charset_note = f"; charset: {page.note}" if page.note else ""
    if isinstance(extracted, NotAnArticle):
        return _Rejected("skipped", "not_article", extracted.reason + charset_note)
    title = clean_text(extracted.title)
    text = clean_text(extracted.text)
    title_key, text_key = matching_key(title), matching_key(text)
    # One key serves the signature and the search index (storage.search.document_key).
    key = joined_key(title_key, text_key)
    digest = hash_of_keys(title_key, text_key)
    return _Cleaned(extracted, title, text, digest, key, signature(key), charset_note)


def extract_capture(
    settings: TasksConfig,
    *,
    capture_id: int,
    url: str,
    warc_name: str,
    warc_offset: int,
    kind: str,
    site: dict[str, Any],
) -> tuple[DecodedPage, ExtractedArticle | NotAnArticle]:
    """Read an archived response and extract it under its site's definition.

    Also what ``newsvault reindex`` runs, so both give the same answer for one record.
    """
    record = read_record(settings.warc_dir, warc_name, warc_offset)
    language_hint = site.get("language")
    page = decode_html(
        record.decoded_payload(), record.header("Content-Type"), language_hint=language_hint
    )
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


# The transaction -----------------------------------------------------------------------------


def _store(prepared: list[tuple[_Capture, _Prepared]], settings: TasksConfig) -> dict[int, Outcome]:
    # Opened before the transaction: building the in-memory index reads the database, and a
    # second SQLite transaction inside this one would wait on its own write lock.
    index = near_duplicate_index(settings)
    outcomes: dict[int, Outcome] = {}
    writes = _Writes()
    with session_scope(settings.index_url) as session:
        pending = _claim(session, [capture.id for capture, _ in prepared])
        articles = _lock_articles(
            session,
            [c for c, item in prepared if c.id in pending and isinstance(item, _Cleaned)],
        )
        revisits: list[_Capture] = []
        for capture, item in prepared:
            if capture.id not in pending:
                outcomes[capture.id] = Outcome(capture.id, "already_done")
            elif isinstance(item, _Rejected):
                writes.mark(capture.id, item.state, item.note)
                outcomes[capture.id] = Outcome(capture.id, item.result, note=item.note)
            elif isinstance(item, _Revisit):
                revisits.append(capture)
            else:
                article = articles[capture.canonical_url]
                outcomes[capture.id] = _plan_version(capture, item, article, writes, settings)
        _insert_versions(session, writes, index)
        _mark_captures(session, writes)
        # After the marks: a revisit's original may be a capture of this batch.
        for capture in revisits:
            outcomes[capture.id] = _link_unchanged(session, capture, writes)
        _mark_captures(session, writes)
        # Before the commit: the version rows point at these records.
        sync_version_records(settings)
        index_documents(session, writes.documents)
        if writes.last_seen:
            session.execute(
                _TOUCH_ARTICLE,
                [{"b_id": id_, "b_seen": at} for id_, at in writes.last_seen.items()],
            )
    for article_id, sig, unseen in writes.late_joins:
        join_late_candidates(settings.index_url, article_id, sig, unseen)
    return outcomes


def _mark_captures(session: Session, writes: _Writes) -> None:
    if writes.captures:
        session.execute(_MARK_CAPTURE, writes.captures)
        writes.captures.clear()


def _claim(session: Session, capture_ids: list[int]) -> set[int]:
    """Lock the captures, in id order; returns those still pending (others are done).

    FOR UPDATE serialises workers on PostgreSQL (the id order keeps two overlapping batches
    from deadlocking); SQLite's BEGIN IMMEDIATE already has.
    """
    rows = session.execute(
        select(_captures.c.id, _captures.c.process_state)
        .where(_captures.c.id.in_(capture_ids))
        .order_by(_captures.c.id)
        .with_for_update()
    )
    return {capture_id for capture_id, state in rows if state == "pending"}


def _lock_articles(session: Session, captures: list[_Capture]) -> dict[str, _ArticleState]:
    """The articles of these captures' canonical URLs, locked, with their current versions.

    Existing ones are locked in URL order, so two batches sharing articles queue instead of
    deadlocking. Missing ones are created in the order of the batch, so article ids follow
    processing order as `newsvault reindex` replays it. Two workers creating one article
    race on the unique URL: ON CONFLICT DO NOTHING makes the loser wait for the winner's
    commit, then read its row.
    """
    urls = sorted({capture.canonical_url for capture in captures})
    if not urls:
        return {}
    found = _select_articles(session, urls)
    first: dict[str, _Capture] = {}
    for capture in captures:
        if capture.canonical_url not in found:
            first.setdefault(capture.canonical_url, capture)
    if first:
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        session.execute(
            dialect.insert(_articles).on_conflict_do_nothing(index_elements=["canonical_url"]),
            [
                {
                    "canonical_url": url,
                    "site_id": capture.site_id,
                    "first_seen": capture.fetched_at,
                    "last_seen": capture.fetched_at,
                    "version_count": 0,
                }
                for url, capture in first.items()
            ],
        )
        found.update(_select_articles(session, sorted(first)))
    return found


def _select_articles(session: Session, urls: list[str]) -> dict[str, _ArticleState]:
    rows = session.execute(
        select(
            _articles.c.canonical_url,
            _articles.c.id,
            _articles.c.version_count,
            _articles.c.last_seen,
            _versions.c.id.label("version_id"),
            _versions.c.content_hash,
            _versions.c.text,
            _versions.c.minhash,
        )
        .select_from(
            _articles.outerjoin(_versions, _versions.c.id == _articles.c.current_version_id)
        )
        .where(_articles.c.canonical_url.in_(urls))
        .order_by(_articles.c.canonical_url)
        .with_for_update(of=_articles)
    )
    return {url: _ArticleState(*state) for url, *state in rows}


def _link_unchanged(session: Session, capture: _Capture, writes: _Writes) -> Outcome:
    """A revisit repeats an earlier payload: link it to the version that payload became."""
    original = session.execute(
        select(_versions.c.id, _versions.c.number, _versions.c.article_id)
        .join(_captures, _captures.c.version_id == _versions.c.id)
        .where(_captures.c.record_id == capture.refers_to_record_id)
    ).first()
    if original is None:
        note = "unchanged page that never held an article"
        writes.mark(capture.id, "skipped", note)
        return Outcome(capture.id, "skipped", note=note)
    writes.mark(capture.id, "done", "unchanged", original.id)
    writes.seen(original.article_id, capture.fetched_at)
    return Outcome(capture.id, "unchanged", original.article_id, original.number)


def _plan_version(
    capture: _Capture,
    item: _Cleaned,
    article: _ArticleState,
    writes: _Writes,
    settings: TasksConfig,
) -> Outcome:
    """Compare with the article's current version; plan a new version if the text changed."""
    writes.seen(article.id, capture.fetched_at)
    if article.content_hash == item.digest:
        note = "unchanged" + item.charset_note
        if article.planned is not None:
            writes.unchanged_from_planned.append((capture.id, note, article.planned))
        else:
            writes.mark(capture.id, "done", note, article.version_id)
        return Outcome(capture.id, "unchanged", article.id, article.version_count)

    number = article.version_count + 1
    diff = word_diff(article.text, item.text) if article.text is not None else None
    extracted = item.extracted
    values: dict[str, Any] = {
        "article_id": article.id,
        "number": number,
        "capture_id": capture.id,
        "captured_at": capture.fetched_at,
        "content_hash": item.digest,
        "title": item.title,
        "text": item.text,
        "html": extracted.html,
        "language": extracted.language,
        "authors": list(extracted.authors),
        "published": extracted.published,
        "published_raw": extracted.published_raw,
        "modified": extracted.modified,
        "meta": _metadata(extracted),
        "words_added": diff.added if diff else len(item.text.split()),
        "words_removed": diff.removed if diff else 0,
        "minhash": signature_to_bytes(item.sig),
    }
    values.update(_write_conversion_record(values, capture, settings))
    planned = _NewVersion(capture, item, article, values, article.minhash)
    writes.new_versions.append(planned)
    # A later capture of this article in the batch compares with this version.
    article.version_count, article.planned = number, planned
    article.content_hash, article.text, article.minhash = item.digest, item.text, values["minhash"]
    result = "new_article" if number == 1 else "new_version"
    return Outcome(capture.id, result, article.id, number)


def _insert_versions(session: Session, writes: _Writes, index: LshIndex) -> None:
    """Insert the batch's versions, make them current, then cluster them, in batch order.

    Current before clustering: a capture of this batch may match an article of this batch.
    """
    if not writes.new_versions:
        return
    ids = session.execute(
        _INSERT_VERSION, [planned.values for planned in writes.new_versions]
    ).scalars()
    current: dict[int, _NewVersion] = {}
    for planned, version_id in zip(writes.new_versions, ids, strict=True):
        planned.version_id = version_id
        current[planned.article.id] = planned  # the last of an article's versions wins
        number = planned.values["number"]
        note = f"version {number}{planned.item.charset_note}"
        writes.mark(planned.capture.id, "done", note, version_id)
        writes.documents.append((version_id, planned.article.id, planned.item.key))
    for capture_id, note, planned in writes.unchanged_from_planned:
        writes.mark(capture_id, "done", note, planned.version_id)
    session.execute(
        _NEW_CURRENT_VERSION,
        [
            {
                "b_id": article_id,
                "b_version": planned.version_id,
                "b_number": planned.values["number"],
                "b_title": planned.values["title"],
                "b_language": planned.values["language"],
            }
            for article_id, planned in current.items()
        ],
    )
    updates = [
        (
            planned.article.id,
            planned.item.sig,
            signature_from_bytes(planned.previous_minhash) if planned.previous_minhash else None,
        )
        for planned in writes.new_versions
    ]
    for (article_id, sig, _), joined in zip(
        updates, join_clusters(session, updates, index), strict=True
    ):
        if joined.unseen:
            writes.late_joins.append((article_id, sig, joined.unseen))


def _metadata(extracted: ExtractedArticle) -> dict[str, Any]:
    return {
        "canonical_url": extracted.canonical_url,
        "section": extracted.section,
        "tags": list(extracted.tags),
        "top_image": extracted.top_image,
        "site_name": extracted.site_name,
    }


def _write_conversion_record(
    values: dict[str, Any], capture: _Capture, settings: TasksConfig
) -> dict[str, Any]:
    """Write the version's WARC conversion record; returns the columns that locate it."""
    document = version_document(values, capture.canonical_url)
    document["article_id"] = values["article_id"]
    document["capture_record_id"] = capture.record_id
    written = write_version_record(
        settings,
        refers_to=capture.record_id,
        target_uri=f"urn:newsvault:version:{values['article_id']}:{values['number']}",
        payload=json.dumps(document, ensure_ascii=False).encode("utf-8"),
    )
    return {
        "warc_name": written.warc_name,
        "warc_offset": written.offset,
        "warc_length": written.length,
        "record_id": written.record_id,
    }
