"""Raw replay: an archived response's bytes, served so its scripts can never run here.

Captured pages are attacker-controlled HTML (reliability notes §6). The payload goes out
byte for byte, with its archived Content-Type and Content-Encoding (a gzip body stays gzip,
with the header that says so), under ``Content-Security-Policy: sandbox``: the browser gives
the document an opaque origin and runs none of its scripts, so it can neither read this
origin's data nor call its API. No archived header that sets state (cookies, HSTS, CSP of
the original site) is passed on; the informative ones are kept as ``X-Archive-Orig-*``.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import HTTPException, Response
from sqlalchemy.orm import Session

from newsvault.config import Settings
from storage import retrieval
from storage.models import Capture
from storage.warc import CorruptRecordError, StoredRecord, read_record

REPLAY_SECURITY_HEADERS = {
    "Content-Security-Policy": "sandbox",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Resource-Policy": "same-site",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "SAMEORIGIN",
}
# Shown inline under the sandbox; anything else is offered as a download.
_INLINE_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "image/png", "image/jpeg",
                 "image/gif", "image/webp")  # fmt: skip
_ORIG_HEADERS = {"date", "last-modified", "etag", "server", "cache-control", "expires",
                 "content-language", "link", "location"}  # fmt: skip


def payload_capture(session: Session, capture: Capture) -> Capture:
    """The capture whose record holds the bytes: a revisit points at an earlier response."""
    try:
        return retrieval.payload_capture(session, capture)
    except retrieval.NotArchived as exc:
        raise HTTPException(404, str(exc)) from None


def load_record(settings: Settings, capture: Capture) -> StoredRecord:
    try:
        return read_record(settings.warc_dir, capture.warc_name, capture.warc_offset)
    except FileNotFoundError:
        raise HTTPException(
            410, f"the WARC file {capture.warc_name} holding this capture is missing"
        ) from None
    except CorruptRecordError as exc:
        raise HTTPException(502, f"the archived record is damaged: {exc}") from None


def raw_response(
    record: StoredRecord, status: int, extra_headers: dict[str, str] | None = None
) -> Response:
    content_type = record.http_header("Content-Type") or "application/octet-stream"
    # Set directly: Starlette would append "; charset=utf-8" to a text/* media_type, and a
    # page whose charset is only in its <meta> must not be relabelled.
    headers = {"Content-Type": content_type, **REPLAY_SECURITY_HEADERS}
    encoding = record.http_header("Content-Encoding")
    if encoding:
        headers["Content-Encoding"] = encoding
    mime = content_type.split(";", 1)[0].strip().lower()
    if mime not in _INLINE_TYPES:
        headers["Content-Disposition"] = "attachment"
    headers.update(original_headers(record.http_headers))
    headers.update(extra_headers or {})
    # The archived status, except codes that would make a browser act on archived headers.
    shown = status if 200 <= status < 600 and status not in (101, 204, 304) else 200
    return Response(record.payload, status_code=shown, headers=headers)


def original_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    kept: dict[str, str] = {}
    for name, value in headers:
        if name.lower() not in _ORIG_HEADERS:
            continue
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:
            continue
        kept[f"X-Archive-Orig-{name}"] = value.replace("\r", " ").replace("\n", " ")
    return kept
