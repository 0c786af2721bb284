"""full-text search index

Revision ID: 0002
Revises: 0001

One search document per version, holding the matching key (vocabulary.normalize.matching_key) of
title + text: SQLite gets a contentless FTS5 table whose rowid is the version id; PostgreSQL a
table of tsvectors with a GIN index. Both are derived data (``rebuild_search_index``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # unicode61 without diacritic removal: the key is already folded, and unicode61's own
        # folding only knows Latin; contentless because snippets come from versions.text.
        op.execute(
            "CREATE VIRTUAL TABLE search_fts USING fts5("
            "key, content='', tokenize='unicode61 remove_diacritics 0')"
        )
    else:
        op.create_table(
            "search_documents",
            sa.Column(
                "version_id",
                sa.Integer(),
                sa.ForeignKey("versions.id", ondelete="CASCADE"),
                primary_key=True,
                autoincrement=False,
            ),
            sa.Column("article_id", sa.Integer(), nullable=False),
            sa.Column("document", sa.dialects.postgresql.TSVECTOR(), nullable=False),
        )
        op.create_index(
            "ix_search_documents_document",
            "search_documents",
            ["document"],
            postgresql_using="gin",
        )
        op.create_index("ix_search_documents_article", "search_documents", ["article_id"])
    _backfill(bind)


def _backfill(bind: sa.engine.Connection) -> None:
    """Index the versions stored before this migration."""
    from sqlalchemy.orm import Session

    from storage.search import rebuild_search_index

    session = Session(bind=bind)
    rebuild_search_index(session)
    session.flush()


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS search_fts")
    else:
        op.drop_table("search_documents")
