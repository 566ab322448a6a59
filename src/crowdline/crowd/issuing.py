"""Task suites: issuing them (the mixer), submitting, skipping, expiring and reviewing them.

The guarantees live in the database, not in this process: a real task is claimed with a
conditional ``UPDATE ... SET issued = issued + 1 WHERE issued < overlap`` (rows picked by the
``(pool, kind, available, id)`` index, ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), and every task
handed to a worker gets a row in ``crowd_answers`` whose key is (task, worker) — so no task goes
beyond its overlap or twice to one worker, and a control task reaches each worker at most once.
"""

from __future__ import annotations

import datetime as dt
import random
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa

from crowdline.crowd import quality, training
from crowdline.crowd import tables as t
from crowdline.crowd.filters import filter_matches, worker_facts
from crowdline.crowd.lifecycle import set_assignment_status
from crowdline.crowd.models import (
    AnnotatorAssignment,
    Assignment,
    Pool,
    Project,
    SubmitResult,
    utc,
)
from crowdline.crowd.pools import _pool
from crowdline.crowd.projects import get_project, instructions_html, labels_of
from crowdline.crowd.tasks import check_output, get_tasks, is_correct, label_of, output_field
from crowdline.crowd.transactions import key, missing
from crowdline.crowd.workers import is_restricted, skill_values
from crowdline.errors import (
    AssignmentExpired,
    AssignmentNotActive,
    AssignmentNotFound,
    InvalidInput,
    NotYourAssignment,
    PoolNotFound,
    TaskNotFound,
    WorkerNotFound,
)

EXPIRE_BATCH = 200


def _lock_worker(conn: sa.Connection, worker_key: int) -> None:
    # Serialises one worker's requests (two browser tabs) on PostgreSQL; SQLite already
    # serialises every writer with BEGIN IMMEDIATE.
    row = conn.execute(sa.select(t.workers.c.id).where(t.workers.c.id == worker_key)
                       .with_for_update()).first()
    if row is None:
        raise missing(WorkerNotFound, "worker", worker_key)


def _unseen(worker_key: int) -> sa.ColumnElement[bool]:
    a = t.answers.c
    return ~sa.exists().where(a.task_id == t.tasks.c.id, a.worker_id == worker_key)


def _claim_real(conn: sa.Connection, pool_key: int, worker_key: int, count: int) -> list[int]:
    c = t.tasks.c
    query = (sa.select(c.id).where(c.pool_id == pool_key, c.kind == "REAL",
                                   c.available == sa.true(), _unseen(worker_key))
             .order_by(c.id).limit(count))
    candidates = conn.execute(query.with_for_update(skip_locked=True, of=t.tasks)).scalars().all()
    for _ in range(2):
        if candidates or conn.dialect.name != "postgresql":
            break
        # Every free task may be locked by other requests for a moment: wait for them rather
        # than tell this worker there is nothing left (we hold no task lock, so no deadlock).
        candidates = conn.execute(query.with_for_update(of=t.tasks)).scalars().all()
    if not candidates:
        return []
    # The guard is in the UPDATE itself: a slot is taken only while issued < overlap.
    claimed = conn.execute(t.tasks.update().where(
        c.id.in_(candidates), sa.or_(c.overlap.is_(None), c.issued < c.overlap)).values(
        issued=c.issued + 1, available=sa.or_(c.overlap.is_(None), c.issued + 1 < c.overlap))
        .returning(c.id)).scalars().all()
    return sorted(claimed)


def _pick_unseen(conn: sa.Connection, pool_key: int, kind: str, worker_key: int, count: int,
                 *, shuffle: bool) -> list[int]:
    c = t.tasks.c
    window = count * 4 if shuffle else count
    # control and training tasks are always available: the condition lets the index
    # (pool, kind, available, id) give them in id order without a sort
    found = conn.execute(sa.select(c.id).where(c.pool_id == pool_key, c.kind == kind,
                                               c.available == sa.true(), _unseen(worker_key))
                         .order_by(c.id).limit(window)).scalars().all()
    return random.sample(found, min(count, len(found))) if shuffle else list(found)


