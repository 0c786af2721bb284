"""The JSON API under ``/api/``: read endpoints open (or token-protected), writes need the token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Query, Request, Response
from fastapi.responses import StreamingResponse

from crawler.sitedef import SiteDefinition
from newsvault.config import Settings
from newsvault.services import crawls, exports, sites
from newsvault.services.errors import Conflict, Invalid, NotFound, ServiceError
from newsvault.web import queries, serialize
from newsvault.web.deps import (
    MAX_PAGE_SIZE,
    Config,
    Reader,
    ReadSession,
    Writer,
    parse_datetime,
)
from newsvault.web.memento import Urls
from newsvault.web.replay import payload_capture
from processing.diff import render_html, word_diff
from storage.retrieval import NotArchived, capture_timeline, version_at
from storage.search import BadQuery, search

router = APIRouter(prefix="/api", tags=["api"], dependencies=[Reader])

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size.")]
Cursor = Annotated[str | None, Query(description="next_cursor of the previous page.")]
DateParam = Annotated[str | None, Query(description="ISO 8601 date or datetime (UTC if naive).")]


def urls_for(request: Request, original: str) -> Urls:
    return Urls(str(request.base_url).rstrip("/"), original)


@router.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


# --- sites ---------------------------------------------------------------------------------


@router.get("/sites")
def list_sites(session: ReadSession) -> dict[str, Any]:
    return {"sites": [serialize.site_json(o) for o in queries.list_sites(session)]}


@router.get("/sites/{name}")
def get_site(name: str, session: ReadSession) -> dict[str, Any]:
    site = queries.get_site(session, name)
    overview = next(o for o in queries.list_sites(session) if o.site.id == site.id)
    recent = queries.list_jobs(session, site=name, limit=20)
    return {
        **serialize.site_json(overview),
        "crawls": [serialize.job_json(j) for j in recent.items],
    }


def _http_error(error: ServiceError) -> HTTPException:
    status = {NotFound: 404, Conflict: 409, Invalid: 400}.get(type(error), 400)
    return HTTPException(status, str(error))


def _definition(definition: dict[str, Any], name: str | None = None) -> SiteDefinition:
    if name is not None:
        definition = {**definition, "name": definition.get("name", name)}
        if definition["name"] != name:
            raise HTTPException(
                400, f"name: the body says {definition['name']!r}, the URL {name!r}"
            )
    try:
        return sites.parse_definition(definition, source="site definition")
    except ServiceError as exc:
        raise _http_error(exc) from None


def _saved(settings: Settings, site: SiteDefinition, *, replace: bool) -> dict[str, Any]:
    try:
        saved = sites.save_site(settings, site, replace=replace)
    except ServiceError as exc:
        raise _http_error(exc) from None
    return {
        "id": saved.id,
        "name": saved.name,
        "definition": saved.definition,
        "schedule": saved.schedule.as_dict() if saved.schedule else None,
    }


@router.post("/sites", status_code=201, dependencies=[Writer])
def create_site(
    config: Config, definition: Annotated[dict[str, Any], Body(description="A site definition.")]
) -> dict[str, Any]:
    """Add a site; its ``schedule``, if any, goes to the running beat (as `sites add` does)."""
    return _saved(config.settings, _definition(definition), replace=False)


@router.put("/sites/{name}", dependencies=[Writer])
def replace_site(
    name: str, config: Config, definition: Annotated[dict[str, Any], Body()]
) -> dict[str, Any]:
    """Add or replace the site ``name`` (as `sites add --replace` does)."""
    return _saved(config.settings, _definition(definition, name), replace=True)


@router.delete("/sites/{name}", status_code=204, dependencies=[Writer])
def delete_site(
    name: str,
    config: Config,
    force: Annotated[bool, Query(description="Remove it even though it has captures.")] = False,
) -> Response:
    """Remove a site's definition and schedule; its captures stay (as `sites remove` does)."""
    try:
        sites.remove_site(config.settings, name, force=force)
    except ServiceError as exc:
        raise _http_error(exc) from None
    return Response(status_code=204)


# --- crawl jobs ----------------------------------------------------------------------------


