"""crowd_tasks.baseline_solutions: Toloka's preliminary answers of a task (e.g. a model's label
with its probability as ``confidence_weight``), counted as a voter by dynamic overlap.

Revision ID: c40wdba5e008
Revises: c40wd0000009
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c40wdba5e008"
down_revision = "c40wd0000009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crowd_tasks") as batch:
        batch.add_column(sa.Column("baseline_solutions", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("crowd_tasks") as batch:
        batch.drop_column("baseline_solutions")
