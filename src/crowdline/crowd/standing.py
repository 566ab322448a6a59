"""Where a worker stands in a pool: why there is no suite for them, and how much is left.

The annotator pages show one honest page per situation instead of one "no more tasks":

| state | when |
|---|---|
| ``training_required`` | the pool needs a training the worker has not finished (names it) |
| ``training_result`` | a training pool the worker finished: score, pass level, pools it opens |
| ``unavailable`` | a ban, or a skill filter that does not match (the rule is not revealed) |
| ``finished`` | nothing in the pool still needs this worker's answer |
| ``later`` | the pool is paused, or its remaining tasks are in other workers' hands for now |
| ``open`` | there is work for the worker (the work page would hand out a suite) |

Everything here is read-only and built from the tables the issuer uses, so the page says
exactly why ``request_assignment`` gave nothing. Known solutions never leave this module.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from crowdline.crowd import suites, training
from crowdline.crowd import tables as t
from crowdline.crowd.filters import filter_matches, worker_facts
from crowdline.crowd.models import utc
from crowdline.crowd.pools import _pool, get_pool
from crowdline.crowd.projects import get_project
from crowdline.crowd.workers import is_restricted

# Counting what is left stops here: a page load never scans a pool of millions.
LEFT_CAP = 10_000


def tasks_left(conn: sa.Connection, pool_key: int, kind: str = "REAL") -> int:
    """How many tasks of the pool can still be handed out (capped at LEFT_CAP + 1)."""
    s = t.task_suites.c
    in_suites = sum(len(ids) for ids in conn.execute(sa.select(s.task_ids).where(
        s.pool_id == pool_key, s.available == sa.true()).limit(LEFT_CAP + 1)).scalars())
    if in_suites:  # a pool of requester-made suites (their tasks are not available alone)
        return min(in_suites, LEFT_CAP + 1)
    c = t.tasks.c
    capped = (sa.select(c.id).where(c.pool_id == pool_key, c.kind == kind,
                                    c.available == sa.true()).limit(LEFT_CAP + 1).subquery())
    return int(conn.execute(sa.select(sa.func.count()).select_from(capped)).scalar_one())


def _done_suites(conn: sa.Connection, pool_key: int, worker_key: int) -> int:
    s = t.assignments.c
    return int(conn.execute(sa.select(sa.func.count()).where(
        s.pool_id == pool_key, s.worker_id == worker_key,
        s.status.in_(("SUBMITTED", "ACCEPTED")))).scalar_one())


def _training_name(conn: sa.Connection, pool_key: int) -> str:
    row = conn.execute(sa.select(t.pools).where(t.pools.c.id == pool_key)).first()
    if row is None:
        return f"training {pool_key}"
    pool = _pool(row)
    return get_project(conn, pool.project_id).public_name


def progress(conn: sa.Connection, worker_key: int, pool_id: str) -> dict[str, Any]:
    """Figures for the suite page: suites done by this worker, tasks still to hand out in the
    pool (beyond the ones already in someone's suite, this worker's included)."""
    pool = get_pool(conn, pool_id)
    pool_key = int(pool.id)
    done = _done_suites(conn, pool_key, worker_key)
    if pool.type == "TRAINING":
        a = t.answers.c
        had = conn.execute(sa.select(sa.func.count()).where(
            a.pool_id == pool_key, a.worker_id == worker_key)).scalar_one()
        total = conn.execute(sa.select(sa.func.count()).where(
            t.tasks.c.pool_id == pool_key, t.tasks.c.kind == "TRAINING")).scalar_one()
        return {"done": done, "left": max(0, int(total) - int(had)), "capped": False,
                "training": True}
    left = tasks_left(conn, pool_key)
    return {"done": done, "left": min(left, LEFT_CAP), "capped": left > LEFT_CAP,
            "training": False}


def _training_result(conn: sa.Connection, pool: Any, worker_key: int) -> dict[str, Any]:
    pool_key = int(pool.id)
    answered, correct = training._progress(conn, pool_key, worker_key)
    score = 100.0 * correct / answered if answered else 0.0
    opens, needed = [], []
    for row in conn.execute(sa.select(t.pools).where(t.pools.c.type == "REGULAR",
                                                     t.pools.c.status == "OPEN")):
        regular = _pool(row)
        requirement = regular.training_requirement or {}
        if str(requirement.get("training_pool_id")) != pool.id:
            continue
        level = float(requirement.get("training_passing_skill_value") or 0)
        needed.append(level)
        opens.append({"id": regular.id, "name": get_project(conn, regular.project_id).public_name,
                      "needed": level, "passed": score >= level})
    passed = all(p["passed"] for p in opens) if opens else True
    return {"state": "training_result", "score": round(score, 1), "answered": answered,
            "correct": correct, "needed": max(needed) if needed else None, "passed": passed,
            "pools": opens, "retry_after": None if passed else _retry_after(conn, pool,
                                                                           worker_key)}


def _retry_after(conn: sa.Connection, pool: Any, worker_key: int) -> str | None:
    """When the worker may take the training again (``retry_training_after_days`` after
    their last training answer), or None when the pool allows no retry."""
    days = (pool.extra or {}).get("retry_training_after_days")
    if not days:
        return None
    a = t.answers.c
    last = conn.execute(sa.select(sa.func.max(a.submitted)).where(
        a.pool_id == int(pool.id), a.worker_id == worker_key, a.kind == "TRAINING")
        ).scalar_one()
    if last is None:
        return None
    return (utc(last) + dt.timedelta(days=int(days))).isoformat()


def standing(conn: sa.Connection, worker_key: int, pool_id: str,
             when: dt.datetime) -> dict[str, Any]:
    """Why the worker gets no suite from ``pool_id`` now (see the module's table)."""
    pool = get_pool(conn, pool_id)
    pool_key = int(pool.id)
    done = _done_suites(conn, pool_key, worker_key)
    base: dict[str, Any] = {"pool_id": pool.id, "done": done,
                            "training": pool.type == "TRAINING"}
    if pool.status == "ARCHIVED":
        return {**base, "state": "finished", "reason": "archived"}
    if is_restricted(conn, worker_key, pool_key, int(pool.project_id), when):
        return {**base, "state": "unavailable"}
    if pool.filter and not filter_matches(pool.filter, worker_facts(conn, worker_key)):
        return {**base, "state": "unavailable"}
    if pool.type == "TRAINING":
        if training.has_completed(conn, pool_key, worker_key):
            return {**base, **_training_result(conn, pool, worker_key)}
    else:
        requirement = pool.training_requirement or {}
        training_pool = requirement.get("training_pool_id")
        if training_pool is not None:
            training_key = int(training_pool)
            if not training.has_completed(conn, training_key, worker_key):
                return {**base, "state": "training_required",
                        "training_pool_id": str(training_key),
                        "training_name": _training_name(conn, training_key)}
            if not training.admits(conn, pool, worker_key):
                return {**base, **_training_result(conn, get_pool(conn, str(training_key)),
                                                   worker_key),
                        "pool_id": pool.id, "training_pool_id": str(training_key)}
    if pool.status != "OPEN" or (pool.will_expire is not None and pool.will_expire <= when):
        return {**base, "state": "later", "reason": "paused"}
    kind = "TRAINING" if pool.type == "TRAINING" else "REAL"
    c, a = t.tasks.c, t.answers.c
    if pool.grouping == suites.SUITES:
        free: Any = True if suites.suites_left(conn, pool_key, worker_key) else None
    else:
        free = conn.execute(sa.select(c.id).where(
            c.pool_id == pool_key, c.kind == kind, c.available == sa.true(),
            ~sa.exists().where(a.task_id == c.id, a.worker_id == worker_key)).limit(1)).first()
    if free is not None and _enough_control_tasks(conn, pool, worker_key):
        return {**base, "state": "open"}  # a suite is there (the work page would get one)
    if free is None and _held_by_others(conn, pool_key, worker_key, kind):
        return {**base, "state": "later", "reason": "busy"}
    return {**base, "state": "finished", "reason": "done"}


def _enough_control_tasks(conn: sa.Connection, pool: Any, worker_key: int) -> bool:
    """Whether control tasks this worker has not seen are left for one more suite (each
    reaches a worker once; a pool that needs them stops when they run out)."""
    mixer = pool.mixer_config or {}
    needed = int(mixer.get("min_golden_tasks_count", mixer.get("golden_tasks_count", 0)) or 0)
    if pool.type == "TRAINING" or needed <= 0:
        return True
    c, a = t.tasks.c, t.answers.c
    unseen = (sa.select(c.id).where(
        c.pool_id == int(pool.id), c.kind == "GOLDEN",
        ~sa.exists().where(a.task_id == c.id, a.worker_id == worker_key))
        .limit(needed).subquery())
    return int(conn.execute(sa.select(sa.func.count()).select_from(unseen)).scalar_one()) \
        >= needed


def _held_by_others(conn: sa.Connection, pool_key: int, worker_key: int, kind: str) -> bool:
    """Whether other workers' open suites hold tasks this worker never had (they come back
    to the queue if those suites are skipped or expire)."""
    held, mine, s = t.answers.alias("held"), t.answers.alias("mine"), t.assignments.c
    row = conn.execute(sa.select(held.c.task_id).join(
        t.assignments, s.id == held.c.assignment_id).where(
        s.pool_id == pool_key, s.status == "ACTIVE", s.worker_id != worker_key,
        held.c.kind == kind,
        ~sa.exists().where(mine.c.task_id == held.c.task_id, mine.c.worker_id == worker_key))
        .limit(1)).first()
    return row is not None
