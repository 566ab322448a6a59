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

from crowdline.crowd import captcha, quality, suites, training, webhooks
from crowdline.crowd import tables as t
from crowdline.crowd.facts import FactsCache, Pooled, WorkerFacts, touch_worker
from crowdline.crowd.filters import filter_matches, worker_facts
from crowdline.crowd.lifecycle import set_assignment_status, submit_suite
from crowdline.crowd.models import (
    AnnotatorAssignment,
    Assignment,
    Pool,
    Project,
    SubmitResult,
    utc,
)
from crowdline.crowd.pools import _pool
from crowdline.crowd.projects import get_project, labels_of
from crowdline.crowd.tasks import check_output, get_tasks, is_correct, label_of, output_field
from crowdline.crowd.transactions import key, missing
from crowdline.crowd.workers import skill_values
from crowdline.database.driver import Driver
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


_LOCK_WORKER = "SELECT revision FROM crowd_workers WHERE id = :w"
_OVERDUE = ("SELECT id FROM crowd_assignments WHERE status = 'ACTIVE' AND expires_at <= :now "
            "LIMIT 1")
_ACTIVE = ("SELECT id, task_ids, expires_at, suite_id FROM crowd_assignments "
           "WHERE worker_id = :w AND pool_id = :p AND status = 'ACTIVE' AND expires_at > :now "
           "ORDER BY id LIMIT 1")
# unseen: no crowd_answers row of this worker for the task (its primary key is the guard)
_UNSEEN = ("FROM crowd_tasks t WHERE pool_id = :p AND kind = :kind AND available = :yes "
           "AND NOT EXISTS (SELECT 1 FROM crowd_answers a WHERE a.task_id = t.id "
           "AND a.worker_id = :w) ORDER BY id LIMIT :n")
_PICK = "SELECT id, input_values " + _UNSEEN
# One statement takes the slots: the guard issued < overlap is in the UPDATE itself.
_CLAIM = ("UPDATE crowd_tasks SET issued = issued + 1, "
          "available = (overlap IS NULL OR issued + 1 < overlap) "
          "WHERE id IN (SELECT id {unseen}{lock}) AND (overlap IS NULL OR issued < overlap) "
          "RETURNING id, input_values")
_INSERT_SUITE = ("INSERT INTO crowd_assignments (pool_id, worker_id, status, task_ids, "
                 "solutions, reward, mixed, created, expires_at, suite_id) VALUES (:p, :w, "
                 "'ACTIVE', :task_ids, NULL, :reward, :mixed, :now, :expires, :suite) "
                 "RETURNING id")


def _insert_answers_sql(count: int) -> str:
    rows = ", ".join(f"(:t{i}, :w, :a, :p, :k{i})" for i in range(count))
    return f"INSERT INTO crowd_answers (task_id, worker_id, assignment_id, pool_id, kind) " \
           f"VALUES {rows}"


def _lock_worker(d: Driver, worker_key: int) -> int:
    """Lock the worker's row (one worker's requests, e.g. two tabs, queue on PostgreSQL;
    SQLite serialises every writer anyway) and return its facts' revision."""
    row = d.one(_LOCK_WORKER if d.sqlite else _LOCK_WORKER + " FOR UPDATE", {"w": worker_key})
    if row is None:
        raise missing(WorkerNotFound, "worker", worker_key)
    return int(row[0])


def _claim_real(d: Driver, pool_key: int, worker_key: int,
                count: int) -> list[tuple[int, Any]]:
    params = {"p": pool_key, "kind": "REAL", "yes": True, "w": worker_key, "n": count}
    if d.sqlite:
        return sorted(d.all(_CLAIM.format(unseen=_UNSEEN, lock=""), params))
    claimed = d.all(_CLAIM.format(unseen=_UNSEEN, lock=" FOR UPDATE SKIP LOCKED"), params)
    for _ in range(2):
        if claimed:
            break
        # Every free task may be locked by other requests for a moment: wait for them rather
        # than tell this worker there is nothing left (we hold no task lock, so no deadlock).
        claimed = d.all(_CLAIM.format(unseen=_UNSEEN, lock=" FOR UPDATE"), params)
    return sorted(claimed)


