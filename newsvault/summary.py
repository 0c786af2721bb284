"""What one crawl job did, counted from the index (the same numbers on every re-read)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from storage.models import Article, Capture, CrawlJob, FetchEvent, Version


@dataclass(frozen=True)
class ArticleLine:
    title: str | None
    url: str
    language: str | None
    version: int
    outcome: str  # new | changed | unchanged


@dataclass(frozen=True)
class JobSummary:
    job_id: int
    state: str
    target: str
    pages_fetched: int
    captures_archived: int
    revisits: int
    articles: int
    new_versions: int
    errors: int
    robots_refused: int
    not_articles: int
    articles_seen: list[ArticleLine] = field(default_factory=list)
    error_lines: list[str] = field(default_factory=list)


def summarize_job(session: Session, job_id: int) -> JobSummary:
    job = session.get(CrawlJob, job_id)
    if job is None:
        raise LookupError(f"no crawl job {job_id}")

    def count(*conditions: ColumnElement[bool]) -> int:
        query = select(func.count(Capture.id)).where(Capture.crawl_job_id == job_id, *conditions)
        return session.scalar(query) or 0

    all_events = session.scalars(select(FetchEvent).where(FetchEvent.crawl_job_id == job_id))
    # A link robots.txt forbids is politeness working, not an error.
    events = [e for e in all_events if e.kind != "robots"]
    robots_refused = session.scalar(
        select(func.count(FetchEvent.id)).where(
            FetchEvent.crawl_job_id == job_id, FetchEvent.kind == "robots"
        )
    )
    failed_captures = list(
        session.scalars(
            select(Capture).where(
                Capture.crawl_job_id == job_id,
                (Capture.process_state == "error") | (Capture.status >= 400),
            )
        )
    )
    lines = _article_lines(session, job_id)
    return JobSummary(
        job_id=job_id,
        state=job.state,
        target=job.target,
        pages_fetched=count() + sum(1 for e in events if e.kind != "ssrf"),
        captures_archived=count(),
        revisits=count(Capture.record_type == "revisit"),
        articles=len(lines),
        new_versions=sum(1 for line in lines if line.outcome != "unchanged"),
        errors=len(events) + len(failed_captures),
        robots_refused=robots_refused or 0,
        not_articles=count(
            Capture.process_state == "skipped", Capture.kind.in_(("article", "page"))
        ),
        articles_seen=lines,
        error_lines=[f"{e.kind}: {e.url}: {e.message}" for e in events]
        + [f"HTTP {c.status}: {c.url}" for c in failed_captures if c.status >= 400]
        + [f"processing: {c.url}: {c.process_note}" for c in failed_captures if c.status < 400],
    )


def _article_lines(session: Session, job_id: int) -> list[ArticleLine]:
    rows = session.execute(
        select(Capture, Version, Article)
        .join(Version, Version.id == Capture.version_id)
        .join(Article, Article.id == Version.article_id)
        .where(Capture.crawl_job_id == job_id)
        .order_by(Capture.id)
    ).all()
    lines: dict[int, ArticleLine] = {}
    for capture, version, article in rows:
        if version.capture_id == capture.id:
            outcome = "new" if version.number == 1 else "changed"
        else:
            outcome = "unchanged"
        previous = lines.get(article.id)
        if previous is None or previous.outcome == "unchanged":
            lines[article.id] = ArticleLine(
                title=article.title,
                url=article.canonical_url,
                language=article.language,
                version=version.number,
                outcome=outcome,
            )
    return list(lines.values())
