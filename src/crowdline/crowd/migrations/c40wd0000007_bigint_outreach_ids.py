"""64-bit ids on PostgreSQL for the webhook, bonus and message tables (c40wd0000006 made them
32-bit; every other crowd key is BIGINT since c40wd0000002). SQLite's INTEGER keys are 64-bit
already; nothing changes there.

Revision ID: c40wd0000007
Revises: c40wd0000006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c40wd0000007"
down_revision = "c40wd0000006"
branch_labels = None
depends_on = None

COLUMNS = {
    "crowd_webhook_subscriptions": ("id", "pool_id"),
    "crowd_webhook_deliveries": ("subscription_id",),
    "crowd_user_bonuses": ("id", "worker_id", "assignment_id"),
    "crowd_message_threads": ("id",),
    "crowd_messages": ("id", "thread_id", "worker_id"),
}


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for table, columns in COLUMNS.items():
        op.execute(f"ALTER TABLE {table} "
                   + ", ".join(f"ALTER COLUMN {c} TYPE BIGINT" for c in columns))
        if "id" in columns:
            sequence = bind.execute(sa.text(f"SELECT pg_get_serial_sequence('{table}', 'id')")
                                    ).scalar()
            if sequence:
                op.execute(f"ALTER SEQUENCE {sequence} AS BIGINT")


def downgrade() -> None:
    raise NotImplementedError("ids stay 64-bit")
