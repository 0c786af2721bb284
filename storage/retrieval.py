"""Queries archivists ask of the index: what is archived, a URL's timeline, a version at a time.

Every function takes an open session and returns plain dataclasses, so the CLI, the HTTP API
and the tests share one answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ScalarSelect, or_, select, union_all
from sqlalchemy.orm import Session

from storage.models import Article, Capture, Version


class NotArchived(LookupError):
    """Nothing is archived under that URL; the message says what was looked for."""


@dataclass(frozen=True)
class ArticleSummary:
    id: int
    url: str
    title: str | None
    language: str | None
    versions: int
    first_seen: datetime
    last_seen: datetime
    cluster_id: int | None


@dataclass(frozen=True)
class Snapshot:
    capture_id: int
    url: str
    fetched_at: datetime
    status: int
    record_type: str
    payload_digest: str
    version: int | None
    changed: bool
    mime_type: str | None


def list_articles(session: Session, *, limit: int | None = None) -> list[ArticleSummary]:
    query = select(Article).order_by(Article.first_seen, Article.id)
    if limit is not None:
        query = query.limit(limit)
    return [_summary(article) for article in session.scalars(query)]


def _summary(article: Article) -> ArticleSummary:
    return ArticleSummary(
        id=article.id,
        url=article.canonical_url,
        title=article.title,
        language=article.language,
        versions=article.version_count,
        first_seen=article.first_seen,
        last_seen=article.last_seen,
        cluster_id=article.cluster_id,
    )


def url_variants(url: str) -> list[str]:
    """``url`` and its canonical form, so archivists may paste either."""
    from vocabulary.canonical import canonicalize

    variants = [url]
    try:
        canonical = canonicalize(url)
    except ValueError:
        return variants
    if canonical not in variants:
        variants.append(canonical)
    return variants


def find_article(session: Session, url: str) -> Article:
    variants = url_variants(url)
    article = session.scalar(select(Article).where(Article.canonical_url.in_(variants)))
    if article is None:
        # A capture under a variant URL knows the canonical one.
        canonical = session.scalar(
            select(Capture.canonical_url)
            .where(or_(Capture.url.in_(variants), Capture.canonical_url.in_(variants)))
            .limit(1)
        )
        if canonical is not None:
            article = session.scalar(select(Article).where(Article.canonical_url == canonical))
    if article is None:
        raise NotArchived(f"no article archived at {url}; `newsvault articles` lists them")
    return article


def _canonical_of(url: str) -> ScalarSelect[str]:
    """The canonical URL that captures of ``url`` (any variant) are filed under, as a subquery.

    A subquery rather than a query of its own: every round trip counts in a lookup that
    otherwise takes one or two, and both columns are indexed.
    """
    variants = url_variants(url)
    return (
        select(Capture.canonical_url)
        .where(or_(Capture.canonical_url.in_(variants), Capture.url.in_(variants)))
        .limit(1)
        .scalar_subquery()
    )


def capture_timeline(session: Session, url: str) -> list[Capture]:
    """Every capture of ``url`` (any variant), oldest first."""
    captures = list(
        session.scalars(
            select(Capture)
            .where(Capture.canonical_url == _canonical_of(url))
            .order_by(Capture.fetched_at, Capture.id)
        )
    )
    if not captures:
        raise NotArchived(f"nothing archived at {url}")
    return captures


def capture_at(session: Session, url: str, at: datetime, *, with_version: bool = False) -> Capture:
    """The capture of ``url`` closest to ``at`` (Memento: ties go to the earlier one).

    One query of two index range scans (the last capture at or before ``at``, the first
    after) instead of loading the URL's whole timeline: a front page has thousands.
    """
    canonical = _canonical_of(url)
    query = select(Capture.id).where(Capture.canonical_url == canonical)
    if with_version:
        query = query.where(Capture.version_id.is_not(None))
    before = (
        query.where(Capture.fetched_at <= at)
        .order_by(Capture.fetched_at.desc(), Capture.id.desc())
        .limit(1)
        .subquery()
    )
    after = (
        query.where(Capture.fetched_at > at)
        .order_by(Capture.fetched_at, Capture.id)
        .limit(1)
        .subquery()
    )
    ids = union_all(select(before.c.id), select(after.c.id)).subquery()
    candidates = list(session.scalars(select(Capture).where(Capture.id.in_(select(ids.c.id)))))
    if not candidates:
        raise NotArchived(f"nothing archived at {url}")
    return closest_capture(candidates, at)


def snapshots(session: Session, url: str) -> list[Snapshot]:
    """A URL's capture timeline with the version each capture held, in one query."""
    rows = session.execute(
        select(Capture, Version.number)
        .outerjoin(Version, Version.id == Capture.version_id)
        .where(Capture.canonical_url == _canonical_of(url))
        .order_by(Capture.fetched_at, Capture.id)
    ).all()
    if not rows:
        raise NotArchived(f"nothing archived at {url}")
    result: list[Snapshot] = []
    previous_version: int | None = None
    for capture, number in rows:
        changed = number is not None and number != previous_version
        if number is not None:
            previous_version = number
        result.append(
            Snapshot(
                capture_id=capture.id,
                url=capture.url,
                fetched_at=capture.fetched_at,
                status=capture.status,
                record_type=capture.record_type,
                payload_digest=capture.payload_digest,
                version=number,
                changed=changed,
                mime_type=capture.mime_type,
            )
        )
    return result


def payload_capture(session: Session, capture: Capture) -> Capture:
    """The capture holding ``capture``'s payload: itself, or for a revisit the one it repeats."""
    if capture.record_type != "revisit" or capture.refers_to_record_id is None:
        return capture
    original = session.scalar(
        select(Capture).where(Capture.record_id == capture.refers_to_record_id)
    )
    if original is None:
        raise NotArchived(
            f"revisit of {capture.url} refers to {capture.refers_to_record_id}, which is not "
            "in the index; run `newsvault reindex`"
        )
    return original


def closest_capture(captures: list[Capture], at: datetime) -> Capture:
    """Memento's rule: the capture closest in time to ``at``; a tie goes to the earlier one."""
    if not captures:
        raise NotArchived("no captures")
    return min(captures, key=lambda c: (abs((c.fetched_at - at).total_seconds()), c.fetched_at))


def version_at(session: Session, url: str, at: datetime | None = None) -> tuple[Article, Version]:
    """The version an archivist saw at ``at`` (closest article capture), or the current one."""
    article = find_article(session, url)
    if at is None:
        if article.current_version_id is None:
            raise NotArchived(f"{url} was archived but held no article text")
        version = session.get(Version, article.current_version_id)
        assert version is not None
        return article, version
    capture = capture_at(session, article.canonical_url, at, with_version=True)
    version = session.get(Version, capture.version_id)
    assert version is not None
    return article, version


def article_versions(session: Session, url: str) -> tuple[Article, list[Version]]:
    """The article at ``url`` (any variant) and all its versions, oldest first (for diffs)."""
    article = find_article(session, url)
    versions = list(
        session.scalars(
            select(Version).where(Version.article_id == article.id).order_by(Version.number)
        )
    )
    return article, versions
