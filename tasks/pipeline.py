"""``process_capture``: one archived response becomes a cleaned, deduplicated article version.

The steps are plain functions in their own modules (decode, extract, normalize, dedup,
diff); this module only orders them and does the I/O around them. It is idempotent: the
capture's ``process_state`` is re-checked under a lock before anything is written, so a
second delivery, or two workers on one capture, store one version.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.archive import write_version_record
from storage.db import session_scope
from storage.models import Article, Capture, CrawlJob, Version
from storage.search import index_version
from storage.warc import read_record
from tasks.clusters import join_cluster
from tasks.decode import DecodedPage, decode_html
from tasks.dedup import (
    LshIndex,
    signature,
    signature_from_bytes,
    signature_to_bytes,
)
from tasks.diff import word_diff
from tasks.extract import ExtractedArticle, NotAnArticle, Selectors, extract_article
from tasks.lsh import near_duplicate_index
from tasks.normalize import clean_text, content_hash, matching_key

if TYPE_CHECKING:
    from newsvault.config import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What processing did with one capture, for summaries and tests."""

    capture_id: int
    # new_article | new_version | unchanged | not_article | skipped | already_done | error
    result: str
    article_id: int | None = None
    version: int | None = None
    note: str | None = None


def process_capture(capture_id: int, settings: Settings) -> Outcome:
    """Process one capture; safe to call any number of times for the same id."""
    with session_scope(settings.index_url) as session:
        capture = session.get(Capture, capture_id)
        if capture is None:
            return Outcome(capture_id, "error", note="no such capture in the index")
        if capture.process_state != "pending":
            return Outcome(capture_id, "already_done", note=capture.process_state)
        site = _site_definition(session, capture, settings.index_url)
        session.expunge(capture)

    if capture.record_type == "revisit":
        return _link_unchanged(capture, settings)
    try:
        page, extracted = _extract(capture, settings, site)
    except Exception as exc:  # a bad record must never kill the worker; it is recorded
        log.exception("capture %s: extraction failed", capture_id)
        return _finish(settings, capture_id, "error", f"extraction failed: {exc}")
    # A charset that looked wrong (repaired or not) is recorded on the capture, never silent.
    charset_note = f"; charset: {page.note}" if page.note else ""
    if isinstance(extracted, NotAnArticle):
        return _finish(settings, capture_id, "not_article", extracted.reason + charset_note)
    return _store_version(capture, extracted, settings, charset_note)


# Steps -------------------------------------------------------------------------------------


_site_definitions: dict[tuple[str, int], dict[str, Any]] = {}


def _site_definition(session: Session, capture: Capture, db_url: str) -> dict[str, Any]:
    """The site definition a capture was crawled under (cached: a job's site does not change)."""
    if capture.crawl_job_id is None:
        return {}
    job_id = capture.crawl_job_id
    key = (db_url, job_id)
    if key not in _site_definitions:
        job = session.get(CrawlJob, job_id)
        site = job.site if job is not None else None
        if len(_site_definitions) > 1000:
            _site_definitions.clear()
        _site_definitions[key] = dict(site.definition or {}) if site is not None else {}
    return _site_definitions[key]


def _extract(
    capture: Capture, settings: Settings, site: dict[str, Any]
) -> tuple[DecodedPage, ExtractedArticle | NotAnArticle]:
    record = read_record(settings.warc_dir, capture.warc_name, capture.warc_offset)
    language_hint = site.get("language")
    page = decode_html(
        record.decoded_payload(), record.header("Content-Type"), language_hint=language_hint
    )
    if page.suspicious:
        log.warning("capture %s: %s", capture.id, page.note)
    selectors = Selectors(**site["selectors"]) if site.get("selectors") else None
    return page, extract_article(
        page.text,
        capture.url,
        selectors=selectors,
        language_hint=language_hint,
        require_markers=capture.kind != "article",
    )


def _finish(settings: Settings, capture_id: int, result: str, note: str) -> Outcome:
    state = "error" if result == "error" else "skipped"
    with session_scope(settings.index_url) as session:
        capture = _lock_capture(session, capture_id)
        if capture is not None and capture.process_state == "pending":
            capture.process_state = state
            capture.process_note = note
    return Outcome(capture_id, result, note=note)


def _link_unchanged(capture: Capture, settings: Settings) -> Outcome:
    """A revisit repeats an earlier payload: link it to the version that payload became."""
    with session_scope(settings.index_url) as session:
        locked = _lock_capture(session, capture.id)
        if locked is None or locked.process_state != "pending":
            return Outcome(capture.id, "already_done")
        original = session.scalar(
            select(Capture).where(Capture.record_id == capture.refers_to_record_id)
        )
        if original is None or original.version_id is None:
            locked.process_state = "skipped"
            locked.process_note = "unchanged page that never held an article"
            return Outcome(capture.id, "skipped", note=locked.process_note)
        version = session.get(Version, original.version_id)
        assert version is not None
        locked.version_id = version.id
        locked.process_state = "done"
        locked.process_note = "unchanged"
        article = session.get(Article, version.article_id)
        if article is not None:
            article.last_seen = max(article.last_seen, capture.fetched_at)
        return Outcome(capture.id, "unchanged", version.article_id, version.number)


