"""Commit sets (Pachyderm's global ids): every commit belongs to one; sets are ordered by seq.

Revision ID: 570e00000002
Revises: 570e00000001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "570e00000002"
down_revision = "570e00000001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "store_commit_sets",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False, unique=True),
        sa.Column("created_at", TS, nullable=False),
    )
    with op.batch_alter_table("store_commits") as batch:
        batch.add_column(sa.Column("commit_set", sa.String(32), nullable=True))
    op.create_index("ix_store_commits_commit_set", "store_commits", ["commit_set"])
    # Every commit made before sets existed is the origin of a set of its own.
    op.execute("UPDATE store_commits SET commit_set = id")
    op.execute("INSERT INTO store_commit_sets (id, seq, created_at) "
               "SELECT id, seq, COALESCE(finished_at, started_at) FROM store_commits "
               "WHERE seq IS NOT NULL")


def downgrade() -> None:
    op.drop_index("ix_store_commits_commit_set", table_name="store_commits")
    with op.batch_alter_table("store_commits") as batch:
        batch.drop_column("commit_set")
    op.drop_table("store_commit_sets")
