"""The Jinja2 environment of the web UI: autoescaped templates, a few filters."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from newsvault.web.memento import timestamp14
from newsvault.web.render import text_direction

WEB_DIR = Path(__file__).resolve().parent

# Our own pages run no script and load nothing from elsewhere: archived <img> URLs in the
# cleaned HTML would otherwise reach the live web (and tell the site who is reading).
PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def page_csp(*, frame_src: str | None = None) -> str:
    """:data:`PAGE_CSP` for a page that frames a replayed capture (the memento page): from
    this origin, and from the replay origin when captures are served from one."""
    return f"{PAGE_CSP}; frame-src 'self'{' ' + frame_src if frame_src else ''}"


def _when(value: datetime | None, with_time: bool = True) -> str:
    if value is None:
        return ""
    return value.strftime("%Y-%m-%d %H:%M UTC" if with_time else "%Y-%m-%d")


templates = Jinja2Templates(directory=str(WEB_DIR / "templates"))
templates.env.autoescape = True  # every template, whatever its file name
templates.env.filters["when"] = _when
templates.env.filters["direction"] = text_direction
templates.env.filters["ts14"] = timestamp14


def page(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    csp: str = PAGE_CSP,
) -> HTMLResponse:
    """Render ``name`` with the shared security headers."""
    response = templates.TemplateResponse(
        request, name, context, status_code=status_code, headers=headers
    )
    response.headers["Content-Security-Policy"] = csp
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response