@router.get("/crawls")
def list_crawls(
    session: ReadSession,
    limit: Limit = 50,
    cursor: Cursor = None,
    site: str | None = None,
    state: str | None = None,
) -> dict[str, Any]:
    page = queries.list_jobs(session, site=site, state=state, limit=limit, cursor=cursor)
    return {"crawls": [serialize.job_json(j) for j in page.items], "next_cursor": page.next_cursor}


@router.get("/crawls/{job_id}")
def get_crawl(job_id: int, session: ReadSession) -> dict[str, Any]:
    job = queries.get_job(session, job_id)
    return {
        **serialize.job_json(job),
        "counts": queries.job_counts(session, job),
        "errors": queries.job_errors(session, job),
    }


@router.post("/crawls", status_code=202, dependencies=[Writer])
def queue_crawl(
    request: Request,
    config: Config,
    target: Annotated[str, Body(embed=True, description="A site name or an http(s) URL.")],
) -> dict[str, Any]:
    try:
        job_id = crawls.create_job(config.settings, target, options={"source": "api"})
    except ServiceError as exc:
        raise _http_error(exc) from None
    request.app.state.launch_crawl(config.settings, job_id)
    return {"id": job_id, "state": "queued", "link": f"/api/crawls/{job_id}"}


# --- articles and versions -----------------------------------------------------------------


@router.get("/articles")
def list_articles(
    session: ReadSession,
    limit: Limit = 50,
    cursor: Cursor = None,
    site: str | None = None,
    language: str | None = None,
    published_since: DateParam = None,
    published_until: DateParam = None,
    captured_since: DateParam = None,
    captured_until: DateParam = None,
) -> dict[str, Any]:
    """Articles, newest first; filter by site, language, publication or capture dates."""
    filters = queries.ArticleFilters(
        site=site,
        language=language,
        published_since=parse_datetime(published_since, "published_since"),
        published_until=parse_datetime(published_until, "published_until"),
        captured_since=parse_datetime(captured_since, "captured_since"),
        captured_until=parse_datetime(captured_until, "captured_until"),
    )
    page = queries.list_articles(session, filters, limit=limit, cursor=cursor)
    return {
        "articles": [serialize.article_json(a, v, s) for a, v, s in page.items],
        "next_cursor": page.next_cursor,
    }


@router.get("/articles/{article_id}")
def get_article(article_id: int, request: Request, session: ReadSession) -> dict[str, Any]:
    """One article: its versions, the other URLs carrying the same story, its captures."""
    article = queries.get_article(session, article_id)
    versions = queries.versions_of(session, article)
    current = next((v for v in versions if v.id == article.current_version_id), None)
    urls = urls_for(request, article.canonical_url)
    return {
        **serialize.article_json(article, current, queries.site_name(session, article)),
        "version_list": [serialize.version_summary(v) for v in versions],
        "cluster_members": [
            {"id": other.id, "url": other.canonical_url, "title": other.title}
            for other in queries.cluster_of(session, article)
        ],
        "timemap": urls.timemap,
        "timegate": urls.timegate,
    }


@router.get("/articles/{article_id}/versions")
def list_versions(article_id: int, session: ReadSession) -> dict[str, Any]:
    article = queries.get_article(session, article_id)
    return {
        "article_id": article.id,
        "versions": [serialize.version_summary(v) for v in queries.versions_of(session, article)],
    }


@router.get("/articles/{article_id}/versions/{number}")
def get_version(article_id: int, number: int, session: ReadSession) -> dict[str, Any]:
    article = queries.get_article(session, article_id)
    return serialize.version_json(article, queries.get_version(session, article, number))


@router.get("/articles/{article_id}/diff")
def diff_versions(
    article_id: int,
    session: ReadSession,
    from_: Annotated[int, Query(alias="from", description="Older version number.")],
    to: Annotated[int, Query(description="Newer version number.")],
) -> dict[str, Any]:
    """Word diff of two versions: ops in reading order, counts, and an HTML rendering."""
    article = queries.get_article(session, article_id)
    old = queries.get_version(session, article, from_)
    new = queries.get_version(session, article, to)
    diff = word_diff(old.text, new.text)
    return {
        "article_id": article.id,
        "from": old.number,
        "to": new.number,
        "added": diff.added,
        "removed": diff.removed,
        "title_changed": old.title != new.title,
        "ops": [{"op": op.kind, "text": op.text} for op in diff.ops],
        "html": render_html(diff),
    }


