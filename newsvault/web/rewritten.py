"""Rewritten replay: a capture served so that, in a browser, it loads nothing but the archive.

HTML and CSS are rewritten (``processing/replay_html.py``, ``processing/replay_css.py``) so
every URL they load or link to names the archive; images, fonts, scripts and media go out as
archived. Every response carries :data:`REWRITTEN_CSP`:

- ``sandbox`` without ``allow-scripts`` and without ``allow-same-origin``: no captured
  script runs, and the document gets an opaque origin, so even served from the archive's own
  host it cannot read the archive's cookies or storage, nor call its API as the reader. A
  sandboxed document also never follows a ``<meta http-equiv=refresh>`` (Chromium and Firefox),
  opens no popup and submits no form. ``allow-top-navigation-by-user-activation`` lets a click
  on a (rewritten) link replace the archive's framed memento page;
- fetches only from ``'self'`` (which CSP matches against the response's URL, not the opaque
  origin): whatever the rewriting missed is blocked instead of reaching the live web;
- no ``frame-ancestors``: a captured iframe inside the replay has the opaque origin for its
  ancestor, which no source expression matches. Framing the bare replay gains another site
  nothing (it has no actions, and no banner of the archive's); the archive's own pages, the
  memento page with its banner included, refuse every frame.

The opaque origin has two costs, both paid here: fonts load in CORS mode, so a request the
browser marks ``Sec-Fetch-Dest: font`` gets ``Access-Control-Allow-Origin: *`` (a script can
load a font that way but never read its bytes, so no site reads archived content through it); and no
``Cross-Origin-Resource-Policy`` header is sent (``same-site`` refuses an opaque requester).
"""

from __future__ import annotations

from fastapi import HTTPException, Response

from newsvault.web.replay import original_headers
from processing.decode import decode_html
from processing.replay_css import decode_css, rewrite_css
from processing.replay_html import REWRITE_ERRORS, rewrite_html
from processing.replay_urls import ArchiveLinks, Context
from storage.warc import StoredRecord

REWRITTEN_CSP = (
    "sandbox allow-top-navigation-by-user-activation; "
    "default-src 'self' data: blob:; script-src 'none'; connect-src 'none'; worker-src 'none'; "
    "style-src 'self' 'unsafe-inline' data:; frame-src 'self'; "
    "form-action 'self'; base-uri 'self'"
)
REWRITTEN_HEADERS = {
    "Content-Security-Policy": REWRITTEN_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-DNS-Prefetch-Control": "off",
    "Vary": "Sec-Fetch-Dest",
}
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


def rewritten_response(
    record: StoredRecord,
    status: int,
    *,
    page_url: str,
    links: ArchiveLinks,
    modifier: str,
    fetch_dest: str | None = None,
    extra_headers: dict[str, str] | None = None,
) -> Response:
    """The archived response ``record`` (fetched from ``page_url``) for a browser: HTML and CSS
    rewritten against ``links`` (the timestamp every URL they name aims at), the rest as
    archived, all under :data:`REWRITTEN_CSP`."""
    content_type = record.http_header("Content-Type") or ""
    mime = content_type.split(";", 1)[0].strip().lower()
    headers = dict(REWRITTEN_HEADERS)
    headers.update(original_headers(record.http_headers))
    if fetch_dest == "font":
        headers["Access-Control-Allow-Origin"] = "*"
    shown = status if 200 <= status < 600 and status not in (101, 204, 304) else 200
    if shown in _REDIRECTS:
        location = record.http_header("Location")
        target = links.rewrite(location, page_url, modifier, Context.LINK) if location else None
        if target is not None and target.startswith(links.prefix):
            headers["Location"] = target
    headers.update(extra_headers or {})
    if mime in _HTML_TYPES or (not mime and modifier in ("mp_", "if_", "fr_")):
        page = decode_html(_payload(record), content_type or None)
        try:
            text = rewrite_html(page.text, page_url, links)
        except REWRITE_ERRORS as exc:
            raise HTTPException(
                502, f"the archived page could not be rewritten ({exc}); its raw capture is at id_"
            ) from None
        headers["Content-Type"] = "text/html; charset=utf-8"
        return Response(text.encode("utf-8"), status_code=shown, headers=headers)
    if mime == "text/css" or (modifier == "cs_" and mime in ("", "text/plain")):
        css = decode_css(_payload(record), content_type or None)
        headers["Content-Type"] = "text/css; charset=utf-8"
        body = rewrite_css(css, page_url, links).encode("utf-8")
        return Response(body, status_code=shown, headers=headers)
    headers["Content-Type"] = content_type or "application/octet-stream"
    encoding = record.http_header("Content-Encoding")
    if encoding:
        headers["Content-Encoding"] = encoding
    return Response(record.payload, status_code=shown, headers=headers)


def _payload(record: StoredRecord) -> bytes:
    try:
        return record.decoded_payload()
    except (OSError, ValueError) as exc:  # a damaged gzip stream, an unknown coding
        raise HTTPException(
            502, f"the archived body cannot be decoded ({exc}); its raw capture is at id_"
        ) from None
