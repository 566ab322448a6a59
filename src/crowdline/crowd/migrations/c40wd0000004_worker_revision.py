"""crowd_workers.revision: changes whenever a fact about the worker that issuing checks changes
(restrictions, skills, training progress), so servers can cache those facts in process.

Revision ID: c40wd0000004
Revises: c40wd0000003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c40wd0000004"
down_revision = "c40wd0000003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crowd_workers") as batch:
        batch.add_column(sa.Column("revision", sa.BigInteger, nullable=False,
                                   server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("crowd_workers") as batch:
        batch.drop_column("revision")
