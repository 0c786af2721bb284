"""Index queries behind the API and the pages (one answer for both).

Lists use keyset pagination: ``(sort key, id)`` pairs, so a page never repeats or skips a
row when new ones arrive while someone pages through.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import HTTPException
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from newsvault.web.deps import MAX_ID, cursor_datetime, decode_cursor, encode_cursor
from storage.models import Article, Capture, CrawlJob, FetchEvent, Site, Version
from storage.search import AnySelect


@dataclass(frozen=True)
class ArticleFilters:
    site: str | None = None
    language: str | None = None
    published_since: datetime | None = None
    published_until: datetime | None = None
    captured_since: datetime | None = None
    captured_until: datetime | None = None


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_cursor: str | None


def _check_id(value: int, what: str) -> None:
    if not 1 <= value <= MAX_ID:
        raise HTTPException(404, f"no {what} {value}")


def _paged(rows: list[Any], limit: int, key: Any) -> Page:
    if len(rows) > limit:
        rows = rows[:limit]
        return Page(rows, encode_cursor(*key(rows[-1])))
    return Page(rows, None)


# --- articles ------------------------------------------------------------------------------


def list_articles(
    session: Session, filters: ArticleFilters, *, limit: int, cursor: str | None
) -> Page:
    """Articles with their current version, newest first (by first capture, then id)."""
    query: AnySelect = (
        select(Article, Version, Site.name)
        .outerjoin(Version, Version.id == Article.current_version_id)
        .outerjoin(Site, Site.id == Article.site_id)
    )
    if filters.site is not None:
        query = query.where(Site.name == filters.site)
    if filters.language is not None:
        query = query.where(Article.language == filters.language)
    if filters.published_since is not None:
        query = query.where(Version.published >= filters.published_since)
    if filters.published_until is not None:
        query = query.where(Version.published <= filters.published_until)
    if filters.captured_since is not None or filters.captured_until is not None:
        # Captured in the range: some capture of the article's URL falls inside it.
        conditions = [Capture.canonical_url == Article.canonical_url]
        if filters.captured_since is not None:
            conditions.append(Capture.fetched_at >= filters.captured_since)
        if filters.captured_until is not None:
            conditions.append(Capture.fetched_at <= filters.captured_until)
        query = query.where(exists().where(and_(*conditions)))
    after = decode_cursor(cursor, 2)
    if after is not None:
        seen, last_id = cursor_datetime(after[0]), after[1]
        query = query.where(
            or_(
                Article.first_seen < seen,
                and_(Article.first_seen == seen, Article.id < int(last_id)),
            )
        )
    rows = session.execute(
        query.order_by(Article.first_seen.desc(), Article.id.desc()).limit(limit + 1)
    ).all()
    return _paged(list(rows), limit, lambda row: (row[0].first_seen, row[0].id))


def get_article(session: Session, article_id: int) -> Article:
    _check_id(article_id, "article")
    article = session.get(Article, article_id)
    if article is None:
        raise HTTPException(404, f"no article {article_id}")
    return article


def get_version(session: Session, article: Article, number: int) -> Version:
    if not 1 <= number <= MAX_ID:
        raise HTTPException(404, f"article {article.id} has no version {number}")
    version = session.scalar(
        select(Version).where(Version.article_id == article.id, Version.number == number)
    )
    if version is None:
        raise HTTPException(
            404, f"article {article.id} has no version {number} (it has {article.version_count})"
        )
    return version


def versions_of(session: Session, article: Article) -> list[Version]:
    return list(
        session.scalars(
            select(Version).where(Version.article_id == article.id).order_by(Version.number)
        )
    )


def cluster_of(session: Session, article: Article) -> list[Article]:
    """The other articles carrying the same story (near-duplicates on other URLs)."""
    if article.cluster_id is None:
        return []
    return list(
        session.scalars(
            select(Article)
            .where(Article.cluster_id == article.cluster_id, Article.id != article.id)
            .order_by(Article.first_seen, Article.id)
        )
    )


def captures_of(session: Session, article: Article) -> list[Capture]:
    return list(
        session.scalars(
            select(Capture)
            .where(Capture.canonical_url == article.canonical_url)
            .order_by(Capture.fetched_at, Capture.id)
        )
    )


def site_name(session: Session, article: Article) -> str | None:
    if article.site_id is None:
        return None
    site = session.get(Site, article.site_id)
    return site.name if site else None


# --- sites and crawl jobs ------------------------------------------------------------------


@dataclass(frozen=True)
class SiteOverview:
    site: Site
    articles: int
    last_job: CrawlJob | None


def list_sites(session: Session) -> list[SiteOverview]:
    counts = dict(
        session.execute(
            select(Article.site_id, func.count(Article.id)).group_by(Article.site_id)
        ).all()
    )
    overviews = []
    for site in session.scalars(select(Site).order_by(Site.name)):
        last = session.scalar(
            select(CrawlJob)
            .where(CrawlJob.site_id == site.id)
            .order_by(CrawlJob.id.desc())
            .limit(1)
        )
        overviews.append(SiteOverview(site, counts.get(site.id, 0), last))
    return overviews


def get_site(session: Session, name: str) -> Site:
    site = session.scalar(select(Site).where(Site.name == name))
    if site is None:
        raise HTTPException(404, f"no site named {name!r}; GET /api/sites lists them")
    return site


def list_jobs(
    session: Session,
    *,
    site: str | None = None,
    state: str | None = None,
    limit: int,
    cursor: str | None = None,
) -> Page:
    """Crawl jobs, newest first."""
    query: AnySelect = select(CrawlJob)
    if site is not None:
        query = query.join(Site, Site.id == CrawlJob.site_id).where(Site.name == site)
    if state is not None:
        query = query.where(CrawlJob.state == state)
    after = decode_cursor(cursor, 1)
    if after is not None:
        if not isinstance(after[0], int):
            raise HTTPException(400, "cursor: not a cursor this server gave out")
        query = query.where(CrawlJob.id < after[0])
    jobs = list(session.scalars(query.order_by(CrawlJob.id.desc()).limit(limit + 1)))
    return _paged(jobs, limit, lambda job: (job.id,))


def get_job(session: Session, job_id: int) -> CrawlJob:
    _check_id(job_id, "crawl job")
    job = session.get(CrawlJob, job_id)
    if job is None:
        raise HTTPException(404, f"no crawl job {job_id}")
    return job


def job_errors(session: Session, job: CrawlJob, *, limit: int = 200) -> list[dict[str, Any]]:
    """What went wrong in a crawl: failed fetches, error responses, processing errors."""
    events = session.scalars(
        select(FetchEvent)
        .where(FetchEvent.crawl_job_id == job.id)
        .order_by(FetchEvent.id)
        .limit(limit)
    )
    errors: list[dict[str, Any]] = [
        {"kind": e.kind, "url": e.url, "at": e.at, "message": e.message} for e in events
    ]
    failed = session.scalars(
        select(Capture)
        .where(
            Capture.crawl_job_id == job.id,
            or_(Capture.process_state == "error", Capture.status >= 400),
        )
        .order_by(Capture.id)
        .limit(limit)
    )
    for capture in failed:
        kind = "http" if capture.status >= 400 else "processing"
        message = f"HTTP {capture.status}" if kind == "http" else capture.process_note or ""
        errors.append(
            {"kind": kind, "url": capture.url, "at": capture.fetched_at, "message": message}
        )
    return errors


def job_counts(session: Session, job: CrawlJob) -> dict[str, int]:
    def count(*conditions: Any) -> int:
        query = select(func.count(Capture.id)).where(Capture.crawl_job_id == job.id, *conditions)
        return session.scalar(query) or 0

    return {
        "captures": count(),
        "revisits": count(Capture.record_type == "revisit"),
        "processed": count(Capture.process_state != "pending"),
        "articles": count(Capture.version_id.is_not(None)),
    }
