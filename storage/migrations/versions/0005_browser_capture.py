"""browser capture: where a capture's rendered DOM is

Revision ID: 0005
Revises: 0003

Columns only (nullable), so the upgrade is instant on a large index. A capture made by a
browser (a site with ``capture = "browser"``) points at the ``resource`` record holding its
rendered DOM; processing extracts from that record instead of the raw response.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("captures") as batch:
        batch.add_column(sa.Column("dom_warc_name", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("dom_warc_offset", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("dom_warc_length", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("captures") as batch:
        for column in ("dom_warc_length", "dom_warc_offset", "dom_warc_name"):
            batch.drop_column(column)
