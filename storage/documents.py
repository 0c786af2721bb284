"""The JSON form of a stored version: what its conversion record holds and exports carry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from storage.models import Version

_DOCUMENT_FIELDS = (
    "number", "title", "text", "language", "authors", "published", "published_raw",
    "modified", "captured_at", "content_hash", "words_added", "words_removed", "meta", "html",
)  # fmt: skip


def version_document(version: Version | Mapping[str, Any], article_url: str) -> dict[str, Any]:
    """The cleaned version as JSON: what the conversion record holds and exports carry.

    ``version`` is a stored row or, while it is being stored, the column values.
    """
    if not isinstance(version, Mapping):
        version = {name: getattr(version, name) for name in _DOCUMENT_FIELDS}
    published, modified = version["published"], version["modified"]
    return {
        "url": article_url,
        "version": version["number"],
        "title": version["title"],
        "text": version["text"],
        "language": version["language"],
        "authors": version["authors"],
        "published": published.isoformat() if published else None,
        "published_raw": version["published_raw"],
        "modified": modified.isoformat() if modified else None,
        "captured_at": version["captured_at"].isoformat(),
        "content_hash": version["content_hash"],
        "words_added": version["words_added"],
        "words_removed": version["words_removed"],
        "meta": version["meta"],
        "html": version["html"],
    }


def version_note(number: int, recognition: str = "") -> str:
    """The note a capture that became version ``number`` carries: the number and the reason."""
    return f"version {number}: {recognition}" if recognition else f"version {number}"
