"""Wayback-style routes: mementos (the memento page, rewritten replay, raw), TimeGates and
TimeMaps."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from newsvault.web import queries
from newsvault.web.deps import Config, ReadSession
from newsvault.web.memento import (
    LINK_FORMAT,
    MementoPath,
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
from newsvault.web.rewritten import rewritten_response
from newsvault.web.templating import page, page_csp
from processing.replay_urls import DOCUMENT_MODIFIERS, ArchiveLinks
from storage.models import Capture, Version
from storage.retrieval import NotArchived, capture_at, capture_timeline, closest_capture

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
    summary="A memento: the memento page, the rewritten page (mp_, im_, cs_...), or raw (id_)",
)
def memento(
    timestamp: str,
    url: str,
    request: Request,
    session: ReadSession,
    config: Config,
    sec_fetch_dest: Annotated[str | None, Header()] = None,
) -> Response:
    """``/web/20211101120000/URL``: the archive's memento page (banner, the page as captured,
    the cleaned text); ``/web/20211101120000mp_/URL`` the page as captured, rewritten to load
    only from the archive (``im_``, ``cs_``, ``js_``, ``oe_``, ``if_``, ``fr_`` for what it
    embeds); ``/web/20211101120000id_/URL`` the archived response byte for byte, sandboxed."""
    wanted = parse_memento_timestamp(timestamp)
    prefix = f"/web/{timestamp}/"
    replay_base = config.replay_origin
    # Captured bytes are served by the replay host only, when there is one (a separate
    # origin, reliability notes §6.3); the memento page is the archive's own.
    replay_here = not replay_base or _origin(request) == replay_base.rstrip("/")
    if wanted.modifier not in DOCUMENT_MODIFIERS and not wanted.raw:
        return _embedded(request, session, config, wanted, prefix, replay_here, sec_fetch_dest)
    captures = _timeline(session, original_url(request, prefix))
    capture = closest_capture(captures, wanted.when)
    urls = _urls(request, captures)
    bytes_base = replay_base if wanted.modifier else None
    if timestamp14(capture.fetched_at) != wanted.timestamp:
        # Name the memento exactly, so its URI and its Memento-Datetime agree.
        target = urls.memento(capture.fetched_at, modifier=wanted.modifier, base=bytes_base)
        return RedirectResponse(
            target, status_code=302, headers={"Link": timegate_links(urls, captures)}
        )
    if wanted.modifier and not replay_here:
        target = urls.memento(capture.fetched_at, modifier=wanted.modifier, base=replay_base)
        return RedirectResponse(target, 302)
    headers = {
        "Memento-Datetime": http_date(capture.fetched_at),
        "Link": memento_links(
            urls, captures, capture, raw=False, base=bytes_base, modifier=wanted.modifier
        ),
    }
    if wanted.modifier:
        return _captured(session, config, capture, wanted, headers, sec_fetch_dest)
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
            "frame_url": urls.memento(capture.fetched_at, modifier="mp_", base=replay_base),
            "timemap": urls.timemap,
            "previous": urls.memento(captures[index - 1].fetched_at) if index > 0 else None,
            "next": urls.memento(captures[index + 1].fetched_at)
            if index + 1 < len(captures)
            else None,
            "count": len(captures),
            "position": index + 1,
        },
        headers=headers,
        csp=page_csp(frame_src=replay_base),
    )


def _embedded(
    request: Request,
    session: ReadSession,
    config: Config,
    wanted: MementoPath,
    prefix: str,
    replay_here: bool,
    fetch_dest: str | None,
) -> Response:
    """An image, stylesheet, script, font... a replayed page embeds: the capture closest to
    the page's timestamp, served at once (no redirect per resource, as pywb does); its own
    memento URL is in Content-Location. Nothing archived is a 404: never the live web."""
    if not replay_here:
        assert config.replay_origin is not None
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        target = config.replay_origin + raw_path.decode("latin-1")
        if request.url.query:
            target += "?" + request.url.query
        return RedirectResponse(target, 302)
    url = original_url(request, prefix)
    try:
        capture = capture_at(session, url, wanted.when)
    except NotArchived as exc:
        raise HTTPException(404, f"{exc} (the archive never fetches from the live web)") from None
    urls = Urls(str(request.base_url).rstrip("/"), capture.canonical_url)
    headers = {
        "Memento-Datetime": http_date(capture.fetched_at),
        "Content-Location": urls.memento(capture.fetched_at, modifier=wanted.modifier),
        "Link": f'<{urls.original}>; rel="original", <{urls.timegate}>; rel="timegate", '
        f'<{urls.timemap}>; rel="timemap"; type="{LINK_FORMAT}"',
    }
    return _captured(session, config, capture, wanted, headers, fetch_dest)


def _captured(
    session: ReadSession,
    config: Config,
    capture: Capture,
    wanted: MementoPath,
    headers: dict[str, str],
    fetch_dest: str | None,
) -> Response:
    """The captured response: byte for byte (``id_``) or rewritten into the archive. A 304
    re-crawl serves the payload it confirmed, with that response's status."""
    source = payload_capture(session, capture)
    record = load_record(config.settings, source)
    status = source.status if capture.status == 304 else capture.status
    if wanted.raw:
        return raw_response(record, status, headers)
    return rewritten_response(
        record,
        status,
        page_url=capture.url,
        links=ArchiveLinks(wanted.timestamp),
        modifier=wanted.modifier,
        fetch_dest=fetch_dest,
        extra_headers=headers,
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
