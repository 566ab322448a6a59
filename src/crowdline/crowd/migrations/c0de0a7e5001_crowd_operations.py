"""Asynchronous operations (Toloka-style) and the aggregated solutions they produce.

Revision ID: c0de0a7e5001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c0de0a7e5001"
down_revision = None
branch_labels = ("crowd_operations",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crowd_operations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("details", sa.JSON, nullable=True),
        sa.Column("log", sa.JSON, nullable=False),
        sa.Column("progress", sa.Integer, nullable=False, server_default="0"),
        sa.Column("submitted", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_crowd_operations_submitted", "crowd_operations", ["submitted"])
    op.create_table(
        "crowd_aggregated_solutions",
        sa.Column("operation_id", sa.String(64), sa.ForeignKey("crowd_operations.id"),
                  primary_key=True),
        sa.Column("task_id", sa.String(64), primary_key=True),
        sa.Column("pool_id", sa.String(64), nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("output_values", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("crowd_aggregated_solutions")
    op.drop_index("ix_crowd_operations_submitted", table_name="crowd_operations")
    op.drop_table("crowd_operations")
