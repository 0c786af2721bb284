"""The web UI: server-rendered pages for reading, searching and comparing (no JavaScript)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from newsvault.web import queries
from newsvault.web.deps import MAX_PAGE_SIZE, Config, ReadSession, parse_datetime
from newsvault.web.memento import Urls
from newsvault.web.render import paragraphs, side_by_side, text_direction
from newsvault.web.templating import page
from processing.diff import word_diff
from storage.search import BadQuery, search

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: ReadSession) -> HTMLResponse:
    recent = queries.list_articles(session, queries.ArticleFilters(), limit=20, cursor=None)
    return page(request, "home.html", {"recent": recent.items})


@router.get("/search", response_class=HTMLResponse)
def search_page(
    request: Request,
    session: ReadSession,
    q: str = "",
    site: str | None = None,
    lang: str | None = None,
    since: str | None = None,
    until: str | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
) -> HTMLResponse:
    context: dict[str, Any] = {
        "q": q,
        "site": site or "",
        "lang": lang or "",
        "since": since or "",
        "until": until or "",
        "results": [],
        "next_cursor": None,
        "message": None,
    }
    if q.strip():
        try:
            found = search(
                session,
                q,
                site=site or None,
                lang=lang or None,
                since=parse_datetime(since, "since"),
                until=parse_datetime(until, "until"),
                limit=limit,
                cursor=cursor,
            )
            context.update(results=found.results, next_cursor=found.next_cursor)
        except BadQuery as exc:
            context["message"] = str(exc)
    return page(request, "search.html", context)


@router.get("/articles/{article_id}", response_class=HTMLResponse)
def article_page(
    article_id: int, request: Request, session: ReadSession, config: Config
) -> HTMLResponse:
    article = queries.get_article(session, article_id)
    versions = queries.versions_of(session, article)
    current = next((v for v in versions if v.id == article.current_version_id), None)
    captures = queries.captures_of(session, article)
    urls = Urls("", article.canonical_url)
    return page(
        request,
        "article.html",
        {
            "article": article,
            "site": queries.site_name(session, article),
            "versions": versions,
            "current": current,
            "text": paragraphs(current.text if current else ""),
            "direction": text_direction(article.language),
            "cluster": queries.cluster_of(session, article),
            "captures": captures,
            "memento": lambda c: urls.memento(c.fetched_at),
            "raw": lambda c: urls.memento(c.fetched_at, raw=True, base=config.replay_origin),
            "timemap": urls.timemap,
        },
    )


@router.get("/articles/{article_id}/versions/{number}", response_class=HTMLResponse)
def version_page(
    article_id: int,
    number: int,
    request: Request,
    session: ReadSession,
    config: Config,
    view: str = "text",
) -> HTMLResponse:
    article = queries.get_article(session, article_id)
    version = queries.get_version(session, article, number)
    if view not in ("text", "html"):
        raise HTTPException(400, "view: use text or html")
    from newsvault.web.render import sanitize
    from storage.models import Capture

    capture = session.get(Capture, version.capture_id)
    urls = Urls("", article.canonical_url)
    return page(
        request,
        "version.html",
        {
            "article": article,
            "version": version,
            "view": view,
            "body": sanitize(version.html, article.canonical_url)
            if view == "html"
            else paragraphs(version.text),
            "direction": text_direction(version.language or article.language),
            "raw_url": urls.memento(capture.fetched_at, raw=True, base=config.replay_origin)
            if capture
            else None,
        },
    )


@router.get("/articles/{article_id}/diff", response_class=HTMLResponse)
def diff_page(
    article_id: int,
    request: Request,
    session: ReadSession,
    a: Annotated[int | None, Query(description="Older version.")] = None,
    b: Annotated[int | None, Query(description="Newer version.")] = None,
) -> HTMLResponse:
    """Two versions side by side: deletions marked on the left, insertions on the right."""
    article = queries.get_article(session, article_id)
    versions = queries.versions_of(session, article)
    if not versions:
        raise HTTPException(404, f"article {article_id} has no versions")
    new_number = b if b is not None else versions[-1].number
    old_number = a if a is not None else max(1, new_number - 1)
    old = queries.get_version(session, article, old_number)
    new = queries.get_version(session, article, new_number)
    diff = word_diff(old.text, new.text)
    left, right = side_by_side(diff)
    return page(
        request,
        "diff.html",
        {
            "article": article,
            "versions": versions,
            "old": old,
            "new": new,
            "left": left,
            "right": right,
            "added": diff.added,
            "removed": diff.removed,
            "direction": text_direction(article.language),
        },
    )


@router.get("/sites", response_class=HTMLResponse)
def sites_page(request: Request, session: ReadSession) -> HTMLResponse:
    return page(request, "sites.html", {"sites": queries.list_sites(session)})


@router.get("/sites/{name}", response_class=HTMLResponse)
def site_page(name: str, request: Request, session: ReadSession) -> HTMLResponse:
    site = queries.get_site(session, name)
    jobs = queries.list_jobs(session, site=name, limit=20).items
    recent = queries.list_articles(
        session, queries.ArticleFilters(site=name), limit=20, cursor=None
    )
    return page(request, "site.html", {"site": site, "jobs": jobs, "recent": recent.items})


@router.get("/crawls", response_class=HTMLResponse)
def crawls_page(request: Request, session: ReadSession, cursor: str | None = None) -> HTMLResponse:
    jobs = queries.list_jobs(session, limit=50, cursor=cursor)
    return page(request, "crawls.html", {"jobs": jobs.items, "next_cursor": jobs.next_cursor})


@router.get("/crawls/{job_id}", response_class=HTMLResponse)
def crawl_page(job_id: int, request: Request, session: ReadSession) -> HTMLResponse:
    job = queries.get_job(session, job_id)
    return page(
        request,
        "crawl.html",
        {
            "job": job,
            "counts": queries.job_counts(session, job),
            "errors": queries.job_errors(session, job),
        },
    )
