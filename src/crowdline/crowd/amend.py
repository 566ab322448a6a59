"""An annotator's second thoughts: undo the suite just submitted, skip single tasks.

**Undo.** A suite submitted less than ``UNDO_GRACE_SECONDS`` ago goes back to ACTIVE with its
answers cleared (``lifecycle.reopen_assignment``), as long as quality control has not counted
it (no QC action was taken on the worker in that pool since the submit) and the pool is not
complete (its consumers may have read the answers). Its tasks keep their overlap slots while
it is ACTIVE again. Training suites cannot be undone: their feedback showed the right answers.

**Per-task skip** ("unsure"). Tasks the annotator marks move out of their ACTIVE suite into a
new suite born SKIPPED: their real tasks' overlap slots go back to the queue (another worker
answers them), the worker never gets them again, and no statistic, QC figure or aggregation
counts them (they are neither right nor wrong; the dashboard counts them per worker). A
SKIPPED_IN_ROW_ASSIGNMENTS rule sees that split-off suite as one skipped suite.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from crowdline.crowd import tables as t
from crowdline.crowd.lifecycle import release_tasks, reopen_assignment
from crowdline.crowd.models import utc
from crowdline.crowd.results import is_pool_complete
from crowdline.crowd.transactions import key, missing
from crowdline.errors import (
    AssignmentNotActive,
    AssignmentNotFound,
    Conflict,
    InvalidInput,
    NotYourAssignment,
)

UNDO_GRACE_SECONDS = 30
# an undone suite keeps at least this long to be answered again
REOPENED_MINUTES = 5


def _own(conn: sa.Connection, worker_key: int, assignment_id: str) -> Any:
    s = t.assignments.c
    row = conn.execute(sa.select(t.assignments).where(
        s.id == key(assignment_id, AssignmentNotFound, "assignment")).with_for_update()).first()
    if row is None:
        raise missing(AssignmentNotFound, "assignment", assignment_id)
    if row.worker_id != worker_key:
        raise NotYourAssignment(f"assignment {row.id} belongs to another worker",
                                hint="you can only change your own suites")
    return row


def _pool_type(conn: sa.Connection, pool_key: int) -> str:
    return str(conn.execute(sa.select(t.pools.c.type).where(t.pools.c.id == pool_key))
               .scalar_one())


def _why_not(conn: sa.Connection, row: Any, when: dt.datetime,
             grace: float) -> str | None:
    """None when the suite can be undone now, else the reason in plain words."""
    if row.status not in ("SUBMITTED", "ACCEPTED") or row.submitted is None:
        return f"this suite is {row.status.lower()}, not just submitted"
    if _pool_type(conn, row.pool_id) == "TRAINING":
        return "training answers cannot be undone: the feedback showed the right answers"
    submitted = utc(row.submitted)
    if when - submitted > dt.timedelta(seconds=grace):
        return f"the {int(grace)} seconds to undo a submit are over"
    q = t.qc_actions.c
    acted = conn.execute(sa.select(q.id).where(
        q.pool_id == row.pool_id, q.worker_id == row.worker_id, q.created >= submitted)
        .limit(1)).first()
    if acted is not None:
        return "quality control has already counted this suite"
    if is_pool_complete(conn, str(row.pool_id)):
        return "the pool is complete: its answers may already be in use"
    return None


def undo_window(conn: sa.Connection, worker_key: int, assignment_id: str, when: dt.datetime,
                grace: float = UNDO_GRACE_SECONDS) -> dict[str, Any] | None:
    """``{"id", "until"}`` while the worker may still undo this suite, else None."""
    try:
        row = conn.execute(sa.select(t.assignments).where(
            t.assignments.c.id == key(assignment_id, AssignmentNotFound, "assignment"))).first()
    except AssignmentNotFound:
        return None
    if row is None or row.worker_id != worker_key or _why_not(conn, row, when, grace):
        return None
    until = utc(row.submitted) + dt.timedelta(seconds=grace)
    return {"id": str(row.id), "pool_id": str(row.pool_id), "until": until.isoformat()}


def undo_submit(conn: sa.Connection, worker_key: int, assignment_id: str, when: dt.datetime,
                grace: float = UNDO_GRACE_SECONDS) -> dict[str, Any]:
    """Take the worker's just-submitted suite back: ``{"pool_id", "solutions"}`` (the answers
    it had, to fill the form again). Conflict (409) saying why when it is too late."""
    row = _own(conn, worker_key, assignment_id)
    reason = _why_not(conn, row, when, grace)
    if reason is not None:
        raise Conflict(f"assignment {row.id} cannot be undone: {reason}",
                       hint="it stays submitted; carry on with the next suite")
    expires_at = max(utc(row.expires_at), when + dt.timedelta(minutes=REOPENED_MINUTES))
    reopen_assignment(conn, row, expires_at)
    return {"pool_id": str(row.pool_id), "assignment_id": str(row.id),
            "solutions": row.solutions or []}


def skip_tasks(conn: sa.Connection, worker_key: int, assignment_id: str,
               task_ids: Sequence[str], when: dt.datetime) -> int:
    """Move ``task_ids`` out of the worker's ACTIVE suite into a new SKIPPED one; returns how
    many tasks are left in the suite. Refused for training suites and for every task at once
    (skip the whole suite instead)."""
    row = _own(conn, worker_key, assignment_id)
    if row.status != "ACTIVE":
        raise AssignmentNotActive(f"assignment {row.id} is already {row.status}",
                                  hint="request the next task suite")
    if utc(row.expires_at) <= when:
        raise AssignmentNotActive(f"assignment {row.id} expired",
                                  hint="its tasks went back to the queue; request a new suite")
    if row.suite_id is not None:
        raise InvalidInput(f"assignment {row.id} is a copy of task suite {row.suite_id}, whose "
                           "tasks are answered together", hint="skip the whole suite instead")
    if _pool_type(conn, row.pool_id) == "TRAINING":
        raise InvalidInput("training tasks cannot be skipped one by one",
                           hint="answer every training task; the feedback shows the right ones")
    wanted: list[int] = []
    for task_id in task_ids:
        try:
            wanted.append(int(task_id))
        except (TypeError, ValueError):
            raise InvalidInput(f"task id {task_id!r} is not a number",
                               hint="send the ids of tasks in this suite") from None
    unknown = sorted(set(wanted) - set(row.task_ids))
    if unknown:
        raise InvalidInput(f"tasks {unknown} are not in assignment {row.id}",
                           hint="send the ids of tasks in this suite")
    keep = [k for k in row.task_ids if k not in set(wanted)]
    if not wanted:
        return len(keep)
    if not keep:
        raise InvalidInput("every task of the suite is marked to skip",
                           hint="skip the whole suite instead")
    moved = [k for k in row.task_ids if k in set(wanted)]
    split = conn.execute(t.assignments.insert().values(
        pool_id=row.pool_id, worker_id=worker_key, status="SKIPPED", task_ids=moved,
        solutions=None, reward=0.0, mixed=row.mixed, created=row.created,
        expires_at=row.expires_at, skipped=when)).inserted_primary_key[0]
    changed = conn.execute(t.assignments.update().where(
        t.assignments.c.id == row.id, t.assignments.c.status == "ACTIVE").values(
        task_ids=keep))
    if changed.rowcount != 1:
        raise AssignmentNotActive(f"assignment {row.id} changed while this ran",
                                  hint="fetch it again and retry")
    conn.execute(t.answers.update().where(
        t.answers.c.worker_id == worker_key, t.answers.c.task_id.in_(moved))
        .values(assignment_id=split))
    release_tasks(conn, split)
    return len(keep)