# A training pool is small: its items are drawn from (up to) this many, so their order says
# nothing about their answers (a file of 10 "yes" then 10 "no" is not a pattern to learn).
TRAINING_WINDOW = 1000


def _pick_unseen(d: Driver, pool_key: int, kind: str, worker_key: int, count: int,
                 *, shuffle: bool, window: int | None = None) -> list[tuple[int, Any]]:
    window = window or (count * 4 if shuffle else count)
    # control and training tasks are always available: the condition lets the index
    # (pool, kind, available, id) give them in id order without a sort
    found = d.all(_PICK, {"p": pool_key, "kind": kind, "yes": True, "w": worker_key,
                          "n": window})
    return random.sample(found, min(count, len(found))) if shuffle else list(found)


def _view(pooled: Pooled, assignment_key: int, expires_at: dt.datetime,
          tasks: list[tuple[int, Any]], whole_suite: bool = False) -> AnnotatorAssignment:
    pool, project = pooled.pool, pooled.project
    return AnnotatorAssignment(
        id=str(assignment_key), pool_id=pool.id, project_id=project.id,
        public_name=project.public_name, instructions_html=pooled.instructions_html,
        output_spec=project.task_spec["output_spec"], labels=pooled.labels,
        is_training=pool.type == "TRAINING", expires_at=expires_at, whole_suite=whole_suite,
        # only id and visible input values: known solutions, hints and hidden inputs (the
        # caller's row id) never leave through here
        tasks=[{"id": str(k), "input_values": _visible(Driver.load_json(values), project)}
               for k, values in tasks])


def _visible(values: dict[str, Any], project: Project) -> dict[str, Any]:
    spec = project.task_spec.get("input_spec") or {}
    if not any(isinstance(s, dict) and s.get("hidden") for s in spec.values()):
        return values
    return {k: v for k, v in values.items()
            if not (isinstance(spec.get(k), dict) and spec[k].get("hidden"))}


def _issue(conn: sa.Connection, d: Driver, pool: Pool,
           worker_key: int) -> list[tuple[int, str, Any]] | None:
    """The suite for this worker: [(task key, kind, input values)], or None."""
    mixer, pool_key = pool.mixer_config, int(pool.id)
    if pool.type == "TRAINING":
        picked = _pick_unseen(d, pool_key, "TRAINING", worker_key,
                              mixer["training_tasks_count"], shuffle=True,
                              window=TRAINING_WINDOW)
        return [(k, "TRAINING", v) for k, v in picked] or None
    golden_count = mixer.get("golden_tasks_count", 0)
    golden = (_pick_unseen(d, pool_key, "GOLDEN", worker_key, golden_count, shuffle=True)
              if golden_count else [])
    if len(golden) < mixer.get("min_golden_tasks_count", golden_count):
        return None  # each control task reaches a worker once: this worker has seen them all
    real_count = mixer.get("real_tasks_count", 0)
    real = _claim_real(d, pool_key, worker_key, real_count) if real_count else []
    if real_count and len(real) < max(1, mixer.get("min_real_tasks_count", 1)):
        if real:  # not enough for a suite: give the claimed slots back
            c = t.tasks.c
            conn.execute(t.tasks.update().where(c.id.in_([k for k, _ in real])).values(
                issued=c.issued - 1, available=sa.true()))
        return None
    suite = [(k, "REAL", v) for k, v in real] + [(k, "GOLDEN", v) for k, v in golden]
    if mixer.get("shuffle_tasks_in_task_suite", True):
        random.shuffle(suite)
    return suite


