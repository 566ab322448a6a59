"""Webhook subscriptions and their delivery log (outbox), user bonuses, message threads.

Revision ID: c40wd0000006
Revises: c40wdh4rd006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c40wd0000006"
down_revision = "c40wdh4rd006"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
# one row per event and subscription: 64-bit on PostgreSQL, SQLite's rowid already is
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "crowd_webhook_subscriptions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("webhook_url", sa.String(2000), nullable=False),
        sa.Column("event_type", sa.String(40), nullable=False),
        sa.Column("pool_id", sa.Integer, nullable=False),
        sa.Column("secret_key", sa.String(500), nullable=True),
        sa.Column("created", TZ, nullable=False),
    )
    op.create_index("ix_crowd_webhook_subscriptions_pool", "crowd_webhook_subscriptions",
                    ["pool_id", "event_type"])
    op.create_table(
        "crowd_webhook_deliveries",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("subscription_id", sa.Integer, nullable=False),
        sa.Column("event_type", sa.String(40), nullable=False),
        sa.Column("pool_id", BIG_ID, nullable=False),
        sa.Column("assignment_id", BIG_ID, nullable=True),
        sa.Column("event_time", TZ, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt", TZ, nullable=False),
        sa.Column("delivered", TZ, nullable=True),
        sa.Column("log", sa.JSON, nullable=False),
    )
    op.create_index("ix_crowd_webhook_deliveries_due", "crowd_webhook_deliveries",
                    ["status", "next_attempt"])
    op.create_index("ix_crowd_webhook_deliveries_pool", "crowd_webhook_deliveries",
                    ["pool_id", "id"])
    op.create_table(
        "crowd_user_bonuses",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("worker_id", sa.Integer, nullable=False),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("assignment_id", sa.Integer, nullable=True),
        sa.Column("public_title", sa.JSON, nullable=True),
        sa.Column("public_message", sa.JSON, nullable=True),
        sa.Column("private_comment", sa.Text, nullable=True),
        sa.Column("without_message", sa.Boolean, nullable=False),
        sa.Column("created", TZ, nullable=False),
    )
    op.create_index("ix_crowd_user_bonuses_worker", "crowd_user_bonuses", ["worker_id"])
    op.create_table(
        "crowd_message_threads",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("topic", sa.JSON, nullable=False),
        sa.Column("answerable", sa.Boolean, nullable=False),
        sa.Column("folders", sa.JSON, nullable=False),
        sa.Column("created", TZ, nullable=False),
    )
    op.create_table(
        "crowd_messages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("thread_id", sa.Integer, nullable=False),
        sa.Column("worker_id", sa.Integer, nullable=False),
        sa.Column("from_requester", sa.Boolean, nullable=False),
        sa.Column("text", sa.JSON, nullable=False),
        sa.Column("created", TZ, nullable=False),
    )
    op.create_index("ix_crowd_messages_worker", "crowd_messages", ["worker_id", "id"])
    op.create_index("ix_crowd_messages_thread", "crowd_messages", ["thread_id", "id"])


def downgrade() -> None:
    for table in ("crowd_messages", "crowd_message_threads", "crowd_user_bonuses",
                  "crowd_webhook_deliveries", "crowd_webhook_subscriptions"):
        op.drop_table(table)
