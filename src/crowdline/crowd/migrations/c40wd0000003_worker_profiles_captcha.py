"""Worker profiles (Toloka's profile and computed filter fields) and CAPTCHA results.

Revision ID: c40wd0000003
Revises: c40wd0000002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c40wd0000003"
down_revision = "c40wd0000002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crowd_workers") as batch:
        batch.add_column(sa.Column("profile", sa.JSON, nullable=True))
    op.create_table(
        "crowd_captchas",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("assignment_id", sa.Integer, sa.ForeignKey("crowd_assignments.id"),
                  nullable=False, unique=True),
        sa.Column("pool_id", sa.Integer, nullable=False),
        sa.Column("worker_id", sa.Integer, nullable=False),
        sa.Column("question", sa.String(200), nullable=False),
        sa.Column("answer_hash", sa.String(64), nullable=False),
        sa.Column("passed", sa.Boolean, nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_crowd_captchas_worker", "crowd_captchas", ["worker_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_crowd_captchas_worker", table_name="crowd_captchas")
    op.drop_table("crowd_captchas")
    with op.batch_alter_table("crowd_workers") as batch:
        batch.drop_column("profile")
