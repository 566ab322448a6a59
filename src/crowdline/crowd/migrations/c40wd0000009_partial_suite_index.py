"""The index of who had a requester-made suite becomes partial (``suite_id IS NOT NULL``):
assignments of the mixer's suites, the hot path, no longer maintain it.

Revision ID: c40wd0000009
Revises: c40wd0000008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c40wd0000009"
down_revision = "c40wd0000008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_crowd_assignments_suite", table_name="crowd_assignments")
    has_suite = sa.text("suite_id IS NOT NULL")
    op.create_index("ix_crowd_assignments_suite", "crowd_assignments", ["suite_id", "worker_id"],
                    sqlite_where=has_suite, postgresql_where=has_suite)


def downgrade() -> None:
    op.drop_index("ix_crowd_assignments_suite", table_name="crowd_assignments")
    op.create_index("ix_crowd_assignments_suite", "crowd_assignments", ["suite_id", "worker_id"])
