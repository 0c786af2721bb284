"""Storing a prepared batch of captures in one transaction: versions, revisits, clusters.

Why batches and Core statements: this is every worker's hot path, and per capture the
database work (a unit of work's bookkeeping, a commit, an fsync of the version record) cost
as much CPU and waiting as the extraction itself. A batch takes its locks in two statements,
inserts its versions in one, writes the rest (current versions, search documents, capture
states) in one statement each, and fsyncs the versions' WARC records once, after every
version of the batch is planned. The ORM models stay the schema's single description.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from processing.dedup import LshIndex, Signature, signature_from_bytes, signature_to_bytes
from processing.diff import word_diff
from processing.extract import ExtractedArticle
from storage.archive import sync_version_records, write_version_record
from storage.db import session_scope
from storage.documents import version_document, version_note
from storage.models import Article, Capture, Version
from storage.search import index_documents
from tasks.batch import Cleaned, Outcome, PendingCapture, Prepared, Rejected, Revisit
from tasks.clusters import join_clusters, join_late_candidates
from tasks.lsh import near_duplicate_index
from vocabulary.normalize import clean_text

if TYPE_CHECKING:
    from tasks.config import TasksConfig

log = logging.getLogger(__name__)

_captures = cast(Table, Capture.__table__)
_articles = cast(Table, Article.__table__)
_versions = cast(Table, Version.__table__)


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

    capture: PendingCapture
    item: Cleaned
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


# The transaction -----------------------------------------------------------------------------


def store_batch(
    prepared: list[tuple[PendingCapture, Prepared]], settings: TasksConfig
) -> dict[int, Outcome]:
    # Opened before the transaction: building the in-memory index reads the database, and a
    # second SQLite transaction inside this one would wait on its own write lock.
    index = near_duplicate_index(settings)
    outcomes: dict[int, Outcome] = {}
    writes = _Writes()
    with session_scope(settings.index_url) as session:
        pending = _claim(session, [capture.id for capture, _ in prepared])
        articles = _lock_articles(
            session,
            [c for c, item in prepared if c.id in pending and isinstance(item, Cleaned)],
        )
        revisits: list[PendingCapture] = []
        for capture, item in prepared:
            if capture.id not in pending:
                outcomes[capture.id] = Outcome(capture.id, "already_done")
            elif isinstance(item, Rejected):
                writes.mark(capture.id, item.state, item.note)
                outcomes[capture.id] = Outcome(capture.id, item.result, note=item.note)
            elif isinstance(item, Revisit):
                revisits.append(capture)
            else:
                article = articles[capture.canonical_url]
                outcomes[capture.id] = _plan_version(capture, item, article, writes)
        # Only now is every version of the batch decided: write their records, in batch order.
        for planned in writes.new_versions:
            planned.values.update(
                _write_conversion_record(planned.values, planned.capture, settings)
            )
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


def _lock_articles(session: Session, captures: list[PendingCapture]) -> dict[str, _ArticleState]:
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
    first: dict[str, PendingCapture] = {}
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


def _link_unchanged(session: Session, capture: PendingCapture, writes: _Writes) -> Outcome:
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
    capture: PendingCapture, item: Cleaned, article: _ArticleState, writes: _Writes
) -> Outcome:
    """Compare with the article's current version; plan a new version if the text changed.

    Plans only: its conversion record is written once the whole batch is planned.
    """
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
        note = version_note(number, planned.item.extracted.recognition)
        note += planned.item.charset_note
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
        "lead": clean_text(extracted.lead) if extracted.lead else None,  # the standfirst
        # Why the page was taken as an article: kept with the version (and in its WARC
        # conversion record, so a reindex shows the same reason).
        "recognition": extracted.recognition,
    }


def _write_conversion_record(
    values: dict[str, Any], capture: PendingCapture, settings: TasksConfig
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
