"""Replaying conversion records into articles, versions and clusters (``newsvault reindex``).

Versions come from the ``conversion`` records (one JSON document per cleaned version), and
clusters are recomputed by replaying :func:`tasks.clusters.join_cluster` over the versions in
the order processing stored them (the conversion records' dates), so a rebuilt index clusters
exactly as processing did.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from processing.dedup import MemoryLshIndex, signature, signature_to_bytes
from storage.models import Article, CrawlJob, Version
from storage.warc import read_record
from storage.warc_scan import Progress, ScannedCapture, ScannedConversion
from tasks.clusters import join_cluster
from vocabulary.normalize import matching_key

if TYPE_CHECKING:
    from storage.config import StorageConfig


def replay_versions(
    session: Session,
    config: StorageConfig,
    conversions: list[ScannedConversion],
    by_record: dict[str, ScannedCapture],
    progress: Progress | None = None,
) -> tuple[int, int]:
    """Articles, versions and clusters, built in the order processing built them.

    Returns how many articles and clusters there are.
    """
    job_sites = dict(session.execute(select(CrawlJob.id, CrawlJob.site_id)).all())
    last_seen = _last_seen(by_record.values(), conversions)
    index = MemoryLshIndex()  # fresh: the old one holds the old article ids
    articles: dict[str, Article] = {}
    current_sig: dict[str, Any] = {}  # each article's current signature, as the index holds it
    for number, conv in enumerate(conversions, start=1):
        if progress is not None:
            progress("versions", number, len(conversions))
        cap = by_record[conv.refers_to]
        document = json.loads(read_record(config.warc_dir, conv.warc_name, conv.offset).payload)
        article = articles.get(conv.url)
        if article is None:
            article = Article(
                id=len(articles) + 1,
                canonical_url=conv.url,
                site_id=job_sites.get(cap.crawl_job_id) if cap.crawl_job_id else None,
                first_seen=cap.fetched_at,
                last_seen=last_seen[conv.url],
                version_count=0,
            )
            articles[conv.url] = article
            session.add(article)
        sig = signature(matching_key(f"{document['title'] or ''}\n{document['text']}"))
        version = _version(conv, cap, document, article.id, signature_to_bytes(sig))
        session.add(version)
        session.flush()  # the version row first: the article's current_version_id points at it
        if conv.number <= article.version_count:
            session.expunge(version)  # an older version stored late: not current, no clustering
            continue
        article.version_count = conv.number
        article.current_version_id = conv.id
        article.title = version.title
        article.language = version.language
        session.flush()
        previous = current_sig.get(conv.url)
        current_sig[conv.url] = sig
        join_cluster(session, article.id, sig, index, previous, created_at=conv.date)
        session.expunge(version)  # text and HTML of every version need not stay in memory
    session.flush()
    clusters = len({a.cluster_id for a in articles.values() if a.cluster_id is not None})
    return len(articles), clusters


def _last_seen(
    captures: Iterable[ScannedCapture], conversions: list[ScannedConversion]
) -> dict[str, datetime]:
    url_of = {conv.id: conv.url for conv in conversions}
    seen: dict[str, datetime] = {}
    for cap in captures:
        if cap.version_id is not None:
            url = url_of[cap.version_id]
            seen[url] = max(seen.get(url, cap.fetched_at), cap.fetched_at)
    return seen


def _version(
    conv: ScannedConversion,
    cap: ScannedCapture,
    document: dict[str, Any],
    article_id: int,
    minhash: bytes,
) -> Version:
    return Version(
        id=conv.id,
        article_id=article_id,
        number=conv.number,
        capture_id=cap.id,
        captured_at=cap.fetched_at,
        content_hash=conv.content_hash,
        title=document.get("title"),
        text=document.get("text") or "",
        html=document.get("html"),
        language=document.get("language"),
        authors=list(document.get("authors") or []),
        published=_when(document.get("published")),
        published_raw=document.get("published_raw"),
        modified=_when(document.get("modified")),
        meta=dict(document.get("meta") or {}),
        words_added=int(document.get("words_added") or 0),
        words_removed=int(document.get("words_removed") or 0),
        minhash=minhash,
        warc_name=conv.warc_name,
        warc_offset=conv.offset,
        warc_length=conv.length,
        record_id=conv.record_id,
    )


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
