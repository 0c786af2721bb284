"""The archive over HTTP: the JSON API, Memento and the web UI in one FastAPI app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from newsvault.config import Settings
from newsvault.services import crawls
from newsvault.web import api_routes, pages, wayback
from newsvault.web.deps import WebConfig
from newsvault.web.templating import WEB_DIR, page

# Paths whose clients are programs: errors there are JSON whatever the Accept header says.
_MACHINE_PREFIXES = ("/api/", "/timegate/", "/timemap/")


def create_app(
    settings: Settings,
    *,
    replay_origin: str | None = None,
    protect_reads: bool = False,
    launch_crawl: Callable[[Settings, int], None] | None = None,
) -> FastAPI:
    """The app for ``settings``.

    ``replay_origin`` (e.g. ``https://archive-content.example``) serves raw captures from a
    separate origin; ``protect_reads`` makes ``/api/`` GETs need the bearer token too;
    ``launch_crawl`` starts a queued crawl job (tests replace it).
    """
    app = FastAPI(
        title="newsvault",
        description=(
            "Archived news, every version. JSON under /api/, Memento (RFC 7089) TimeGates "
            "and TimeMaps, Wayback-style mementos under /web/, and a web UI."
        ),
        version="0.1.0",
    )
    replay_origin = replay_origin or settings.replay_origin
    protect_reads = protect_reads or settings.protect_reads
    app.state.web = WebConfig(
        settings=settings,
        replay_origin=replay_origin.rstrip("/") if replay_origin else None,
        protect_reads=protect_reads,
    )
    app.state.launch_crawl = launch_crawl or crawls.launch
    app.include_router(api_routes.router)
    app.include_router(wayback.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.middleware("http")(_json_nosniff)
    return app


def _wants_html(request: Request) -> bool:
    if request.url.path.startswith(_MACHINE_PREFIXES):
        return False
    return "text/html" in request.headers.get("accept", "")


def _error(request: Request, status: int, message: str, headers: dict[str, str] | None) -> Response:
    if _wants_html(request):
        return page(
            request,
            "error.html",
            {"status": status, "message": message},
            status_code=status,
            headers=headers,
        )
    return JSONResponse({"status": status, "message": message}, status_code=status, headers=headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    message = exc.detail if isinstance(exc.detail, str) else "error"
    if exc.status_code == 404 and message == "Not Found":
        message = f"nothing here: {request.url.path}; see /docs for the API"
    return _error(request, exc.status_code, message, getattr(exc, "headers", None))


async def _validation_error(request: Request, exc: Exception) -> Response:
    """Bad parameters are the client's mistake: 400 with one line per problem."""
    assert isinstance(exc, RequestValidationError)
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error.get("loc", ())[1:]) or "request"
        problems.append(f"{where}: {error.get('msg', 'invalid')}")
    return _error(request, 400, "; ".join(problems), None)


async def _json_nosniff(request: Request, call_next: Any) -> Response:
    response: Response = await call_next(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


__all__ = ["HTTPException", "create_app"]