def _annotator_view(conn: sa.Connection, row: Any, pool: Pool,
                    project: Project) -> AnnotatorAssignment:
    tasks = get_tasks(conn, row.task_ids)
    return AnnotatorAssignment(
        id=str(row.id), pool_id=pool.id, project_id=project.id,
        public_name=project.public_name, instructions_html=instructions_html(project),
        output_spec=project.task_spec["output_spec"], labels=labels_of(project.task_spec),
        is_training=pool.type == "TRAINING", expires_at=utc(row.expires_at),
        # only id and input values: known solutions and hints never leave through here
        tasks=[{"id": str(k), "input_values": tasks[k].input_values} for k in row.task_ids])


def _issue(conn: sa.Connection, pool: Pool, worker_key: int,
           when: dt.datetime) -> list[tuple[int, str]] | None:
    mixer, pool_key = pool.mixer_config, int(pool.id)
    if pool.type == "TRAINING":
        picked = _pick_unseen(conn, pool_key, "TRAINING", worker_key,
                              mixer["training_tasks_count"], shuffle=True)
        return [(k, "TRAINING") for k in picked] or None
    golden_count = mixer.get("golden_tasks_count", 0)
    golden = (_pick_unseen(conn, pool_key, "GOLDEN", worker_key, golden_count, shuffle=True)
              if golden_count else [])
    if len(golden) < mixer.get("min_golden_tasks_count", golden_count):
        return None  # each control task reaches a worker once: this worker has seen them all
    real_count = mixer.get("real_tasks_count", 0)
    real = _claim_real(conn, pool_key, worker_key, real_count) if real_count else []
    if real_count and len(real) < max(1, mixer.get("min_real_tasks_count", 1)):
        if real:  # not enough for a suite: give the claimed slots back
            c = t.tasks.c
            conn.execute(t.tasks.update().where(c.id.in_(real)).values(
                issued=c.issued - 1, available=sa.true()))
        return None
    suite = [(k, "REAL") for k in real] + [(k, "GOLDEN") for k in golden]
    if mixer.get("shuffle_tasks_in_task_suite", True):
        random.shuffle(suite)
    return suite


def request_assignment(conn: sa.Connection, worker_key: int, pool_id: str | None,
                       when: dt.datetime) -> AnnotatorAssignment | None:
    _lock_worker(conn, worker_key)
    expire_overdue(conn, when, limit=EXPIRE_BATCH)
    query = sa.select(t.pools)
    if pool_id is not None:
        query = query.where(t.pools.c.id == key(pool_id, PoolNotFound, "pool"))
    else:
        query = query.where(t.pools.c.status == "OPEN").order_by(
            t.pools.c.priority.desc(), t.pools.c.id)
    rows = conn.execute(query).all()
    if pool_id is not None and not rows:
        raise missing(PoolNotFound, "pool", pool_id)
    facts: dict[str, Any] | None = None
    for row in rows:
        pool = _pool(row)
        if pool.status != "OPEN" or (pool.will_expire is not None and pool.will_expire <= when):
            continue  # Toloka stops issuing once a pool's will_expire has passed
        if is_restricted(conn, worker_key, row.id, row.project_id, when):
            continue
        if pool.filter:
            facts = worker_facts(conn, worker_key) if facts is None else facts
            if not filter_matches(pool.filter, facts):
                continue
        if pool.type == "REGULAR" and not training.admits(conn, pool, worker_key):
            continue
        if pool.type == "TRAINING" and training.has_completed(conn, row.id, worker_key):
            continue  # done with this training (passed or not): no more of its suites
        project = get_project(conn, pool.project_id)
        s = t.assignments.c
        active = conn.execute(sa.select(t.assignments).where(
            s.worker_id == worker_key, s.pool_id == row.id, s.status == "ACTIVE",
            s.expires_at > when).order_by(s.id).limit(1)).first()
        if active is not None:  # a reload gets the same suite back
            return _annotator_view(conn, active, pool, project)
        suite = _issue(conn, pool, worker_key, when)
        if not suite:
            continue
        expires_at = when + dt.timedelta(seconds=pool.assignment_max_duration_seconds)
        task_ids = [k for k, _ in suite]
        assignment_key = conn.execute(t.assignments.insert().values(
            pool_id=row.id, worker_id=worker_key, status="ACTIVE", task_ids=task_ids,
            solutions=None, reward=0.0 if pool.type == "TRAINING" else pool.reward_per_assignment,
            mixed=True, created=when, expires_at=expires_at)).inserted_primary_key[0]
        conn.execute(t.answers.insert(), [
            {"task_id": k, "worker_id": worker_key, "assignment_id": assignment_key,
             "pool_id": row.id, "kind": kind} for k, kind in suite])
        created = SimpleNamespace(id=assignment_key, task_ids=task_ids, expires_at=expires_at)
        return _annotator_view(conn, created, pool, project)
    return None


