"""Indexes for Toloka's searches: tasks and assignments by (pool, id as text).

toloka-kit compares ids as strings (it pages with ``id_gt`` and takes ``min``/``max`` of
string ids), so the searches sort and filter on ``CAST(id AS TEXT)``; these expression indexes
keep a page of a pool of millions as cheap as a page of a small pool.

Revision ID: c40wd0000005
Revises: c40wd0000004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c40wd0000005"
down_revision = "c40wd0000004"
branch_labels = None
depends_on = None

ID_TEXT = sa.text("(CAST(id AS TEXT))")


def upgrade() -> None:
    op.create_index("ix_crowd_tasks_pool_idtext", "crowd_tasks", ["pool_id", ID_TEXT])
    op.create_index("ix_crowd_assignments_pool_idtext", "crowd_assignments",
                    ["pool_id", ID_TEXT])


def downgrade() -> None:
    op.drop_index("ix_crowd_assignments_pool_idtext", table_name="crowd_assignments")
    op.drop_index("ix_crowd_tasks_pool_idtext", table_name="crowd_tasks")
