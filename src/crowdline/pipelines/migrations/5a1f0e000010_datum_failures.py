"""Failure isolation: datums that failed on invalid input; outputs that are failure reports.

Revision ID: 5a1f0e000010
Revises: 5a1f0e000002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "5a1f0e000010"
down_revision = "5a1f0e000002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pipeline_datums") as batch:
        batch.add_column(sa.Column("permanent", sa.Boolean, nullable=False,
                                   server_default=sa.false()))
    with op.batch_alter_table("pipeline_outputs") as batch:
        batch.add_column(sa.Column("failed", sa.Boolean, nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("pipeline_outputs") as batch:
        batch.drop_column("failed")
    with op.batch_alter_table("pipeline_datums") as batch:
        batch.drop_column("permanent")
