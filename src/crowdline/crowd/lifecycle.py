"""The pool and assignment state machines: every status change goes through here.

Pool:        OPEN <-> CLOSED -> ARCHIVED
Assignment:  ACTIVE -> SUBMITTED -> ACCEPTED | REJECTED
             ACTIVE -> ACCEPTED            (a submit in an auto-accept pool)
             ACTIVE -> SKIPPED | EXPIRED   (the suite's real tasks, or a requester-made
                                           suite's copy, go back to the queue)
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from crowdline.crowd import tables as t
from crowdline.crowd import webhooks
from crowdline.database.driver import Driver
from crowdline.errors import AssignmentNotActive, Conflict, PoolClosed

POOL_TRANSITIONS: dict[str, frozenset[str]] = {
    "CLOSED": frozenset({"OPEN", "ARCHIVED"}),
    "OPEN": frozenset({"CLOSED"}),
    "ARCHIVED": frozenset(),
}

ASSIGNMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    "ACTIVE": frozenset({"SUBMITTED", "ACCEPTED", "SKIPPED", "EXPIRED"}),
    "SUBMITTED": frozenset({"ACCEPTED", "REJECTED"}),
    "ACCEPTED": frozenset(),
    "REJECTED": frozenset(),
    "SKIPPED": frozenset(),
    "EXPIRED": frozenset(),
}
# The statuses whose tasks still hold an overlap slot.
HOLDING = ("ACTIVE", "SUBMITTED", "ACCEPTED", "REJECTED")
# The timestamp column each status sets.
_STAMP = {"SUBMITTED": "submitted", "ACCEPTED": "accepted", "REJECTED": "rejected",
          "SKIPPED": "skipped", "EXPIRED": "expired"}


def set_pool_status(conn: sa.Connection, pool_key: int, new_status: str,
                    when: dt.datetime) -> bool:
    """Move a pool to ``new_status``; False when it already is there, Conflict if not allowed."""
    row = conn.execute(sa.select(t.pools.c.status).where(t.pools.c.id == pool_key)
                       .with_for_update()).one()
    if row.status == new_status:
        return False
    if row.status == "ARCHIVED":
        raise PoolClosed(f"pool {pool_key} is archived; it cannot become {new_status}",
                         hint="archived pools are read-only; clone it to run it again")
    if new_status not in POOL_TRANSITIONS[row.status]:
        raise Conflict(f"pool {pool_key} is {row.status}; it cannot become {new_status}",
                       hint="close the pool first")
    values: dict[str, Any] = {"status": new_status}
    if new_status == "OPEN":
        values["last_started"] = when
    elif row.status == "OPEN":
        values["last_stopped"] = when
    conn.execute(t.pools.update().where(t.pools.c.id == pool_key).values(**values))
    if new_status == "CLOSED":
        webhooks.record(conn, pool_key, ["POOL_CLOSED"], when)
    return True


def release_tasks(conn: sa.Connection, assignment_key: int,
                  suite_key: int | None = None) -> None:
    """Give the real tasks of a skipped or expired suite their overlap slots back; a copy of
    a requester-made suite (``suite_key``) gives the suite's slot back instead."""
    if suite_key is not None:
        s = t.task_suites.c
        conn.execute(t.task_suites.update().where(s.id == suite_key, s.issued > 0).values(
            issued=s.issued - 1, available=sa.or_(s.overlap.is_(None),
                                                  s.issued - 1 < s.overlap)))
        return
    task_ids = [r.task_id for r in conn.execute(sa.select(t.answers.c.task_id).where(
        t.answers.c.assignment_id == assignment_key, t.answers.c.kind == "REAL"))]
    if not task_ids:
        return
    c = t.tasks.c
    conn.execute(t.tasks.update().where(c.id.in_(sorted(task_ids)), c.issued > 0).values(
        issued=c.issued - 1,
        available=sa.or_(c.overlap.is_(None), c.issued - 1 < c.overlap)))