def admits(conn: sa.Connection, pooled: Pooled, worker_key: int, facts: WorkerFacts,
           when: dt.datetime) -> bool:
    """Whether this worker may get suites of this pool now: the one place for admission
    checks (pool open, bans, filters, training). Facts come from the per-worker cache."""
    pool = pooled.pool
    if pool.status != "OPEN" or (pool.will_expire is not None and pool.will_expire <= when):
        return False  # Toloka stops issuing once a pool's will_expire has passed
    if facts.restricted(int(pool.id), int(pool.project_id), when):
        return False
    if pool.filter:  # skills, profile and computed fields (crowd/filters.py), cached
        filter_facts = facts.extra.get("filter")
        if filter_facts is None:
            filter_facts = facts.extra["filter"] = worker_facts(conn, worker_key)
        if not filter_matches(pool.filter, filter_facts):
            return False
    if pool.type == "TRAINING":
        completed, _ = _training_status(conn, facts, int(pool.id), worker_key)
        if completed and training.restart_if_due(conn, pool, worker_key, when):
            touch_worker(conn, worker_key)  # retry_training_after_days: a fresh attempt
            return True
        return not completed  # done with this training (passed, or no retry due yet)
    requirement = pool.training_requirement or {}
    if requirement.get("training_pool_id") is not None:
        try:
            training_key = int(requirement["training_pool_id"])
        except (TypeError, ValueError):
            return False
        completed, score = _training_status(conn, facts, training_key, worker_key)
        passing = float(requirement.get("training_passing_skill_value") or 0)
        return completed and score is not None and score >= passing
    return True


def _training_status(conn: sa.Connection, facts: WorkerFacts, training_key: int,
                     worker_key: int) -> tuple[bool, float | None]:
    status = facts.training.get(training_key)
    if status is None:  # a training submit changes the worker's revision: a new facts object
        status = (training.has_completed(conn, training_key, worker_key),
                  training.score(conn, training_key, worker_key))
        facts.training[training_key] = status
    return status


def request_assignment(conn: sa.Connection, worker_key: int, pool_id: str | None,
                       when: dt.datetime, cache: FactsCache | None = None
                       ) -> AnnotatorAssignment | None:
    d = Driver(conn)
    cache = cache or FactsCache()
    revision = _lock_worker(d, worker_key)
    if d.one(_OVERDUE, {"now": d.ts(when)}) is not None:
        expire_overdue(conn, when, limit=EXPIRE_BATCH)
    pool_key = None if pool_id is None else key(pool_id, PoolNotFound, "pool")
    candidates = cache.pools(d, pool_key)
    if pool_key is not None and not candidates:
        raise missing(PoolNotFound, "pool", pool_id)
    facts = cache.worker(d, worker_key, revision)
    for pooled in candidates:
        if not admits(conn, pooled, worker_key, facts, when):
            continue
        pool = pooled.pool
        pool_key = int(pool.id)
        active = d.one(_ACTIVE, {"w": worker_key, "p": pool_key, "now": d.ts(when)})
        if active is not None:  # a reload gets the same suite back
            task_keys = d.load_json(active[1])
            tasks = get_tasks(conn, task_keys)
            view = _view(pooled, active[0], d.load_ts(active[2]),
                         [(k, tasks[k].input_values) for k in task_keys],
                         whole_suite=active[3] is not None)
            if pool.quality_control.get("captcha_frequency"):
                view.captcha = captcha.question_for(conn, int(active[0]))
            return view
        suite_key = None
        if pool.grouping == suites.SUITES:  # requester-made suites, issued whole
            claimed = suites.claim(d, pool, worker_key)
            if claimed is None:
                continue
            suite_key, suite = claimed
        else:
            suite = _issue(conn, d, pool, worker_key)
            if not suite:
                continue
        expires_at = when + dt.timedelta(seconds=pool.assignment_max_duration_seconds)
        task_keys = [k for k, _, _ in suite]
        assignment_key = d.one(_INSERT_SUITE, {
            "p": pool_key, "w": worker_key, "task_ids": d.json(task_keys),
            "reward": 0.0 if pool.type == "TRAINING" else pool.reward_per_assignment,
            "mixed": suite_key is None, "now": d.ts(when), "expires": d.ts(expires_at),
            "suite": suite_key})[0]
        answers: dict[str, Any] = {"w": worker_key, "a": assignment_key, "p": pool_key}
        for i, (k, kind, _) in enumerate(suite):
            answers[f"t{i}"], answers[f"k{i}"] = k, kind
        d.run(_insert_answers_sql(len(suite)), answers)
        webhooks.record(conn, pool_key, ["ASSIGNMENT_CREATED"], when, int(assignment_key))
        view = _view(pooled, assignment_key, expires_at, [(k, v) for k, _, v in suite],
                     whole_suite=suite_key is not None)
        view.captcha = captcha.maybe_attach(conn, pool, worker_key, assignment_key, when)
        return view
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


