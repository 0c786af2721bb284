"""The archive over HTTP (FastAPI): JSON under ``/api/``; the archivists' issue deepens it."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException

from newsvault import output
from newsvault.config import Settings
from storage.db import session_scope
from storage.retrieval import NotArchived, list_articles, version_at


def create_app(settings: Settings) -> FastAPI:
    api = FastAPI(title="newsvault", description="Archived news, every version.")

    @api.get("/api/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @api.get("/api/articles")
    def articles(limit: int = 100) -> list[dict[str, Any]]:
        if not 1 <= limit <= 1000:
            raise HTTPException(400, "limit must be between 1 and 1000")
        with session_scope(settings.index_url) as session:
            return [output.article_dict(a) for a in list_articles(session, limit=limit)]

    @api.get("/api/show")
    def show(url: str) -> dict[str, Any]:
        with session_scope(settings.index_url) as session:
            try:
                article, version = version_at(session, url)
            except NotArchived as exc:
                raise HTTPException(404, str(exc)) from None
            return output.version_dict(article, version)

    return api
