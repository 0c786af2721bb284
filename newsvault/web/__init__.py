"""The archive's HTTP face: JSON API, Memento/Wayback URLs and the web UI (``create_app``)."""

from __future__ import annotations

from newsvault.web.app import create_app

__all__ = ["create_app"]
