"""Index rows as JSON-ready dicts (datetimes become ISO 8601 strings in FastAPI's encoder)."""

from __future__ import annotations

from typing import Any

from newsvault.web.memento import Urls, http_date
from newsvault.web.queries import SiteOverview
from newsvault.web.render import sanitize
from storage.models import Article, Capture, CrawlJob, Version
from storage.search import SearchHit


def article_json(article: Article, version: Version | None, site: str | None) -> dict[str, Any]:
    return {
        "id": article.id,
        "url": article.canonical_url,
        "title": article.title,
        "language": article.language,
        "site": site,
        "versions": article.version_count,
        "current_version": version.number if version else None,
        "published": version.published if version else None,
        "first_seen": article.first_seen,
        "last_seen": article.last_seen,
        "cluster": article.cluster_id,
        "links": {
            "self": f"/api/articles/{article.id}",
            "versions": f"/api/articles/{article.id}/versions",
            "page": f"/articles/{article.id}",
        },
    }


def version_summary(version: Version) -> dict[str, Any]:
    return {
        "number": version.number,
        "captured_at": version.captured_at,
        "title": version.title,
        "language": version.language,
        "published": version.published,
        "modified": version.modified,
        "words_added": version.words_added,
        "words_removed": version.words_removed,
        "content_hash": version.content_hash,
        "link": f"/api/articles/{version.article_id}/versions/{version.number}",
    }


def version_json(article: Article, version: Version) -> dict[str, Any]:
    """One version in full: cleaned text, metadata, and its body HTML sanitised afresh."""
    return {
        **version_summary(version),
        "article_id": article.id,
        "url": article.canonical_url,
        "text": version.text,
        "html": str(sanitize(version.html, article.canonical_url)),
        "authors": version.authors,
        "published_raw": version.published_raw,
        "meta": version.meta,
        "capture_id": version.capture_id,
        "warc": {
            "name": version.warc_name,
            "offset": version.warc_offset,
            "record_id": version.record_id,
        },
    }


def capture_json(capture: Capture, urls: Urls, replay_base: str | None) -> dict[str, Any]:
    return {
        "id": capture.id,
        "url": capture.url,
        "fetched_at": capture.fetched_at,
        "memento_datetime": http_date(capture.fetched_at),
        "status": capture.status,
        "mime_type": capture.mime_type,
        "record_type": capture.record_type,
        "payload_digest": capture.payload_digest,
        "crawl_job": capture.crawl_job_id,
        "process_state": capture.process_state,
        "memento": urls.memento(capture.fetched_at),
        "raw": urls.memento(capture.fetched_at, raw=True, base=replay_base),
        "warc": {"name": capture.warc_name, "offset": capture.warc_offset},
    }


def job_json(job: CrawlJob, site: str | None = None) -> dict[str, Any]:
    return {
        "id": job.id,
        "target": job.target,
        "site": site if site is not None else (job.site.name if job.site else None),
        "state": job.state,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "message": job.message,
        "stats": job.stats,
        "link": f"/api/crawls/{job.id}",
    }


def site_json(overview: SiteOverview) -> dict[str, Any]:
    site = overview.site
    return {
        "id": site.id,
        "name": site.name,
        "created_at": site.created_at,
        "articles": overview.articles,
        "definition": site.definition,
        "last_crawl": job_json(overview.last_job, site.name) if overview.last_job else None,
    }


def hit_json(hit: SearchHit) -> dict[str, Any]:
    return {
        "article_id": hit.article_id,
        "url": hit.url,
        "title": hit.title,
        "snippet_html": hit.snippet_html,
        "site": hit.site,
        "published": hit.published,
        "captured_at": hit.captured_at,
        "language": hit.language,
        "version": hit.version,
        "links": {
            "article": f"/api/articles/{hit.article_id}",
            "page": f"/articles/{hit.article_id}",
        },
    }