def _lock_assignment(conn: sa.Connection, assignment_id: str) -> Any:
    s = t.assignments.c
    row = conn.execute(sa.select(t.assignments).where(
        s.id == key(assignment_id, AssignmentNotFound, "assignment")).with_for_update()).first()
    if row is None:
        raise missing(AssignmentNotFound, "assignment", assignment_id)
    return row


def _own_active(row: Any, worker_key: int, when: dt.datetime) -> None:
    if row.worker_id != worker_key:
        raise NotYourAssignment(f"assignment {row.id} belongs to another worker",
                                hint="request your own task suite")
    if row.status != "ACTIVE":
        raise AssignmentNotActive(f"assignment {row.id} is already {row.status}",
                                  hint="request the next task suite")
    if utc(row.expires_at) <= when:
        raise AssignmentExpired(f"assignment {row.id} expired at {utc(row.expires_at)}",
                                hint="its tasks went back to the queue; request a new suite")


def _context(conn: sa.Connection, pool: Pool, project: Project,
             when: dt.datetime) -> quality.Context:
    field, _ = output_field(project)
    return quality.Context(conn, pool, int(project.id), when,
                           lambda values: label_of(field, values))


def submit(conn: sa.Connection, worker_key: int, assignment_id: str,
           solutions: list[dict[str, Any]], idempotency_key: str | None,
           when: dt.datetime) -> SubmitResult:
    row = _lock_assignment(conn, assignment_id)
    if (row.worker_id == worker_key and row.status != "ACTIVE" and idempotency_key
            and row.idempotency_key == idempotency_key and row.submit_result):
        return SubmitResult(**row.submit_result)  # a retry of a submit that went through
    _own_active(row, worker_key, when)
    pool = _pool(conn.execute(sa.select(t.pools).where(t.pools.c.id == row.pool_id)).one())
    project = get_project(conn, pool.project_id)
    if not isinstance(solutions, list) or len(solutions) != len(row.task_ids):
        raise InvalidInput(f"assignment {row.id} has {len(row.task_ids)} tasks; send one "
                           f"solution per task, in task order",
                           hint='[{"output_values": {...}}, ...]')
    outputs = [check_output(project, (s or {}).get("output_values") if isinstance(s, dict)
                            else None, f"solutions[{i}].output_values")
               for i, s in enumerate(solutions)]
    tasks = get_tasks(conn, row.task_ids)
    field, _ = output_field(project)
    correct = [is_correct(field, out, tasks[k].known_solutions)
               for k, out in zip(row.task_ids, outputs, strict=True)]
    conn.execute(t.answers.update().where(
        t.answers.c.task_id == sa.bindparam("task"), t.answers.c.worker_id == worker_key)
        .values(output_values=sa.bindparam("out"), correct=sa.bindparam("ok"), submitted=when),
        [{"task": k, "out": out, "ok": ok}
         for k, out, ok in zip(row.task_ids, outputs, correct, strict=True)])
    is_training = pool.type == "TRAINING"
    status = "ACCEPTED" if pool.auto_accept_solutions or is_training else "SUBMITTED"
    result = SubmitResult(assignment_id=str(row.id), status=status)
    if is_training:
        result.training_feedback = training.feedback(
            [str(k) for k in row.task_ids], correct,
            [tasks[k].message_on_unknown_solution for k in row.task_ids])
    set_assignment_status(conn, row, status, when, submitted=when,
                          solutions=[{"output_values": o} for o in outputs],
                          idempotency_key=idempotency_key, submit_result=result.to_dict())
    real = sorted(k for k in row.task_ids if tasks[k].kind == "REAL")  # one lock order
    completed = _completed_tasks(conn, pool, project, {k: tasks[k].overlap for k in real})
    quality.on_submit(_context(conn, pool, project, when), worker_key, row.id, completed)
    return result


