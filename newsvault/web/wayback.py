"""Wayback-style routes: mementos (cleaned and raw), TimeGates and TimeMaps."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from newsvault.web import queries
from newsvault.web.deps import Config, ReadSession
from newsvault.web.memento import (
    LINK_FORMAT,
    Urls,
    http_date,
    memento_links,
    original_url,
    parse_accept_datetime,
    parse_memento_timestamp,
    timegate_links,
    timemap_json,
    timemap_link_format,
    timestamp14,
)
from newsvault.web.render import sanitize
from newsvault.web.replay import load_record, payload_capture, raw_response
from newsvault.web.templating import page
from storage.models import Capture, Version
from storage.retrieval import NotArchived, capture_timeline, closest_capture

router = APIRouter(tags=["memento"])


def _timeline(session: ReadSession, url: str) -> list[Capture]:
    try:
        return capture_timeline(session, url)
    except NotArchived as exc:
        raise HTTPException(404, str(exc)) from None


def _urls(request: Request, captures: list[Capture]) -> Urls:
    return Urls(str(request.base_url).rstrip("/"), captures[0].canonical_url)


@router.get(
    "/web/{timestamp}/{url:path}",
    summary="A memento: cleaned view, or raw with id_",
)
def memento(
    timestamp: str, url: str, request: Request, session: ReadSession, config: Config
) -> Response:
    """``/web/20211101120000/URL`` shows the cleaned article in the archive's banner;
    ``/web/20211101120000id_/URL`` the archived response byte for byte, sandboxed."""
    wanted = parse_memento_timestamp(timestamp)
    prefix = f"/web/{timestamp}/"
    captures = _timeline(session, original_url(request, prefix))
    capture = closest_capture(captures, wanted.when)
    urls = _urls(request, captures)
    replay_base = config.replay_origin
    if timestamp14(capture.fetched_at) != wanted.timestamp:
        # Name the memento exactly, so its URI and its Memento-Datetime agree.
        target = urls.memento(
            capture.fetched_at, raw=wanted.raw, base=replay_base if wanted.raw else None
        )
        return RedirectResponse(
            target, status_code=302, headers={"Link": timegate_links(urls, captures)}
        )
    if wanted.raw and replay_base and _origin(request) != replay_base.rstrip("/"):
        # Raw captures live on the replay host only (a separate origin, reliability notes §6.3).
        return RedirectResponse(urls.memento(capture.fetched_at, raw=True, base=replay_base), 302)
    headers = {
        "Memento-Datetime": http_date(capture.fetched_at),
        "Link": memento_links(
            urls, captures, capture, raw=wanted.raw, base=replay_base if wanted.raw else None
        ),
    }
    if wanted.raw:
        source = payload_capture(session, capture)
        record = load_record(config.settings, source)
        status = source.status if capture.status == 304 else capture.status
        return raw_response(record, status, headers)
    version = session.get(Version, capture.version_id) if capture.version_id else None
    article = None
    if version is not None:
        article = queries.get_article(session, version.article_id)
    index = next(i for i, c in enumerate(captures) if c.id == capture.id)
    return page(
        request,
        "memento.html",
        {
            "capture": capture,
            "version": version,
            "article": article,
            "body": sanitize(version.html, capture.canonical_url) if version else None,
            "raw_url": urls.memento(capture.fetched_at, raw=True, base=replay_base),
            "timemap": urls.timemap,
            "previous": urls.memento(captures[index - 1].fetched_at) if index > 0 else None,
            "next": urls.memento(captures[index + 1].fetched_at)
            if index + 1 < len(captures)
            else None,
            "count": len(captures),
            "position": index + 1,
        },
        headers=headers,
    )


def _origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


@router.get(
    "/timegate/{url:path}",
    summary="TimeGate: Accept-Datetime -> closest memento",
)
def timegate(
    url: str,
    request: Request,
    session: ReadSession,
    accept_datetime: Annotated[str | None, Header()] = None,
) -> Response:
    """302 to the memento closest to ``Accept-Datetime`` (the latest without one)."""
    when = parse_accept_datetime(accept_datetime)
    captures = _timeline(session, original_url(request, "/timegate/"))
    capture = closest_capture(captures, when) if when else captures[-1]
    urls = _urls(request, captures)
    return Response(
        status_code=302,
        headers={
            "Location": urls.memento(capture.fetched_at),
            "Vary": "accept-datetime",
            "Link": timegate_links(urls, captures),
        },
    )


@router.get(
    "/timemap/link/{url:path}",
    summary="TimeMap in application/link-format",
)
def timemap_link(url: str, request: Request, session: ReadSession) -> Response:
    captures = _timeline(session, original_url(request, "/timemap/link/"))
    return Response(timemap_link_format(_urls(request, captures), captures), media_type=LINK_FORMAT)


@router.get("/timemap/json/{url:path}", summary="TimeMap as JSON")
def timemap_as_json(url: str, request: Request, session: ReadSession) -> JSONResponse:
    captures = _timeline(session, original_url(request, "/timemap/json/"))
    return JSONResponse(timemap_json(_urls(request, captures), captures))


# Memento clients often ask with HEAD; the same handlers answer (the body is dropped).
for _path, _handler in (
    ("/web/{timestamp}/{url:path}", memento),
    ("/timegate/{url:path}", timegate),
    ("/timemap/link/{url:path}", timemap_link),
):
    router.add_api_route(_path, _handler, methods=["HEAD"], include_in_schema=False)
