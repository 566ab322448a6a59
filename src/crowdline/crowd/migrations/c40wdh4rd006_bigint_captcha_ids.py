"""64-bit ids on PostgreSQL for crowd_captchas (created after c40wd0000002 made the other
crowd keys BIGINT). SQLite's INTEGER keys are 64-bit already; nothing changes there.

Revision ID: c40wdh4rd006
Revises: c40wd0000005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c40wdh4rd006"
down_revision = "c40wd0000005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE crowd_captchas ALTER COLUMN id TYPE BIGINT, "
               "ALTER COLUMN assignment_id TYPE BIGINT, ALTER COLUMN pool_id TYPE BIGINT, "
               "ALTER COLUMN worker_id TYPE BIGINT")
    sequence = bind.execute(sa.text("SELECT pg_get_serial_sequence('crowd_captchas', 'id')")
                            ).scalar()
    if sequence:
        op.execute(f"ALTER SEQUENCE {sequence} AS BIGINT")


def downgrade() -> None:
    raise NotImplementedError("ids stay 64-bit")
