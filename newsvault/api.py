"""The archive over HTTP; the app lives in ``newsvault.web`` (kept here for ``newsvault serve``)."""

from __future__ import annotations

from newsvault.web.app import create_app

__all__ = ["create_app"]
