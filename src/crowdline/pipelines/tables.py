"""The pipelines part's tables (schema created by pipelines/migrations)."""

from __future__ import annotations

import sqlalchemy as sa

from crowdline.database.transactions import reading, writing  # noqa: F401 - the shared helpers
from crowdline.database.types import UtcDateTime

metadata = sa.MetaData()

TS = UtcDateTime()  # aware UTC in and out, on SQLite too

pipelines = sa.Table(
    "pipelines",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("salt", sa.String(64), nullable=False),
    sa.Column("spec", sa.JSON, nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("needs_job", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    # The commit set this version of the pipeline began with: its first job belongs to it,
    # and commit sets that began before it give this pipeline no job.
    sa.Column("trigger_set", sa.String(32), nullable=True),
    sa.Column("trigger_seq", sa.BigInteger, nullable=True),
)

jobs = sa.Table(
    "pipeline_jobs",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("pipeline", sa.String(64), nullable=False, index=True),
    sa.Column("pipeline_version", sa.Integer, nullable=False),
    sa.Column("salt", sa.String(64), nullable=False),
    sa.Column("state", sa.String(16), nullable=False, index=True),
    sa.Column("input_commits", sa.JSON, nullable=False),
    sa.Column("output_commit", sa.String(64), nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    # Skipped datums are counted, not stored (a 100,000-file input would add 100,000 rows
    # per job); ``removed`` lists the datum ids whose committed output the job deletes.
    sa.Column("skipped", sa.Integer, nullable=False, server_default="0"),
    sa.Column("removed", sa.JSON, nullable=True),
    sa.Column("owner", sa.String(200), nullable=True),
    sa.Column("heartbeat_at", TS, nullable=True),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("started_at", TS, nullable=True),
    sa.Column("finished_at", TS, nullable=True),
    # The commit set the job belongs to (one job per pipeline per set) and where that set
    # began (jobs of a pipeline run in set order); ``reason``: what a created job waits for.
    sa.Column("commit_set", sa.String(32), nullable=True),
    sa.Column("set_seq", sa.BigInteger, nullable=True),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Index("ux_pipeline_jobs_set", "pipeline", "commit_set", unique=True),
    sa.Index("ix_pipeline_jobs_commit_set", "commit_set"),
)

# The newest commit set (by seq) the planner has turned into jobs.
trigger = sa.Table(
    "pipeline_trigger",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("set_seq", sa.BigInteger, nullable=False),
)

datums = sa.Table(
    "pipeline_datums",
    metadata,
    sa.Column("job_id", sa.String(32), sa.ForeignKey("pipeline_jobs.id", ondelete="CASCADE"),
              primary_key=True),
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
    sa.Column("staging", sa.String(64), nullable=True),  # batch file holding the outputs
    sa.Column("duration", sa.Float, nullable=True),
    sa.Column("finished_at", TS, nullable=True),
    # failed on invalid input: not run again until its input or the pipeline changes
    sa.Column("permanent", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index("ix_pipeline_datums_job_state", "job_id", "state"),
    sa.Index("ix_pipeline_datums_datum", "datum_id"),
)

# What the head of each pipeline's output branch holds, per datum (for skip and delete).
outputs = sa.Table(
    "pipeline_outputs",
    metadata,
    sa.Column("pipeline", sa.String(64), primary_key=True),
    sa.Column("datum_id", sa.String(32), primary_key=True),
    sa.Column("datum_hash", sa.String(32), nullable=False),
    sa.Column("paths", sa.JSON, nullable=False),
    # the paths are a failure report (on_datum_failure: skip_datum), not the datum's output
    sa.Column("failed", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index("ix_pipeline_outputs_hash", "pipeline", "datum_hash"),
)

secrets = sa.Table(
    "pipeline_secrets",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("created_at", TS, nullable=False),
)