def set_assignment_status(conn: sa.Connection, row: Any, new_status: str, when: dt.datetime,
                          **values: Any) -> None:
    """Move the (locked) assignment ``row`` to ``new_status`` with its timestamp."""
    if new_status not in ASSIGNMENT_TRANSITIONS[row.status]:
        raise AssignmentNotActive(
            f"assignment {row.id} is {row.status}; it cannot become {new_status}",
            hint="only ACTIVE suites are submitted or skipped, only SUBMITTED ones reviewed")
    values = {"status": new_status, _STAMP[new_status]: when, **values}
    if new_status == "ACCEPTED" and row.status == "ACTIVE":
        values["submitted"] = values.get("submitted", when)
    result = conn.execute(t.assignments.update().where(
        t.assignments.c.id == row.id, t.assignments.c.status == row.status).values(**values))
    if result.rowcount != 1:  # someone else moved it first
        raise AssignmentNotActive(f"assignment {row.id} changed while this ran",
                                  hint="fetch it again and retry")
    if new_status in ("SKIPPED", "EXPIRED"):
        release_tasks(conn, row.id, row.suite_id)
    webhooks.on_assignment(conn, int(row.pool_id), int(row.id), row.status, new_status, when)


# -- undo (crowd/amend.py): a just-submitted suite goes back to ACTIVE -------------------------
# Kept apart from ASSIGNMENT_TRANSITIONS on purpose: only the annotator's undo, within its
# short grace period and before quality control acted on it, may take a suite back.
REOPEN_TRANSITIONS: dict[str, frozenset[str]] = {
    "SUBMITTED": frozenset({"ACTIVE"}),
    "ACCEPTED": frozenset({"ACTIVE"}),
}


def reopen_assignment(conn: sa.Connection, row: Any, expires_at: dt.datetime) -> None:
    """SUBMITTED | ACCEPTED -> ACTIVE for the (locked) assignment ``row``: its answers are
    cleared (so no statistic or QC figure counts them) and it can be submitted again."""
    if "ACTIVE" not in REOPEN_TRANSITIONS.get(row.status, frozenset()):
        raise AssignmentNotActive(f"assignment {row.id} is {row.status}; it cannot be undone",
                                  hint="only a suite submitted a moment ago can be undone")
    result = conn.execute(t.assignments.update().where(
        t.assignments.c.id == row.id, t.assignments.c.status == row.status).values(
        status="ACTIVE", submitted=None, accepted=None, solutions=None, idempotency_key=None,
        submit_result=None, expires_at=expires_at))
    if result.rowcount != 1:  # someone else moved it first
        raise AssignmentNotActive(f"assignment {row.id} changed while this ran",
                                  hint="fetch it again and retry")
    conn.execute(t.answers.update().where(t.answers.c.assignment_id == row.id).values(
        output_values=None, correct=None, submitted=None))


_SUBMIT = ("UPDATE crowd_assignments SET status = :status, submitted = :now, accepted = :accepted, "
           "solutions = :solutions, idempotency_key = :key, submit_result = :result "
           "WHERE id = :id AND status = :old")


def submit_suite(d: Driver, row: Any, new_status: str, when: dt.datetime, *,
                 solutions: list[dict[str, Any]], idempotency_key: str | None,
                 submit_result: dict[str, Any]) -> None:
    """ACTIVE -> SUBMITTED | ACCEPTED for the (locked) assignment ``row``: the submit's
    transition as one prepared statement (the serving hot path)."""
    if new_status not in ("SUBMITTED", "ACCEPTED") or \
            new_status not in ASSIGNMENT_TRANSITIONS[row.status]:
        raise AssignmentNotActive(
            f"assignment {row.id} is {row.status}; it cannot become {new_status}",
            hint="only ACTIVE suites are submitted")
    changed = d.run(_SUBMIT, {
        "status": new_status, "now": d.ts(when),
        "accepted": d.ts(when) if new_status == "ACCEPTED" else None,
        "solutions": d.json(solutions), "key": idempotency_key,
        "result": d.json(submit_result), "id": row.id, "old": row.status})
    if changed != 1:  # someone else moved it first
        raise AssignmentNotActive(f"assignment {row.id} changed while this ran",
                                  hint="fetch it again and retry")
