"""Store: repos, branches, lineages, commits, provenance, file entries, staged changes.

Revision ID: 570e00000001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "570e00000001"
down_revision = None
branch_labels = ("store",)
depends_on = None

BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
KEY = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "store_repos",
        sa.Column("id", BIGINT, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "store_branches",
        sa.Column("repo_id", BIGINT, primary_key=True),
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("head", sa.String(32), nullable=True),
    )
    op.create_table(
        "store_lineages",
        sa.Column("id", BIGINT, primary_key=True, autoincrement=True),
        sa.Column("repo_id", BIGINT, nullable=False, index=True),
        sa.Column("base_commit", sa.String(32), nullable=True),
        sa.Column("tip_commit", sa.String(32), nullable=True),
        sa.Column("tip_pos", sa.Integer, nullable=False),
    )
    op.create_table(
        "store_commits",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("repo_id", BIGINT, nullable=False),
        sa.Column("branch", sa.String(100), nullable=False),
        sa.Column("parent", sa.String(32), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("author", sa.String(200), nullable=True),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=True, unique=True),
        sa.Column("lineage_id", BIGINT, nullable=True),
        sa.Column("pos", sa.Integer, nullable=True),
        sa.Column("metadata", sa.JSON, nullable=False),
    )
    op.create_index("ix_store_commits_repo_branch_seq", "store_commits",
                    ["repo_id", "branch", "seq"])
    op.create_index("ix_store_commits_repo_seq", "store_commits", ["repo_id", "seq"])
    op.create_table(
        "store_provenance",
        sa.Column("commit_id", sa.String(32), primary_key=True),
        sa.Column("upstream_id", sa.String(32), primary_key=True),
    )
    op.create_index("ix_store_provenance_upstream", "store_provenance", ["upstream_id"])
    op.create_table(
        "store_entries",
        sa.Column("id", BIGINT, primary_key=True, autoincrement=True),
        sa.Column("lineage_id", BIGINT, nullable=False),
        sa.Column("pkey", KEY, nullable=False),
        sa.Column("dkey", KEY, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("added_pos", sa.Integer, nullable=False),
        sa.Column("removed_pos", sa.Integer, nullable=True),
    )
    op.create_index("ix_store_entries_path", "store_entries", ["lineage_id", "pkey"])
    op.create_index("ix_store_entries_dir", "store_entries", ["lineage_id", "dkey", "pkey"])
    op.create_index("ix_store_entries_added", "store_entries", ["lineage_id", "added_pos"])
    op.create_index("ix_store_entries_removed", "store_entries", ["lineage_id", "removed_pos"])
    op.create_table(
        "store_staged",
        sa.Column("commit_id", sa.String(32), primary_key=True),
        sa.Column("pkey", KEY, primary_key=True),
        sa.Column("dkey", KEY, nullable=False),
        sa.Column("op", sa.String(8), nullable=False),
        sa.Column("hash", sa.String(64), nullable=True),
        sa.Column("size", sa.BigInteger, nullable=True),
    )
    seq = op.create_table(
        "store_sequence",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(seq, [{"id": 1, "value": 0}])


def downgrade() -> None:
    for name in ("store_sequence", "store_staged", "store_entries", "store_provenance",
                 "store_commits", "store_lineages", "store_branches", "store_repos"):
        op.drop_table(name)
