"""Site health from crawl history: what users of other archivers discover months too late.

Three flags, each a pure function over a site's recent crawls (oldest first):

* stale source: crawls keep running but have found no new article for much longer than the
  site's usual rhythm (a feed or sitemap froze, or moved);
* extraction collapse: article pages suddenly stop yielding text, or much shorter text, than
  the site's history (a redesign broke extraction);
* error jump: the share of failed fetches is far above the site's usual share.

``load_history`` (the only I/O here) reads the records from the index.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime
from statistics import median
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from storage.models import Capture, CrawlJob, FetchEvent, Version

# A flag needs this many earlier crawls to compare against: no history, no judgement.
MIN_HISTORY = 3


@dataclass(frozen=True)
class CrawlRecord:
    """What health needs of one finished crawl."""

    job_id: int
    finished_at: datetime
    state: str
    pages: int  # responses archived
    errors: int  # failed fetches (fetch events)
    new_articles: int  # articles whose first version came from this crawl
    article_pages: int  # captures fetched as articles that processing finished
    empty_extractions: int  # ... of which yielded no article (not_article / error)
    mean_new_words: float | None  # mean length of the first versions created by this crawl


@dataclass(frozen=True)
class Flag:
    kind: str  # stale_source | extraction_collapse | error_jump
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "message": self.message}


def stale_source(
    history: list[CrawlRecord], now: datetime, *, factor: float = 3.0, floor_hours: float = 6.0
) -> Flag | None:
    """No new article for longer than ``factor`` times the usual gap between new articles."""
    finished = [r for r in history if r.state == "done"]
    found = [r.finished_at for r in finished if r.new_articles > 0]
    if len(found) < MIN_HISTORY:
        return None
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(found)]
    usual = max(median(gaps), 0.0)
    allowed = max(factor * usual, floor_hours * 3600)
    silent = (now - found[-1]).total_seconds()
    # Only a source that is still being crawled can be stale; a paused site is just paused.
    crawled_since = any(r.finished_at > found[-1] for r in finished)
    if crawled_since and silent > allowed:
        return Flag(
            "stale_source",
            f"no new article for {_hours(silent)} (usually every {_hours(usual)}); "
            "check the feeds and sitemaps",
        )
    return None


def extraction_collapse(
    history: list[CrawlRecord], *, empty_jump: float = 0.4, shrink: float = 0.5
) -> Flag | None:
    """The latest crawl's article pages came back empty, or much shorter, than usual."""
    if len(history) <= MIN_HISTORY:
        return None
    *earlier, latest = history
    if latest.article_pages == 0:
        return None
    past = [r for r in earlier if r.article_pages > 0]
    if len(past) < MIN_HISTORY:
        return None
    usual_empty = median(r.empty_extractions / r.article_pages for r in past)
    latest_empty = latest.empty_extractions / latest.article_pages
    if latest_empty - usual_empty >= empty_jump:
        return Flag(
            "extraction_collapse",
            f"{latest_empty:.0%} of article pages yielded no article (usually "
            f"{usual_empty:.0%}); the site may have been redesigned",
        )
    lengths = [r.mean_new_words for r in past if r.mean_new_words]
    if latest.mean_new_words and len(lengths) >= MIN_HISTORY:
        usual_words = median(lengths)
        if latest.mean_new_words < shrink * usual_words:
            return Flag(
                "extraction_collapse",
                f"new articles average {latest.mean_new_words:.0f} words (usually "
                f"{usual_words:.0f}); extraction may be missing the body",
            )
    return None


def error_jump(
    history: list[CrawlRecord], *, min_jump: float = 0.2, ratio: float = 2.0
) -> Flag | None:
    """The latest crawl's share of failed fetches is far above the site's usual share."""
    if len(history) <= MIN_HISTORY:
        return None
    *earlier, latest = history
    usual = median(_error_share(r) for r in earlier)
    share = _error_share(latest)
    if share - usual >= min_jump and share >= ratio * usual:
        return Flag(
            "error_jump",
            f"{share:.0%} of fetches failed in crawl {latest.job_id} (usually {usual:.0%})",
        )
    return None


def failing_repeatedly(history: list[CrawlRecord], *, times: int = 2) -> bool:
    """The last ``times`` crawls all failed."""
    tail = [r for r in history if r.state in ("done", "failed")][-times:]
    return len(tail) == times and all(r.state == "failed" for r in tail)


def evaluate(history: list[CrawlRecord], now: datetime) -> list[Flag]:
    flags = [stale_source(history, now), extraction_collapse(history), error_jump(history)]
    return [flag for flag in flags if flag is not None]


def _error_share(record: CrawlRecord) -> float:
    total = record.pages + record.errors
    return record.errors / total if total else 0.0


def _hours(seconds: float) -> str:
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"


# I/O -------------------------------------------------------------------------------------


def load_history(session: Session, site_id: int, *, limit: int = 30) -> list[CrawlRecord]:
    """The site's last ``limit`` finished crawls (done or failed), oldest first."""
    jobs = list(
        session.scalars(
            select(CrawlJob)
            .where(
                CrawlJob.site_id == site_id,
                CrawlJob.state.in_(("done", "failed")),
                CrawlJob.finished_at.is_not(None),
            )
            .order_by(CrawlJob.finished_at.desc())
            .limit(limit)
        )
    )
    if not jobs:
        return []
    ids = [job.id for job in jobs]
    pages = _per_job(
        session,
        select(Capture.crawl_job_id, func.count())
        .where(Capture.crawl_job_id.in_(ids))
        .group_by(Capture.crawl_job_id),
    )
    errors = _per_job(
        session,
        select(FetchEvent.crawl_job_id, func.count())
        .where(FetchEvent.crawl_job_id.in_(ids))
        .group_by(FetchEvent.crawl_job_id),
    )
    article_rows = session.execute(
        select(
            Capture.crawl_job_id,
            func.count(),
            func.sum(case((Capture.process_state.in_(("skipped", "error")), 1), else_=0)),
        )
        .where(
            Capture.crawl_job_id.in_(ids),
            Capture.kind == "article",
            Capture.process_state != "pending",
            Capture.record_type == "response",
        )
        .group_by(Capture.crawl_job_id)
    ).all()
    articles = {row[0]: (int(row[1]), int(row[2] or 0)) for row in article_rows}
    new_rows = session.execute(
        select(Capture.crawl_job_id, func.count(), func.avg(Version.words_added))
        .join(Version, Version.capture_id == Capture.id)
        .where(Capture.crawl_job_id.in_(ids), Version.number == 1)
        .group_by(Capture.crawl_job_id)
    ).all()
    new = {row[0]: (int(row[1]), float(row[2]) if row[2] is not None else None) for row in new_rows}
    records = []
    for job in reversed(jobs):
        assert job.finished_at is not None
        article_pages, empty = articles.get(job.id, (0, 0))
        new_count, mean_words = new.get(job.id, (0, None))
        records.append(
            CrawlRecord(
                job_id=job.id,
                finished_at=job.finished_at,
                state=job.state,
                pages=pages.get(job.id, 0),
                errors=errors.get(job.id, 0),
                new_articles=new_count,
                article_pages=article_pages,
                empty_extractions=empty,
                mean_new_words=mean_words,
            )
        )
    return records


def _per_job(session: Session, query: Any) -> dict[int, int]:
    return {int(row[0]): int(row[1]) for row in session.execute(query).all()}


def site_flags(session: Session, site_id: int, now: datetime) -> list[Flag]:
    return evaluate(load_history(session, site_id), now)
