"""Jobs belong to a commit set (one job per pipeline per set) and say what they wait for;
the trigger cursor remembers the last commit set turned into jobs.

Revision ID: 5a1f0e000011
Revises: 5a1f0e000010
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "5a1f0e000011"
down_revision = "5a1f0e000010"
branch_labels = None
depends_on = "570e00000002"  # store_commit_sets


def upgrade() -> None:
    with op.batch_alter_table("pipeline_jobs") as batch:
        batch.add_column(sa.Column("commit_set", sa.String(32), nullable=True))
        batch.add_column(sa.Column("set_seq", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("reason", sa.Text, nullable=True))
    with op.batch_alter_table("pipelines") as batch:
        batch.add_column(sa.Column("trigger_set", sa.String(32), nullable=True))
        batch.add_column(sa.Column("trigger_seq", sa.BigInteger, nullable=True))
    op.create_index("ux_pipeline_jobs_set", "pipeline_jobs", ["pipeline", "commit_set"],
                    unique=True)
    op.create_index("ix_pipeline_jobs_commit_set", "pipeline_jobs", ["commit_set"])
    # earlier runs of one datum (carried failures, reusable outputs) without a table scan
    op.create_index("ix_pipeline_datums_datum", "pipeline_datums", ["datum_id"])
    # `datum retry` marks committed outputs with an empty hash; planning looks for them
    op.create_index("ix_pipeline_outputs_hash", "pipeline_outputs", ["pipeline", "datum_hash"])
    cursor = op.create_table(
        "pipeline_trigger",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("set_seq", sa.BigInteger, nullable=False),
    )
    # Commit sets older than this upgrade were handled by the old trigger; pipelines look
    # at their inputs once more (as of now) in case a change was not processed yet.
    seq = op.get_bind().execute(sa.text(
        "SELECT COALESCE(MAX(seq), 0) FROM store_commit_sets")).scalar()
    op.bulk_insert(cursor, [{"id": 1, "set_seq": int(seq or 0)}])
    op.execute("UPDATE pipelines SET needs_job = TRUE")


def downgrade() -> None:
    op.drop_table("pipeline_trigger")
    with op.batch_alter_table("pipelines") as batch:
        batch.drop_column("trigger_seq")
        batch.drop_column("trigger_set")
    op.drop_index("ix_pipeline_outputs_hash", table_name="pipeline_outputs")
    op.drop_index("ix_pipeline_datums_datum", table_name="pipeline_datums")
    op.drop_index("ix_pipeline_jobs_commit_set", table_name="pipeline_jobs")
    op.drop_index("ux_pipeline_jobs_set", table_name="pipeline_jobs")
    with op.batch_alter_table("pipeline_jobs") as batch:
        batch.drop_column("reason")
        batch.drop_column("set_seq")
        batch.drop_column("commit_set")
