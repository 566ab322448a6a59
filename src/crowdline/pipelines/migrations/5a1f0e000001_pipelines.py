"""Pipelines, jobs, datums, committed datum outputs and secrets.

Revision ID: 5a1f0e000001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "5a1f0e000001"
down_revision = None
branch_labels = ("pipelines",)
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "pipelines",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("salt", sa.String(64), nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("needs_job", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "pipeline_jobs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("pipeline", sa.String(64), nullable=False),
        sa.Column("pipeline_version", sa.Integer, nullable=False),
        sa.Column("salt", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("input_commits", sa.JSON, nullable=False),
        sa.Column("output_commit", sa.String(64), nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("owner", sa.String(200), nullable=True),
        sa.Column("heartbeat_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("started_at", TS, nullable=True),
        sa.Column("finished_at", TS, nullable=True),
    )
    op.create_index("ix_pipeline_jobs_pipeline", "pipeline_jobs", ["pipeline"])
    op.create_index("ix_pipeline_jobs_state", "pipeline_jobs", ["state"])
    op.create_table(
        "pipeline_datums",
        sa.Column("job_id", sa.String(32),
                  sa.ForeignKey("pipeline_jobs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("datum_id", sa.String(32), primary_key=True),
        sa.Column("datum_hash", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("parts", sa.JSON, nullable=False),
        sa.Column("tries", sa.Integer, nullable=False, server_default="0"),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("log", sa.Text, nullable=True),
        sa.Column("wait_condition", sa.String(300), nullable=True),
        sa.Column("wait_params", sa.JSON, nullable=True),
        sa.Column("outputs", sa.JSON, nullable=True),
        sa.Column("staging", sa.String(64), nullable=True),
        sa.Column("duration", sa.Float, nullable=True),
        sa.Column("finished_at", TS, nullable=True),
    )
    op.create_index("ix_pipeline_datums_job_state", "pipeline_datums", ["job_id", "state"])
    op.create_table(
        "pipeline_outputs",
        sa.Column("pipeline", sa.String(64), primary_key=True),
        sa.Column("datum_id", sa.String(32), primary_key=True),
        sa.Column("datum_hash", sa.String(32), nullable=False),
        sa.Column("paths", sa.JSON, nullable=False),
    )
    op.create_table(
        "pipeline_secrets",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("pipeline_secrets")
    op.drop_table("pipeline_outputs")
    op.drop_index("ix_pipeline_datums_job_state", table_name="pipeline_datums")
    op.drop_table("pipeline_datums")
    op.drop_index("ix_pipeline_jobs_state", table_name="pipeline_jobs")
    op.drop_index("ix_pipeline_jobs_pipeline", table_name="pipeline_jobs")
    op.drop_table("pipeline_jobs")
    op.drop_table("pipelines")
