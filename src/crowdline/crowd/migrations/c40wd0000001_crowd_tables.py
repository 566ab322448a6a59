"""The crowd part's tables: projects, pools, tasks, workers, assignments, answers, QC.

Revision ID: c40wd0000001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c40wd0000001"
down_revision = None
branch_labels = ("crowd",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crowd_requester_tokens",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "crowd_projects",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("public_name", sa.String(500), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "crowd_pools",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project_id", sa.Integer, sa.ForeignKey("crowd_projects.id"), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_started", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_stopped", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_crowd_pools_status", "crowd_pools", ["status", "priority"])
    op.create_table(
        "crowd_tasks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("pool_id", sa.Integer, sa.ForeignKey("crowd_pools.id"), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("input_values", sa.JSON, nullable=False),
        sa.Column("known_solutions", sa.JSON, nullable=True),
        sa.Column("message_on_unknown_solution", sa.Text, nullable=True),
        sa.Column("overlap", sa.Integer, nullable=True),  # NULL = infinite overlap
        sa.Column("issued", sa.Integer, nullable=False),
        sa.Column("available", sa.Boolean, nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_crowd_tasks_next", "crowd_tasks", ["pool_id", "kind", "available", "id"])
    op.create_table(
        "crowd_workers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "crowd_assignments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("pool_id", sa.Integer, sa.ForeignKey("crowd_pools.id"), nullable=False),
        sa.Column("worker_id", sa.Integer, sa.ForeignKey("crowd_workers.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("task_ids", sa.JSON, nullable=False),
        sa.Column("solutions", sa.JSON, nullable=True),
        sa.Column("reward", sa.Float, nullable=False),
        sa.Column("mixed", sa.Boolean, nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rejected", sa.DateTime(timezone=True), nullable=True),
        sa.Column("skipped", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expired", sa.DateTime(timezone=True), nullable=True),
        sa.Column("public_comment", sa.Text, nullable=True),
        sa.Column("idempotency_key", sa.String(200), nullable=True),
        sa.Column("submit_result", sa.JSON, nullable=True),
    )
    op.create_index("ix_crowd_assignments_pool", "crowd_assignments", ["pool_id", "status"])
    op.create_index("ix_crowd_assignments_worker", "crowd_assignments",
                    ["worker_id", "pool_id", "status"])
    op.create_index("ix_crowd_assignments_expiry", "crowd_assignments", ["status", "expires_at"])
    op.create_table(
        "crowd_answers",
        sa.Column("task_id", sa.Integer, sa.ForeignKey("crowd_tasks.id"), primary_key=True),
        sa.Column("worker_id", sa.Integer, sa.ForeignKey("crowd_workers.id"), primary_key=True),
        sa.Column("assignment_id", sa.Integer, sa.ForeignKey("crowd_assignments.id"),
                  nullable=False),
        sa.Column("pool_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("output_values", sa.JSON, nullable=True),
        sa.Column("correct", sa.Boolean, nullable=True),  # golden / training answers only
        sa.Column("submitted", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_crowd_answers_task", "crowd_answers", ["task_id"])
    op.create_index("ix_crowd_answers_assignment", "crowd_answers", ["assignment_id"])
    op.create_index("ix_crowd_answers_worker", "crowd_answers",
                    ["worker_id", "pool_id", "kind", "submitted"])
    op.create_index("ix_crowd_answers_pool", "crowd_answers", ["pool_id", "kind"])
    op.create_table(
        "crowd_restrictions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("worker_id", sa.Integer, sa.ForeignKey("crowd_workers.id"), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("pool_id", sa.Integer, nullable=True),
        sa.Column("project_id", sa.Integer, nullable=True),
        sa.Column("private_comment", sa.Text, nullable=False),
        sa.Column("will_expire", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_crowd_restrictions_worker", "crowd_restrictions", ["worker_id"])
    op.create_table(
        "crowd_skills",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("private_comment", sa.Text, nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "crowd_worker_skills",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("skill_id", sa.Integer, sa.ForeignKey("crowd_skills.id"), nullable=False),
        sa.Column("worker_id", sa.Integer, sa.ForeignKey("crowd_workers.id"), nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("skill_id", "worker_id", name="uq_crowd_worker_skills"),
    )
    op.create_table(
        "crowd_qc_actions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("pool_id", sa.Integer, nullable=False),
        sa.Column("worker_id", sa.Integer, nullable=False),
        sa.Column("collector", sa.String(40), nullable=False),
        sa.Column("rule", sa.JSON, nullable=False),
        sa.Column("figures", sa.JSON, nullable=False),
        sa.Column("action", sa.JSON, nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_crowd_qc_actions_pool", "crowd_qc_actions", ["pool_id", "worker_id"])


def downgrade() -> None:
    op.drop_table("crowd_qc_actions")
    op.drop_table("crowd_worker_skills")
    op.drop_table("crowd_skills")
    op.drop_table("crowd_restrictions")
    op.drop_table("crowd_answers")
    op.drop_table("crowd_assignments")
    op.drop_table("crowd_workers")
    op.drop_table("crowd_tasks")
    op.drop_table("crowd_pools")
    op.drop_table("crowd_projects")
    op.drop_table("crowd_requester_tokens")