@router.get("/show")
def show(url: str, session: ReadSession, at: DateParam = None) -> dict[str, Any]:
    """The version of ``url`` an archivist saw at ``at`` (closest capture), or the current one."""
    try:
        article, version = version_at(session, url, parse_datetime(at, "at"))
    except NotArchived as exc:
        raise HTTPException(404, str(exc)) from None
    return serialize.version_json(article, version)


# --- captures, search, exports --------------------------------------------------------------


@router.get("/captures")
def list_captures(
    url: str, request: Request, session: ReadSession, config: Config
) -> dict[str, Any]:
    """Every capture of ``url`` (any variant of it), oldest first, with memento URLs."""
    try:
        captures = capture_timeline(session, url)
    except NotArchived as exc:
        raise HTTPException(404, str(exc)) from None
    urls = urls_for(request, captures[0].canonical_url)
    return {
        "url": captures[0].canonical_url,
        "timemap": urls.timemap,
        "captures": [serialize.capture_json(c, urls, config.replay_origin) for c in captures],
    }


@router.get("/search")
def search_articles(
    session: ReadSession,
    q: Annotated[str, Query(min_length=1, max_length=500, description="Words to find.")],
    site: str | None = None,
    lang: str | None = None,
    since: DateParam = None,
    until: DateParam = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Full-text search; spelling variants, diacritics and case do not matter."""
    try:
        page = search(
            session,
            q,
            site=site,
            lang=lang,
            since=parse_datetime(since, "since"),
            until=parse_datetime(until, "until"),
            limit=limit,
            cursor=cursor,
        )
    except BadQuery as exc:
        raise HTTPException(400, str(exc)) from None
    return {
        "query": q,
        "results": [serialize.hit_json(h) for h in page.results],
        "next_cursor": page.next_cursor,
    }


@router.get("/export/versions.jsonl")
def export_versions(
    config: Config,
    site: str | None = None,
    language: str | None = None,
    since: DateParam = None,
    until: DateParam = None,
) -> StreamingResponse:
    """Every version (cleaned text and metadata) as JSON lines, oldest capture first.

    The same selection as ``newsvault export --format jsonl``: ``site`` is a site name or a
    host, ``since`` inclusive, ``until`` exclusive.
    """
    try:
        chosen = exports.selection(
            site=site,
            language=language,
            since=parse_datetime(since, "since"),
            until=parse_datetime(until, "until"),
        )
        documents = exports.version_documents(config.settings, chosen)
    except ServiceError as exc:
        raise _http_error(exc) from None

    def lines() -> Iterator[bytes]:
        for document in documents:
            yield (json.dumps(document, ensure_ascii=False) + "\n").encode()

    return StreamingResponse(
        lines(),
        media_type="application/x-ndjson; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="versions.jsonl"'},
    )


@router.get("/export/captures.warc.gz")
def export_warc(url: str, session: ReadSession, config: Config) -> StreamingResponse:
    """The WARC records of every capture of ``url``, byte for byte as stored (gzip members).

    Revisits are followed by the response records they refer to, so the file replays alone.
    """
    try:
        captures = capture_timeline(session, url)
    except NotArchived as exc:
        raise HTTPException(404, str(exc)) from None
    wanted: dict[tuple[str, int], int] = {}
    for capture in captures:
        for source in (payload_capture(session, capture), capture):
            wanted.setdefault((source.warc_name, source.warc_offset), source.warc_length)
    directory = config.settings.warc_dir

    def chunks() -> Iterator[bytes]:
        for (name, offset), length in wanted.items():
            yield _record_bytes(directory, name, offset, length)

    return StreamingResponse(
        chunks(),
        media_type="application/warc",
        headers={"Content-Disposition": 'attachment; filename="captures.warc.gz"'},
    )


def _record_bytes(directory: Any, name: str, offset: int, length: int) -> bytes:
    # A record is a self-contained gzip member: copying its bytes copies it exactly.
    for candidate in (name, name + ".open", name):
        try:
            with (directory / candidate).open("rb") as fh:
                fh.seek(offset)
                return fh.read(length)
        except FileNotFoundError:
            continue
    raise FileNotFoundError(name)
