"""scheduled operation: crawl job kinds, leases, restarts, health; capture re-queue times

Revision ID: 0003
Revises: 0002

Columns only (nullable or with server defaults), so the upgrade is instant on a large index.
``captures.queued_at`` lets the reconciler re-queue a pending capture at most once per
interval; the crawl job columns let it restart crawls whose lease expired, once per attempt.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crawl_jobs") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=20), nullable=False, server_default="crawl")
        )
        batch.add_column(
            sa.Column("queued_at", storage.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("lease_owner", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("attempt", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("restart_of", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("health", sa.JSON(), nullable=True))
    op.create_index("ix_crawl_jobs_site_state", "crawl_jobs", ["site_id", "state"])
    with op.batch_alter_table("captures") as batch:
        batch.add_column(
            sa.Column("queued_at", storage.models.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("captures") as batch:
        batch.drop_column("queued_at")
    op.drop_index("ix_crawl_jobs_site_state", table_name="crawl_jobs")
    with op.batch_alter_table("crawl_jobs") as batch:
        for column in ("health", "restart_of", "attempt", "lease_owner", "queued_at", "kind"):
            batch.drop_column(column)
