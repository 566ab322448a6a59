"""Pool analytics, Toloka's ``analytics-2`` subjects, each one SQL aggregate over the pool.

    pool_analytics(conn, "7", "completion_percentage", when)   # -> 42.5

``completion_percentage`` is the share of the pool's real-task overlap that has answers
(a task counts at most its overlap); ``estimated_end`` (crowdline's own) extrapolates the
rate of the last hour of answers to the remaining overlap.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from crowdline.crowd import tables as t
from crowdline.crowd.models import iso
from crowdline.crowd.pools import get_pool
from crowdline.errors import InvalidInput

ANSWERED = ("SUBMITTED", "ACCEPTED", "REJECTED")


def _count_status(conn: sa.Connection, pool_key: int, *statuses: str) -> int:
    s = t.assignments.c
    return int(conn.execute(sa.select(sa.func.count()).where(
        s.pool_id == pool_key, s.status.in_(statuses))).scalar_one())


def _overlap_progress(conn: sa.Connection, pool_key: int) -> tuple[int, int]:
    """(answered slots counted up to each task's overlap, total overlap) of real tasks."""
    a, s, c = t.answers.c, t.assignments.c, t.tasks.c
    per_task = (sa.select(a.task_id, sa.func.count().label("n"))
                .join(t.assignments, s.id == a.assignment_id)
                .where(a.pool_id == pool_key, a.kind == "REAL",
                       s.status.in_(("SUBMITTED", "ACCEPTED")))
                .group_by(a.task_id).subquery())
    done = conn.execute(sa.select(sa.func.coalesce(sa.func.sum(
        sa.case((per_task.c.n < c.overlap, per_task.c.n), else_=c.overlap)), 0))
        .select_from(per_task).join(t.tasks, c.id == per_task.c.task_id)
        .where(c.overlap.is_not(None))).scalar_one()
    total = conn.execute(sa.select(sa.func.coalesce(sa.func.sum(c.overlap), 0)).where(
        c.pool_id == pool_key, c.kind == "REAL", c.overlap.is_not(None))).scalar_one()
    return int(done), int(total)


def completion_percentage(conn: sa.Connection, pool_key: int) -> float:
    done, total = _overlap_progress(conn, pool_key)
    return 0.0 if total == 0 else round(100.0 * done / total, 2)


def _avg_submit_millis(conn: sa.Connection, pool_key: int) -> float | None:
    s = t.assignments.c
    rows = conn.execute(sa.select(s.created, s.submitted).where(
        s.pool_id == pool_key, s.submitted.is_not(None))).all()
    if not rows:
        return None
    return round(sum((r.submitted - r.created).total_seconds() for r in rows)
                 * 1000.0 / len(rows), 1)


def _spent(conn: sa.Connection, pool_key: int) -> float:
    s = t.assignments.c
    return float(conn.execute(sa.select(sa.func.coalesce(sa.func.sum(s.reward), 0.0)).where(
        s.pool_id == pool_key, s.status == "ACCEPTED")).scalar_one())


def _unique_workers(conn: sa.Connection, pool_key: int, submitted_only: bool) -> int:
    s = t.assignments.c
    query = sa.select(sa.func.count(sa.distinct(s.worker_id))).where(s.pool_id == pool_key)
    if submitted_only:
        query = query.where(s.submitted.is_not(None))
    return int(conn.execute(query).scalar_one())


def active_workers(conn: sa.Connection, pool: Any, when: dt.datetime, hours: int,
                   admitted: Callable[[int], bool]) -> int:
    """Workers who took a suite of any pool in the last ``hours`` and whom this pool's
    filter, bans and training requirement admit."""
    s = t.assignments.c
    recent = conn.execute(sa.select(s.worker_id).where(
        s.created >= when - dt.timedelta(hours=hours)).distinct()).scalars().all()
    return sum(1 for worker_key in recent if admitted(int(worker_key)))


def estimated_assignments(conn: sa.Connection, pool: Any) -> int:
    _, total = _overlap_progress(conn, int(pool.id))
    per_suite = max(1, int(pool.mixer_config.get("real_tasks_count") or 1))
    return math.ceil(total / per_suite)


def estimated_end(conn: sa.Connection, pool_key: int, when: dt.datetime) -> str | None:
    done, total = _overlap_progress(conn, pool_key)
    if total and done >= total:
        return iso(when)
    a = t.answers.c
    last_hour = int(conn.execute(sa.select(sa.func.count()).where(
        a.pool_id == pool_key, a.kind == "REAL",
        a.submitted >= when - dt.timedelta(hours=1))).scalar_one())
    if last_hour == 0:
        return None
    return iso(when + dt.timedelta(hours=(total - done) / last_hour))


SUBJECTS = ("real_tasks_count", "submitted_assignments_count", "skipped_assignments_count",
            "rejected_assignments_count", "approved_assignments_count",
            "completion_percentage", "avg_submit_assignment_millis", "spent_budget",
            "unique_workers_count", "unique_submitters_count",
            "active_workers_by_filter_count", "estimated_assignments_count", "estimated_end")


def pool_admits(conn: sa.Connection, pool: Any, worker_key: int, when: dt.datetime) -> bool:
    """Whether the pool would give this worker suites: no ban, filter and training pass."""
    from crowdline.crowd import training
    from crowdline.crowd.filters import filter_matches, worker_facts
    from crowdline.crowd.workers import is_restricted

    if is_restricted(conn, worker_key, int(pool.id), int(pool.project_id), when):
        return False
    if pool.filter and not filter_matches(pool.filter, worker_facts(conn, worker_key)):
        return False
    return pool.type != "REGULAR" or training.admits(conn, pool, worker_key)


def pool_analytics(conn: sa.Connection, pool_id: str, name: str, when: dt.datetime, *,
                   interval_hours: int | None = None,
                   admitted: Callable[[int], bool] | None = None) -> Any:
    """One analytics figure of a pool (``name`` is one of SUBJECTS)."""
    pool = get_pool(conn, pool_id)
    if admitted is None:
        def admitted(worker_key: int) -> bool:
            return pool_admits(conn, pool, worker_key, when)

    pool_key = int(pool.id)
    if name == "real_tasks_count":
        c = t.tasks.c
        return int(conn.execute(sa.select(sa.func.count()).where(
            c.pool_id == pool_key, c.kind == "REAL")).scalar_one())
    counts = {"submitted_assignments_count": ANSWERED,
              "skipped_assignments_count": ("SKIPPED",),
              "rejected_assignments_count": ("REJECTED",),
              "approved_assignments_count": ("ACCEPTED",)}
    if name in counts:
        return _count_status(conn, pool_key, *counts[name])
    if name == "completion_percentage":
        return completion_percentage(conn, pool_key)
    if name == "avg_submit_assignment_millis":
        return _avg_submit_millis(conn, pool_key)
    if name == "spent_budget":
        return _spent(conn, pool_key)
    if name in ("unique_workers_count", "unique_submitters_count"):
        return _unique_workers(conn, pool_key, name == "unique_submitters_count")
    if name == "active_workers_by_filter_count":
        if not interval_hours or interval_hours < 1:
            raise InvalidInput("active_workers_by_filter_count needs interval_hours >= 1")
        return active_workers(conn, pool, when, interval_hours, admitted)
    if name == "estimated_assignments_count":
        return estimated_assignments(conn, pool)
    if name == "estimated_end":
        return estimated_end(conn, pool_key, when)
    raise InvalidInput(f"unknown pool analytics {name!r}", hint=f"use one of {SUBJECTS}")