def _completed_tasks(conn: sa.Connection, pool: Pool, project: Project,
                     overlaps: dict[int, int | None]) -> list[int]:
    """The tasks (of ``overlaps``: task -> overlap) whose overlap is now complete; with
    dynamic overlap an uncertain task gets one more slot instead (up to max_overlap)."""
    task_keys = sorted(overlaps)
    if not task_keys:
        return []
    a, s, c = t.answers.c, t.assignments.c, t.tasks.c
    answers: dict[int, list[tuple[int, Any]]] = {k: [] for k in task_keys}
    for r in conn.execute(sa.select(a.task_id, a.worker_id, a.output_values).join(
            t.assignments, s.id == a.assignment_id).where(
            a.task_id.in_(task_keys), s.status.in_(("SUBMITTED", "ACCEPTED")))):
        answers[r.task_id].append((r.worker_id, r.output_values))
    dynamic = pool.dynamic_overlap_config
    completed = []
    for task_key in task_keys:
        overlap, given = overlaps[task_key], answers[task_key]
        if overlap is None or len(given) < overlap:
            continue
        if dynamic and overlap < int(dynamic["max_overlap"]) and _needs_more(
                conn, pool, project, given, dynamic):
            conn.execute(t.tasks.update().where(c.id == task_key).values(
                overlap=c.overlap + 1, available=c.issued < c.overlap + 1))
            continue
        completed.append(task_key)
    return completed


def _needs_more(conn: sa.Connection, pool: Pool, project: Project,
                given: list[tuple[int, Any]], dynamic: dict[str, Any]) -> bool:
    from crowdline.aggregate.dynamic_overlap import (
        needs_more_answers,
        task_posterior,
        worker_accuracy,
    )

    field, _ = output_field(project)
    classes = [label_of(field, {field: v}) for v, _, _ in labels_of(project.task_spec)]
    labels = [label_of(field, out) for _, out in given]
    accuracies = []
    skill = dynamic.get("answer_weight_skill_id")
    for worker_key, _ in given:
        if skill is not None:
            value = skill_values(conn, worker_key).get(str(skill))
            accuracies.append(0.5 if value is None else value / 100.0)
        else:
            a = t.answers.c
            total, right = conn.execute(sa.select(
                sa.func.count(), sa.func.coalesce(sa.func.sum(sa.case((a.correct, 1),
                                                                       else_=0)), 0))
                .where(a.worker_id == worker_key, a.pool_id == int(pool.id),
                       a.kind == "GOLDEN", a.submitted.is_not(None))).one()
            accuracies.append(worker_accuracy(int(right), int(total)))
    posterior = task_posterior(labels, accuracies, classes)
    return needs_more_answers(posterior, len(labels), min_overlap=pool.default_overlap,
                              max_overlap=int(dynamic["max_overlap"]),
                              min_confidence=float(dynamic["min_confidence"]))


def skip(conn: sa.Connection, worker_key: int, assignment_id: str, when: dt.datetime) -> None:
    row = _lock_assignment(conn, assignment_id)
    _own_active(row, worker_key, when)
    set_assignment_status(conn, row, "SKIPPED", when)
    pool = _pool(conn.execute(sa.select(t.pools).where(t.pools.c.id == row.pool_id)).one())
    project = get_project(conn, pool.project_id)
    quality.on_skip(_context(conn, pool, project, when), worker_key, row.id)


def expire_overdue(conn: sa.Connection, when: dt.datetime, limit: int | None = None) -> int:
    """ACTIVE suites past their deadline become EXPIRED; their tasks go back to the queue."""
    s = t.assignments.c
    query = (sa.select(t.assignments).where(s.status == "ACTIVE", s.expires_at <= when)
             .order_by(s.id).with_for_update(skip_locked=True))
    if limit is not None:
        query = query.limit(limit)
    rows = conn.execute(query).all()
    for row in rows:
        set_assignment_status(conn, row, "EXPIRED", when)
    return len(rows)


