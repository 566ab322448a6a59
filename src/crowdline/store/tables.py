"""The store's SQL tables (SQLAlchemy Core). Schema changes go through store/migrations/.

A repo's history is cut into *lineages*: runs of commits, each the parent of the next.
A file version row lives in one lineage with a validity range of positions
``added_pos <= pos < removed_pos``, so a commit touches only the rows it changes and a
read at (lineage, pos) is an indexed range scan. See store/README.md.
"""

from __future__ import annotations

import sqlalchemy as sa

from crowdline.database.types import UtcDateTime

metadata = sa.MetaData()

BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite rowid alias
# Byte order for path keys on PostgreSQL whatever the database's locale.
KEY = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")
TS = UtcDateTime()  # aware UTC in and out, on SQLite too

repos = sa.Table(
    "store_repos", metadata,
    sa.Column("id", BIGINT, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("created_at", TS, nullable=False),
)

branches = sa.Table(
    "store_branches", metadata,
    sa.Column("repo_id", BIGINT, primary_key=True),
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("head", sa.String(32), nullable=True),
)

lineages = sa.Table(
    "store_lineages", metadata,
    sa.Column("id", BIGINT, primary_key=True, autoincrement=True),
    sa.Column("repo_id", BIGINT, nullable=False, index=True),
    sa.Column("base_commit", sa.String(32), nullable=True),  # snapshot copied in at pos 0
    sa.Column("tip_commit", sa.String(32), nullable=True),
    sa.Column("tip_pos", sa.Integer, nullable=False, default=0),
)

commits = sa.Table(
    "store_commits", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("repo_id", BIGINT, nullable=False),
    sa.Column("branch", sa.String(100), nullable=False),
    sa.Column("parent", sa.String(32), nullable=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("message", sa.Text, nullable=False, default=""),
    sa.Column("author", sa.String(200), nullable=True),
    sa.Column("origin", sa.String(16), nullable=False),
    sa.Column("started_at", TS, nullable=False),
    sa.Column("finished_at", TS, nullable=True),
    sa.Column("size_bytes", sa.BigInteger, nullable=False, default=0),
    sa.Column("seq", sa.BigInteger, nullable=True, unique=True),
    sa.Column("lineage_id", BIGINT, nullable=True),
    sa.Column("pos", sa.Integer, nullable=True),
    sa.Column("metadata", sa.JSON, nullable=False),
    sa.Column("commit_set", sa.String(32), nullable=True),
    sa.Index("ix_store_commits_repo_branch_seq", "repo_id", "branch", "seq"),
    sa.Index("ix_store_commits_repo_seq", "repo_id", "seq"),
    sa.Index("ix_store_commits_commit_set", "commit_set"),
)

# A commit set (Pachyderm's global id): an origin commit (or several, made in one
# transaction) and every commit and job it causes downstream. ``seq`` orders sets.
commit_sets = sa.Table(
    "store_commit_sets", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False, unique=True),
    sa.Column("created_at", TS, nullable=False),
)

provenance = sa.Table(
    "store_provenance", metadata,
    sa.Column("commit_id", sa.String(32), primary_key=True),
    sa.Column("upstream_id", sa.String(32), primary_key=True),
    sa.Index("ix_store_provenance_upstream", "upstream_id"),
)

entries = sa.Table(
    "store_entries", metadata,
    sa.Column("id", BIGINT, primary_key=True, autoincrement=True),
    sa.Column("lineage_id", BIGINT, nullable=False),
    sa.Column("pkey", KEY, nullable=False),
    sa.Column("dkey", KEY, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("added_pos", sa.Integer, nullable=False),
    sa.Column("removed_pos", sa.Integer, nullable=True),
    sa.Index("ix_store_entries_path", "lineage_id", "pkey"),
    sa.Index("ix_store_entries_dir", "lineage_id", "dkey", "pkey"),
    sa.Index("ix_store_entries_added", "lineage_id", "added_pos"),
    sa.Index("ix_store_entries_removed", "lineage_id", "removed_pos"),
)

staged = sa.Table(
    "store_staged", metadata,
    sa.Column("commit_id", sa.String(32), primary_key=True),
    sa.Column("pkey", KEY, primary_key=True),
    sa.Column("dkey", KEY, nullable=False),
    sa.Column("op", sa.String(8), nullable=False),  # "put" | "delete"
    sa.Column("hash", sa.String(64), nullable=True),
    sa.Column("size", sa.BigInteger, nullable=True),
)

sequence = sa.Table(
    "store_sequence", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)
