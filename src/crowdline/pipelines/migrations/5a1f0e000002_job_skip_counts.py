"""Jobs count skipped datums and list removed ones instead of a row per skipped datum.

Revision ID: 5a1f0e000002
Revises: 5a1f0e000001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "5a1f0e000002"
down_revision = "5a1f0e000001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pipeline_jobs") as batch:
        batch.add_column(sa.Column("skipped", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("removed", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pipeline_jobs") as batch:
        batch.drop_column("removed")
        batch.drop_column("skipped")