def review(conn: sa.Connection, assignment_id: str, accept: bool, public_comment: str,
           when: dt.datetime) -> None:
    if not accept and not (public_comment or "").strip():
        raise InvalidInput("a rejection needs a public comment",
                           hint="say what was wrong so the annotator can learn from it")
    row = _lock_assignment(conn, assignment_id)
    if row.status != "SUBMITTED":
        raise AssignmentNotActive(f"assignment {row.id} is {row.status}; only SUBMITTED "
                                  "assignments are accepted or rejected",
                                  hint="auto-accepted pools need no review")
    set_assignment_status(conn, row, "ACCEPTED" if accept else "REJECTED", when,
                          public_comment=public_comment or None)
    pool = _pool(conn.execute(sa.select(t.pools).where(t.pools.c.id == row.pool_id)).one())
    project = get_project(conn, pool.project_id)
    reviewed = conn.execute(sa.select(t.assignments).where(t.assignments.c.id == row.id)).one()
    quality.on_assessment(_context(conn, pool, project, when), reviewed,
                          "ACCEPT" if accept else "REJECT")


def after_restriction(conn: sa.Connection, restriction: Any, when: dt.datetime) -> None:
    """A requester banned a worker: run the USERS_ASSESSMENT rules of the pools it covers
    where the worker has answers (they may re-issue that worker's tasks)."""
    worker_key = int(restriction.user_id)
    a = t.answers.c
    pool_keys = conn.execute(sa.select(a.pool_id).where(a.worker_id == worker_key)
                             .distinct()).scalars().all()
    for row in conn.execute(sa.select(t.pools).where(t.pools.c.id.in_(sorted(pool_keys)))):
        covered = (restriction.scope == "ALL_PROJECTS"
                   or (restriction.scope == "PROJECT"
                       and str(row.project_id) == restriction.project_id)
                   or (restriction.scope == "POOL" and str(row.id) == restriction.pool_id))
        if covered:
            pool = _pool(row)
            project = get_project(conn, pool.project_id)
            quality.on_restriction(_context(conn, pool, project, when), worker_key)


# -- reading ----------------------------------------------------------------------------------


def _assignments(conn: sa.Connection, rows: list[Any]) -> list[Assignment]:
    tasks = get_tasks(conn, [k for r in rows for k in r.task_ids])
    result = []
    for r in rows:
        result.append(Assignment(
            id=str(r.id), task_suite_id=str(r.id), pool_id=str(r.pool_id),
            user_id=str(r.worker_id), status=r.status, reward=r.reward,
            tasks=[_task_dict(tasks[k]) for k in r.task_ids], solutions=r.solutions,
            mixed=r.mixed, automerged=False, created=utc(r.created),
            submitted=utc(r.submitted), accepted=utc(r.accepted), rejected=utc(r.rejected),
            skipped=utc(r.skipped), expired=utc(r.expired), public_comment=r.public_comment,
            expires_at=utc(r.expires_at)))
    return result


def _task_dict(row: Any) -> dict[str, Any]:
    data = {"id": str(row.id), "pool_id": str(row.pool_id), "input_values": row.input_values,
            "overlap": row.overlap, "infinite_overlap": row.overlap is None}
    if row.known_solutions:
        data["known_solutions"] = row.known_solutions
    return data


def get_assignment(conn: sa.Connection, assignment_id: str) -> Assignment:
    row = conn.execute(sa.select(t.assignments).where(
        t.assignments.c.id == key(assignment_id, AssignmentNotFound, "assignment"))).first()
    if row is None:
        raise missing(AssignmentNotFound, "assignment", assignment_id)
    return _assignments(conn, [row])[0]


def list_assignments(conn: sa.Connection, *, pool_id: str | None = None,
                     status: str | None = None, worker_id: str | None = None,
                     task_id: str | None = None, limit: int | None = None,
                     after_id: str | None = None) -> list[Assignment]:
    s = t.assignments.c
    query = sa.select(t.assignments).order_by(s.id)
    if pool_id is not None:
        query = query.where(s.pool_id == key(pool_id, PoolNotFound, "pool"))
    if status is not None:
        statuses = [status] if isinstance(status, str) else list(status)
        query = query.where(s.status.in_(statuses))
    if worker_id is not None:
        query = query.where(s.worker_id == key(worker_id, WorkerNotFound, "worker"))
    if task_id is not None:
        query = query.where(s.id.in_(sa.select(t.answers.c.assignment_id).where(
            t.answers.c.task_id == key(task_id, TaskNotFound, "task"))))
    if after_id is not None:
        query = query.where(s.id > key(after_id, AssignmentNotFound, "assignment"))
    if limit is not None:
        query = query.limit(limit)
    return _assignments(conn, conn.execute(query).all())