_LOCK_SUITE = ("SELECT id, pool_id, worker_id, status, task_ids, expires_at, idempotency_key, "
               "submit_result FROM crowd_assignments WHERE id = :id")
_SUBMITTED_TASKS = ("SELECT id, kind, known_solutions, overlap, message_on_unknown_solution "
                    "FROM crowd_tasks WHERE id IN ({keys})")
_RECORD_ANSWER = ("UPDATE crowd_answers SET output_values = :out, correct = :ok, "
                  "submitted = :now WHERE task_id = :t AND worker_id = :w")


def _lock_suite(d: Driver, assignment_id: str) -> SimpleNamespace:
    row = d.one(_LOCK_SUITE if d.sqlite else _LOCK_SUITE + " FOR UPDATE",
                {"id": key(assignment_id, AssignmentNotFound, "assignment")})
    if row is None:
        raise missing(AssignmentNotFound, "assignment", assignment_id)
    return SimpleNamespace(
        id=row[0], pool_id=row[1], worker_id=row[2], status=row[3],
        task_ids=d.load_json(row[4]), expires_at=d.load_ts(row[5]), idempotency_key=row[6],
        submit_result=d.load_json(row[7]))


def submit(conn: sa.Connection, worker_key: int, assignment_id: str,
           solutions: list[dict[str, Any]], idempotency_key: str | None,
           when: dt.datetime, cache: FactsCache | None = None,
           captcha_answer: str | None = None) -> SubmitResult:
    d = Driver(conn)
    cache = cache or FactsCache()
    row = _lock_suite(d, assignment_id)
    if (row.worker_id == worker_key and row.status != "ACTIVE" and idempotency_key
            and row.idempotency_key == idempotency_key and row.submit_result):
        return SubmitResult(**row.submit_result)  # a retry of a submit that went through
    _own_active(row, worker_key, when)
    pooled = cache.pools(d, row.pool_id)[0]
    pool, project = pooled.pool, pooled.project
    if not isinstance(solutions, list) or len(solutions) != len(row.task_ids):
        raise InvalidInput(f"assignment {row.id} has {len(row.task_ids)} tasks; send one "
                           f"solution per task, in task order",
                           hint='[{"output_values": {...}}, ...]')
    outputs = [check_output(project, (s or {}).get("output_values") if isinstance(s, dict)
                            else None, f"solutions[{i}].output_values")
               for i, s in enumerate(solutions)]
    keys = sorted(set(row.task_ids))
    tasks = {r[0]: SimpleNamespace(id=r[0], kind=r[1], known_solutions=d.load_json(r[2]),
                                   overlap=r[3], message_on_unknown_solution=r[4])
             for r in d.all(_SUBMITTED_TASKS.format(
                 keys=", ".join(f":k{i}" for i in range(len(keys)))),
                 {f"k{i}": k for i, k in enumerate(keys)})}
    field, _ = output_field(project)
    correct = [is_correct(field, out, tasks[k].known_solutions)
               for k, out in zip(row.task_ids, outputs, strict=True)]
    now = d.ts(when)
    d.many(_RECORD_ANSWER, [{"out": d.json(out), "ok": ok, "now": now, "t": k, "w": worker_key}
                            for k, out, ok in zip(row.task_ids, outputs, correct, strict=True)])
    is_training = pool.type == "TRAINING"
    status = "ACCEPTED" if pool.auto_accept_solutions or is_training else "SUBMITTED"
    result = SubmitResult(assignment_id=str(row.id), status=status)
    if is_training:
        result.training_feedback = training.feedback(
            [str(k) for k in row.task_ids], correct,
            [tasks[k].message_on_unknown_solution for k in row.task_ids])
        touch_worker(conn, worker_key)  # training progress is a cached fact
    submit_suite(d, row, status, when, solutions=[{"output_values": o} for o in outputs],
                 idempotency_key=idempotency_key, submit_result=result.to_dict())
    webhooks.on_assignment(conn, int(row.pool_id), int(row.id), "ACTIVE", status, when)
    if pool.quality_control.get("captcha_frequency"):
        captcha.record(conn, int(row.id), captcha_answer)
    ctx = _context(conn, pool, project, when)
    completed: list[int] = []
    if ctx.has("MAJORITY_VOTE") or pool.dynamic_overlap_config:
        real = sorted(k for k in row.task_ids if tasks[k].kind == "REAL")  # one lock order
        completed = _completed_tasks(conn, pool, project, {k: tasks[k].overlap for k in real})
    quality.on_submit(ctx, worker_key, row.id, completed)
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
    # a requester suite is issued whole: one of its tasks cannot get one more answer alone
    dynamic = pool.dynamic_overlap_config if pool.grouping != suites.SUITES else None
    baselines: dict[int, Any] = {}
    if dynamic:
        baselines = dict(conn.execute(sa.select(c.id, c.baseline_solutions).where(
            c.id.in_(task_keys), c.baseline_solutions.is_not(None))).all())
    completed = []
    for task_key in task_keys:
        overlap, given = overlaps[task_key], answers[task_key]
        if overlap is None or len(given) < overlap:
            continue
        if dynamic and overlap < int(dynamic["max_overlap"]) and _needs_more(
                conn, pool, project, given, dynamic, baselines.get(task_key)):
            conn.execute(t.tasks.update().where(c.id == task_key).values(
                overlap=c.overlap + 1, available=c.issued < c.overlap + 1))
            continue
        completed.append(task_key)
    return completed