def _store_version(
    capture: Capture, extracted: ExtractedArticle, settings: Settings, charset_note: str = ""
) -> Outcome:
    title = clean_text(extracted.title)
    text = clean_text(extracted.text)
    digest = content_hash(title, text)
    sig = signature(matching_key(title + "\n" + text))
    canonical = capture.canonical_url
    # Opened before the transaction: building the in-memory index reads the database, and a
    # second SQLite transaction inside this one would wait on its own write lock.
    index = near_duplicate_index(settings)

    with session_scope(settings.index_url) as session:
        locked = _lock_capture(session, capture.id)
        if locked is None or locked.process_state != "pending":
            return Outcome(capture.id, "already_done")
        article = _article_for(session, canonical, capture)
        current = (
            session.get(Version, article.current_version_id) if article.current_version_id else None
        )
        article.last_seen = max(article.last_seen, capture.fetched_at)
        if current is not None and current.content_hash == digest:
            locked.version_id = current.id
            locked.process_state = "done"
            locked.process_note = "unchanged" + charset_note
            return Outcome(capture.id, "unchanged", article.id, current.number)

        diff = word_diff(current.text, text) if current is not None else None
        version = Version(
            article_id=article.id,
            number=article.version_count + 1,
            capture_id=capture.id,
            captured_at=capture.fetched_at,
            content_hash=digest,
            title=title,
            text=text,
            html=extracted.html,
            language=extracted.language,
            authors=list(extracted.authors),
            published=extracted.published,
            published_raw=extracted.published_raw,
            modified=extracted.modified,
            meta=_metadata(extracted),
            words_added=diff.added if diff else len(text.split()),
            words_removed=diff.removed if diff else 0,
            minhash=signature_to_bytes(sig),
        )
        session.add(version)
        session.flush()
        index_version(session, article, version)
        _write_conversion_record(version, capture, settings)
        article.current_version_id = version.id
        article.version_count = version.number
        article.title = title
        article.language = extracted.language
        locked.version_id = version.id
        locked.process_state = "done"
        locked.process_note = f"version {version.number}{charset_note}"
        previous_sig = (
            signature_from_bytes(current.minhash) if current and current.minhash else None
        )
        _join_cluster(session, index, article, sig, previous_sig)
        result = "new_article" if version.number == 1 else "new_version"
        return Outcome(capture.id, result, article.id, version.number)


def _lock_capture(session: Session, capture_id: int) -> Capture | None:
    # FOR UPDATE serialises workers on PostgreSQL; SQLite's BEGIN IMMEDIATE already has.
    return session.get(Capture, capture_id, with_for_update=True)


def _article_for(session: Session, canonical_url: str, capture: Capture) -> Article:
    article = session.scalar(
        select(Article).where(Article.canonical_url == canonical_url).with_for_update()
    )
    if article is None:
        site_id = None
        if capture.crawl_job_id is not None:
            job = session.get(CrawlJob, capture.crawl_job_id)
            site_id = job.site_id if job else None
        article = Article(
            canonical_url=canonical_url,
            site_id=site_id,
            first_seen=capture.fetched_at,
            last_seen=capture.fetched_at,
        )
        session.add(article)
        session.flush()
    return article


def _metadata(extracted: ExtractedArticle) -> dict[str, Any]:
    return {
        "canonical_url": extracted.canonical_url,
        "section": extracted.section,
        "tags": list(extracted.tags),
        "top_image": extracted.top_image,
        "site_name": extracted.site_name,
    }


def version_document(version: Version, article_url: str) -> dict[str, Any]:
    """The cleaned version as JSON: what the conversion record holds and exports carry."""
    return {
        "url": article_url,
        "version": version.number,
        "title": version.title,
        "text": version.text,
        "language": version.language,
        "authors": version.authors,
        "published": version.published.isoformat() if version.published else None,
        "published_raw": version.published_raw,
        "modified": version.modified.isoformat() if version.modified else None,
        "captured_at": version.captured_at.isoformat(),
        "content_hash": version.content_hash,
        "words_added": version.words_added,
        "words_removed": version.words_removed,
        "meta": version.meta,
        "html": version.html,
    }


def _write_conversion_record(version: Version, capture: Capture, settings: Settings) -> None:
    document = version_document(version, capture.canonical_url)
    document["article_id"] = version.article_id
    document["capture_record_id"] = capture.record_id
    written = write_version_record(
        settings,
        refers_to=capture.record_id,
        target_uri=f"urn:newsvault:version:{version.article_id}:{version.number}",
        payload=json.dumps(document, ensure_ascii=False).encode("utf-8"),
    )
    version.warc_name = written.warc_name
    version.warc_offset = written.offset
    version.warc_length = written.length
    version.record_id = written.record_id


def _join_cluster(
    session: Session, index: LshIndex, article: Article, sig: Any, previous_sig: Any
) -> None:
    """Near-duplicates on other URLs join one cluster; nothing is ever dropped.

    The rule lives in tasks/clusters.py, shared with ``newsvault reindex``.
    """
    join_cluster(session, article, sig, index, previous_sig)
