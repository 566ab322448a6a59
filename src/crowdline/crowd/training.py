"""Training: a TRAINING pool holds tasks with known solutions and hints; a regular pool's
``quality_control.training_requirement`` = {training_pool_id, training_passing_skill_value}
admits only workers who completed that training with at least that score (per cent correct).

A worker completes the training once they answered every training task of the pool (or
``task_suites_required_to_pass`` suites' worth of them). Hints are shown after each training
suite, for the answers that were wrong; a control task in a regular pool never gives one.

``retry_training_after_days``: a worker who completed the training below the pass level of a
pool that requires it may take it again that many days after their last training answer; the
retry starts afresh (the earlier attempt's answers stay in its assignments' solutions) and its
score replaces the earlier one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from crowdline.crowd import tables as t
from crowdline.crowd.models import Pool


def _progress(conn: sa.Connection, training_pool_key: int, worker_key: int) -> tuple[int, int]:
    """(answered, correct) training answers of the worker in the training pool."""
    a = t.answers.c
    row = conn.execute(sa.select(
        sa.func.count(), sa.func.coalesce(sa.func.sum(sa.case((a.correct, 1), else_=0)), 0))
        .where(a.pool_id == training_pool_key, a.worker_id == worker_key, a.kind == "TRAINING",
               a.submitted.is_not(None))).one()
    return int(row[0]), int(row[1])


def _required(conn: sa.Connection, training: Any) -> int:
    total = conn.execute(sa.select(sa.func.count()).select_from(t.tasks).where(
        t.tasks.c.pool_id == training.id, t.tasks.c.kind == "TRAINING")).scalar_one()
    suites = training.config.get("task_suites_required_to_pass")
    per_suite = training.config["mixer_config"]["training_tasks_count"]
    return min(int(total), int(suites) * per_suite) if suites else int(total)


def has_completed(conn: sa.Connection, training_pool_key: int, worker_key: int) -> bool:
    training = conn.execute(sa.select(t.pools).where(t.pools.c.id == training_pool_key)).first()
    if training is None:
        return False
    answered, _ = _progress(conn, training_pool_key, worker_key)
    return answered > 0 and answered >= _required(conn, training)


def score(conn: sa.Connection, training_pool_key: int, worker_key: int) -> float | None:
    answered, correct = _progress(conn, training_pool_key, worker_key)
    return None if answered == 0 else 100.0 * correct / answered


def admits(conn: sa.Connection, pool: Pool, worker_key: int) -> bool:
    """Whether the pool's training requirement (if any) lets this worker in."""
    requirement = pool.training_requirement or {}
    training_pool = requirement.get("training_pool_id")
    if training_pool is None:
        return True
    try:
        training_key = int(training_pool)
    except (TypeError, ValueError):
        return False
    if not has_completed(conn, training_key, worker_key):
        return False
    value = score(conn, training_key, worker_key)
    return value is not None and value >= float(
        requirement.get("training_passing_skill_value") or 0)


def pass_level(conn: sa.Connection, training: Pool) -> float | None:
    """The highest training_passing_skill_value among the pools that require this training."""
    levels = []
    for row in conn.execute(sa.select(t.pools.c.config).where(
            t.pools.c.project_id == int(training.project_id), t.pools.c.type == "REGULAR")):
        requirement = ((row.config or {}).get("quality_control") or {}).get(
            "training_requirement") or {}
        if str(requirement.get("training_pool_id")) == training.id:
            levels.append(float(requirement.get("training_passing_skill_value") or 0))
    return max(levels) if levels else None


def restart_if_due(conn: sa.Connection, training: Pool, worker_key: int,
                   when: dt.datetime) -> bool:
    """If the worker may retake this completed training now, clear their attempt (the
    answer rows; the assignments keep the solutions) and return True."""
    days = training.extra.get("retry_training_after_days")
    if not days:
        return False
    level = pass_level(conn, training)
    value = score(conn, int(training.id), worker_key)
    if level is None or value is None or value >= level:
        return False
    a = t.answers.c
    mine = sa.and_(a.pool_id == int(training.id), a.worker_id == worker_key,
                   a.kind == "TRAINING")
    last = conn.execute(sa.select(sa.func.max(a.submitted)).where(mine)).scalar_one()
    if last is None:
        return False
    if last.tzinfo is None:  # SQLite hands back naive UTC datetimes
        last = last.replace(tzinfo=dt.UTC)
    if when < last + dt.timedelta(days=int(days)):
        return False
    conn.execute(t.answers.delete().where(mine))
    return True


def feedback(task_ids: Sequence[str], correct: Sequence[bool | None],
             hints: Sequence[str | None]) -> list[dict[str, Any]]:
    """Per training task: was it right, and the hint when it was not."""
    return [{"task_id": task_id, "correct": bool(ok), "hint": None if ok else hint}
            for task_id, ok, hint in zip(task_ids, correct, hints, strict=True)]
