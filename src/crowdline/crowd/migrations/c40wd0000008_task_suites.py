"""Requester-made task suites (Toloka's ``POST /task-suites``): the suites table, the suite a
task or an assignment belongs to, and how a pool groups its tasks.

Revision ID: c40wd0000008
Revises: c40wd0000007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c40wd0000008"
down_revision = "c40wd0000007"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "crowd_task_suites",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("pool_id", ID, sa.ForeignKey("crowd_pools.id"), nullable=False),
        sa.Column("task_ids", sa.JSON, nullable=False),
        sa.Column("overlap", sa.Integer, nullable=True),
        sa.Column("issued", sa.Integer, nullable=False),
        sa.Column("available", sa.Boolean, nullable=False),
        sa.Column("issuing_order_override", sa.Float, nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_crowd_task_suites_next", "crowd_task_suites",
                    ["pool_id", "available", sa.text("issuing_order_override DESC"), "id"])
    op.create_index("ix_crowd_task_suites_pool_idtext", "crowd_task_suites",
                    ["pool_id", sa.text("(CAST(id AS TEXT))")])
    with op.batch_alter_table("crowd_pools") as batch:
        batch.add_column(sa.Column("grouping", sa.String(16), nullable=True))
    with op.batch_alter_table("crowd_tasks") as batch:
        batch.add_column(sa.Column("suite_id", ID, nullable=True))
    with op.batch_alter_table("crowd_assignments") as batch:
        batch.add_column(sa.Column("suite_id", ID, nullable=True))
    op.create_index("ix_crowd_assignments_suite", "crowd_assignments", ["suite_id", "worker_id"])


def downgrade() -> None:
    op.drop_index("ix_crowd_assignments_suite", table_name="crowd_assignments")
    with op.batch_alter_table("crowd_assignments") as batch:
        batch.drop_column("suite_id")
    with op.batch_alter_table("crowd_tasks") as batch:
        batch.drop_column("suite_id")
    with op.batch_alter_table("crowd_pools") as batch:
        batch.drop_column("grouping")
    op.drop_table("crowd_task_suites")