def _needs_more(conn: sa.Connection, pool: Pool, project: Project,
                given: list[tuple[int, Any]], dynamic: dict[str, Any],
                baseline: list[dict[str, Any]] | None = None) -> bool:
    """Is the task still uncertain? People's answers weighted by their honeypot accuracy (or
    skill), plus the task's baseline solutions (a model's label, its probability as the
    weight) as voters that shift the posterior but do not count as answers toward overlap."""
    from crowdline.aggregate.dynamic_overlap import (
        needs_more_answers,
        task_posterior,
        worker_accuracy,
    )
    from crowdline.crowd.aggregation import skill_accuracy

    field, _ = output_field(project)
    classes = [label_of(field, {field: v}) for v, _, _ in labels_of(project.task_spec)]
    labels = [label_of(field, out) for _, out in given]
    accuracies = []
    skill = dynamic.get("answer_weight_skill_id")
    for worker_key, _ in given:
        if skill is not None:
            # the same weights as Crowd.aggregate_pool's WEIGHTED_DYNAMIC_OVERLAP
            accuracies.append(skill_accuracy(skill_values(conn, worker_key).get(str(skill))))
        else:
            a = t.answers.c
            total, right = conn.execute(sa.select(
                sa.func.count(), sa.func.coalesce(sa.func.sum(sa.case((a.correct, 1),
                                                                       else_=0)), 0))
                .where(a.worker_id == worker_key, a.pool_id == int(pool.id),
                       a.kind == "GOLDEN", a.submitted.is_not(None))).one()
            accuracies.append(worker_accuracy(int(right), int(total)))
    for solution in baseline or ():
        vote = label_of(field, solution.get("output_values"))
        if vote in classes:
            labels.append(vote)
            accuracies.append(float(solution["confidence_weight"]))
    posterior = task_posterior(labels, accuracies, classes)
    return needs_more_answers(posterior, len(given), min_overlap=pool.default_overlap,
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
            id=str(r.id), task_suite_id=str(r.suite_id if r.suite_id is not None else r.id),
            pool_id=str(r.pool_id),
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


assignments_of_rows = _assignments  # for crowdline.crowd.search callers


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
