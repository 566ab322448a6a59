"""64-bit ids on PostgreSQL: every crowd key column and its sequence becomes BIGINT.

SQLite's INTEGER primary keys are already 64-bit rowids; nothing changes there.

Revision ID: c40wd0000002
Revises: c40wd0000001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c40wd0000002"
down_revision = "c40wd0000001"
branch_labels = None
depends_on = None

KEYS = {
    "crowd_requester_tokens": ("id",),
    "crowd_projects": ("id",),
    "crowd_pools": ("id", "project_id"),
    "crowd_tasks": ("id", "pool_id"),
    "crowd_workers": ("id",),
    "crowd_assignments": ("id", "pool_id", "worker_id"),
    "crowd_answers": ("task_id", "worker_id", "assignment_id", "pool_id"),
    "crowd_restrictions": ("id", "worker_id", "pool_id", "project_id"),
    "crowd_skills": ("id",),
    "crowd_worker_skills": ("id", "skill_id", "worker_id"),
    "crowd_qc_actions": ("id", "pool_id", "worker_id"),
}


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for table, columns in KEYS.items():
        changes = ", ".join(f"ALTER COLUMN {c} TYPE BIGINT" for c in columns)
        op.execute(f"ALTER TABLE {table} {changes}")
        if "id" in columns:
            sequence = bind.execute(sa.text("SELECT pg_get_serial_sequence(:t, 'id')"),
                                    {"t": table}).scalar()
            if sequence:
                op.execute(f"ALTER SEQUENCE {sequence} AS BIGINT")


def downgrade() -> None:
    raise NotImplementedError("ids stay 64-bit")
