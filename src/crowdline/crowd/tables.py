"""The crowd tables (SQLAlchemy Core). The migration in ``migrations/`` creates the same schema.

Issuing is enforced by the database: ``crowd_answers`` has one row per (task, worker) ever
issued (unique), and ``crowd_tasks.issued`` counts the rows that still hold an overlap slot,
changed only by conditional UPDATEs; ``available`` mirrors ``issued < overlap`` so the next task
is picked by the index (pool, kind, available, id), never by scanning the pool.
"""

from __future__ import annotations

import sqlalchemy as sa

from crowdline.database.types import UtcDateTime

metadata = sa.MetaData()

TZ = UtcDateTime()  # aware UTC in and out, on SQLite too
# 64-bit keys on PostgreSQL; on SQLite an INTEGER primary key is the (64-bit) rowid.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

requester_tokens = sa.Table(
    "crowd_requester_tokens", metadata,
    sa.Column("id", ID, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created", TZ, nullable=False),
)

projects = sa.Table(
    "crowd_projects", metadata,
    sa.Column("id", ID, primary_key=True, autoincrement=True),
    sa.Column("public_name", sa.String(500), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("config", sa.JSON, nullable=False),
    sa.Column("created", TZ, nullable=False),
)

pools = sa.Table(
    "crowd_pools", metadata,
    sa.Column("id", ID, primary_key=True, autoincrement=True),
    sa.Column("project_id", ID, sa.ForeignKey("crowd_projects.id"), nullable=False),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("priority", sa.Integer, nullable=False),
    sa.Column("config", sa.JSON, nullable=False),
    sa.Column("created", TZ, nullable=False),
    sa.Column("last_started", TZ, nullable=True),
    sa.Column("last_stopped", TZ, nullable=True),
    # how the pool groups tasks into suites: NULL (no tasks yet, or tasks for the mixer) or
    # SUITES (requester-made task suites); as on Toloka, a pool uses one way, not both
    sa.Column("grouping", sa.String(16), nullable=True),
    sa.Index("ix_crowd_pools_status", "status", "priority"),
)

# kind: REAL (counts against overlap), GOLDEN (control task), TRAINING (task of a training pool)
tasks = sa.Table(
    "crowd_tasks", metadata,
    sa.Column("id", ID, primary_key=True, autoincrement=True),
    sa.Column("pool_id", ID, sa.ForeignKey("crowd_pools.id"), nullable=False),
    sa.Column("kind", sa.String(8), nullable=False),
    sa.Column("input_values", sa.JSON, nullable=False),
    sa.Column("known_solutions", sa.JSON, nullable=True),
    sa.Column("message_on_unknown_solution", sa.Text, nullable=True),
    sa.Column("overlap", sa.Integer, nullable=True),  # NULL = infinite overlap
    # Toloka's preliminary answers (a model's vote) for dynamic overlap; never shown to workers
    sa.Column("baseline_solutions", sa.JSON, nullable=True),
    sa.Column("issued", sa.Integer, nullable=False),
    sa.Column("available", sa.Boolean, nullable=False),
    sa.Column("created", TZ, nullable=False),
    # the requester-made suite this task belongs to; such a task is never ``available`` to
    # the mixer: its suite (crowd_task_suites) holds the overlap slots and is issued whole
    sa.Column("suite_id", ID, nullable=True),
    sa.Index("ix_crowd_tasks_next", "pool_id", "kind", "available", "id"),
)

# Requester-made task suites (Toloka's POST /task-suites): issued as a unit, each to at most
# ``overlap`` workers (NULL = infinite), never twice to one worker. ``issued`` and
# ``available`` work as crowd_tasks' do, changed only by conditional UPDATEs.
task_suites = sa.Table(
    "crowd_task_suites", metadata,
    sa.Column("id", ID, primary_key=True, autoincrement=True),
    sa.Column("pool_id", ID, sa.ForeignKey("crowd_pools.id"), nullable=False),
    sa.Column("task_ids", sa.JSON, nullable=False),  # in the requester's order
    sa.Column("overlap", sa.Integer, nullable=True),
    sa.Column("issued", sa.Integer, nullable=False),
    sa.Column("available", sa.Boolean, nullable=False),
    sa.Column("issuing_order_override", sa.Float, nullable=False),
    sa.Column("created", TZ, nullable=False),
)
sa.Index("ix_crowd_task_suites_next", task_suites.c.pool_id, task_suites.c.available,
         task_suites.c.issuing_order_override.desc(), task_suites.c.id)

workers = sa.Table(
    "crowd_workers", metadata,
    sa.Column("id", ID, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created", TZ, nullable=False),
    sa.Column("profile", sa.JSON, nullable=True),  # Toloka's profile / computed filter fields
    # a new random value whenever a fact issuing checks changes (restrictions, skills,
    # training progress): servers cache those facts per worker and revision (crowd/facts.py)
    sa.Column("revision", sa.BigInteger, nullable=False, server_default="0"),
)

assignments = sa.Table(
    "crowd_assignments", metadata,
    sa.Column("id", ID, primary_key=True, autoincrement=True),
    sa.Column("pool_id", ID, sa.ForeignKey("crowd_pools.id"), nullable=False),
    sa.Column("worker_id", ID, sa.ForeignKey("crowd_workers.id"), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("task_ids", sa.JSON, nullable=False),
    sa.Column("solutions", sa.JSON, nullable=True),
    sa.Column("reward", sa.Float, nullable=False),
    sa.Column("mixed", sa.Boolean, nullable=False),
    sa.Column("created", TZ, nullable=False),
    sa.Column("expires_at", TZ, nullable=False),
    sa.Column("submitted", TZ, nullable=True),
    sa.Column("accepted", TZ, nullable=True),
    sa.Column("rejected", TZ, nullable=True),
    sa.Column("skipped", TZ, nullable=True),
    sa.Column("expired", TZ, nullable=True),
    sa.Column("public_comment", sa.Text, nullable=True),
    sa.Column("idempotency_key", sa.String(200), nullable=True),
    sa.Column("submit_result", sa.JSON, nullable=True),
    sa.Column("suite_id", ID, nullable=True),  # a requester-made suite; NULL: the mixer's
    sa.Index("ix_crowd_assignments_pool", "pool_id", "status"),
    sa.Index("ix_crowd_assignments_worker", "worker_id", "pool_id", "status"),
    sa.Index("ix_crowd_assignments_expiry", "status", "expires_at"),
)

# One row per task handed to a worker (never two for the same pair); the answer lands here.
answers = sa.Table(
    "crowd_answers", metadata,
    sa.Column("task_id", ID, sa.ForeignKey("crowd_tasks.id"), primary_key=True),
    sa.Column("worker_id", ID, sa.ForeignKey("crowd_workers.id"), primary_key=True),
    sa.Column("assignment_id", ID, sa.ForeignKey("crowd_assignments.id"),
              nullable=False),
    sa.Column("pool_id", ID, nullable=False),
    sa.Column("kind", sa.String(8), nullable=False),
    sa.Column("output_values", sa.JSON, nullable=True),
    sa.Column("correct", sa.Boolean, nullable=True),  # golden / training answers only
    sa.Column("submitted", TZ, nullable=True),
    sa.Index("ix_crowd_answers_task", "task_id"),
    sa.Index("ix_crowd_answers_assignment", "assignment_id"),
    sa.Index("ix_crowd_answers_worker", "worker_id", "pool_id", "kind", "submitted"),
    sa.Index("ix_crowd_answers_pool", "pool_id", "kind"),
)

restrictions = sa.Table(
    "crowd_restrictions", metadata,
    sa.Column("id", ID, primary_key=True, autoincrement=True),
    sa.Column("worker_id", ID, sa.ForeignKey("crowd_workers.id"), nullable=False),
    sa.Column("scope", sa.String(16), nullable=False),
    sa.Column("pool_id", ID, nullable=True),
    sa.Column("project_id", ID, nullable=True),
    sa.Column("private_comment", sa.Text, nullable=False),
    sa.Column("will_expire", TZ, nullable=True),
    sa.Column("created", TZ, nullable=False),
    sa.Index("ix_crowd_restrictions_worker", "worker_id"),
)

skills = sa.Table(
    "crowd_skills", metadata,
    sa.Column("id", ID, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("private_comment", sa.Text, nullable=False),
    sa.Column("created", TZ, nullable=False),
)

worker_skills = sa.Table(
    "crowd_worker_skills", metadata,
    sa.Column("id", ID, primary_key=True, autoincrement=True),
    sa.Column("skill_id", ID, sa.ForeignKey("crowd_skills.id"), nullable=False),
    sa.Column("worker_id", ID, sa.ForeignKey("crowd_workers.id"), nullable=False),
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("created", TZ, nullable=False),
    sa.Column("modified", TZ, nullable=False),
    sa.UniqueConstraint("skill_id", "worker_id", name="uq_crowd_worker_skills"),
)

qc_actions = sa.Table(
    "crowd_qc_actions", metadata,
    sa.Column("id", ID, primary_key=True, autoincrement=True),
    sa.Column("pool_id", ID, nullable=False),
    sa.Column("worker_id", ID, nullable=False),
    sa.Column("collector", sa.String(40), nullable=False),
    sa.Column("rule", sa.JSON, nullable=False),
    sa.Column("figures", sa.JSON, nullable=False),
    sa.Column("action", sa.JSON, nullable=False),
    sa.Column("created", TZ, nullable=False),
    sa.Index("ix_crowd_qc_actions_pool", "pool_id", "worker_id"),
)

# A self-hosted CAPTCHA (attention check) shown with a suite at the pool's captcha_frequency.
captchas = sa.Table(
    "crowd_captchas", metadata,
    sa.Column("id", ID, primary_key=True, autoincrement=True),
    sa.Column("assignment_id", ID, sa.ForeignKey("crowd_assignments.id"),
              nullable=False, unique=True),
    sa.Column("pool_id", ID, nullable=False),
    sa.Column("worker_id", ID, nullable=False),
    sa.Column("question", sa.String(200), nullable=False),
    sa.Column("answer_hash", sa.String(64), nullable=False),
    sa.Column("passed", sa.Boolean, nullable=True),
    sa.Column("created", TZ, nullable=False),
    sa.Index("ix_crowd_captchas_worker", "worker_id", "id"),
)

# Toloka's searches sort and filter ids as text (toloka-kit compares ids as strings).
sa.Index("ix_crowd_tasks_pool_idtext", tasks.c.pool_id, sa.cast(tasks.c.id, sa.Text))
sa.Index("ix_crowd_assignments_pool_idtext", assignments.c.pool_id,
         sa.cast(assignments.c.id, sa.Text))
# Who had a requester-made suite; partial, so the mixer's assignments cost it nothing.
_HAS_SUITE = assignments.c.suite_id.is_not(None)
sa.Index("ix_crowd_assignments_suite", assignments.c.suite_id, assignments.c.worker_id,
         sqlite_where=_HAS_SUITE, postgresql_where=_HAS_SUITE)
sa.Index("ix_crowd_task_suites_pool_idtext", task_suites.c.pool_id,
         sa.cast(task_suites.c.id, sa.Text))

# Toloka's webhook subscriptions, and the outbox / delivery log of their events.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
webhook_subscriptions = sa.Table(
    "crowd_webhook_subscriptions", metadata,
    sa.Column("id", ID, primary_key=True, autoincrement=True),
    sa.Column("webhook_url", sa.String(2000), nullable=False),
    sa.Column("event_type", sa.String(40), nullable=False),
    sa.Column("pool_id", ID, nullable=False),
    sa.Column("secret_key", sa.String(500), nullable=True),
    sa.Column("created", TZ, nullable=False),
    sa.Index("ix_crowd_webhook_subscriptions_pool", "pool_id", "event_type"),
)

webhook_deliveries = sa.Table(
    "crowd_webhook_deliveries", metadata,
    sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
    sa.Column("subscription_id", ID, nullable=False),
    sa.Column("event_type", sa.String(40), nullable=False),
    sa.Column("pool_id", BIG_ID, nullable=False),
    sa.Column("assignment_id", BIG_ID, nullable=True),
    sa.Column("event_time", TZ, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # PENDING SENDING DELIVERED FAILED
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt", TZ, nullable=False),
    sa.Column("delivered", TZ, nullable=True),
    sa.Column("log", sa.JSON, nullable=False),
    sa.Index("ix_crowd_webhook_deliveries_due", "status", "next_attempt"),
    sa.Index("ix_crowd_webhook_deliveries_pool", "pool_id", "id"),
)

# Bonuses (recorded only: crowdline pays nobody) and message threads to workers.
user_bonuses = sa.Table(
    "crowd_user_bonuses", metadata,
    sa.Column("id", ID, primary_key=True, autoincrement=True),
    sa.Column("worker_id", ID, nullable=False),
    sa.Column("amount", sa.Numeric(12, 2), nullable=False),
    sa.Column("assignment_id", ID, nullable=True),
    sa.Column("public_title", sa.JSON, nullable=True),
    sa.Column("public_message", sa.JSON, nullable=True),
    sa.Column("private_comment", sa.Text, nullable=True),
    sa.Column("without_message", sa.Boolean, nullable=False),
    sa.Column("created", TZ, nullable=False),
    sa.Index("ix_crowd_user_bonuses_worker", "worker_id"),
)

message_threads = sa.Table(
    "crowd_message_threads", metadata,
    sa.Column("id", ID, primary_key=True, autoincrement=True),
    sa.Column("topic", sa.JSON, nullable=False),
    sa.Column("answerable", sa.Boolean, nullable=False),
    sa.Column("folders", sa.JSON, nullable=False),
    sa.Column("created", TZ, nullable=False),
)

messages = sa.Table(
    "crowd_messages", metadata,
    sa.Column("id", ID, primary_key=True, autoincrement=True),
    sa.Column("thread_id", ID, nullable=False),
    sa.Column("worker_id", ID, nullable=False),  # the worker the thread is with
    sa.Column("from_requester", sa.Boolean, nullable=False),
    sa.Column("text", sa.JSON, nullable=False),
    sa.Column("created", TZ, nullable=False),
    sa.Index("ix_crowd_messages_worker", "worker_id", "id"),
    sa.Index("ix_crowd_messages_thread", "thread_id", "id"),
)
