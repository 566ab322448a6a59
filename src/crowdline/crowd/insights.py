"""The requester's figures for the dashboard: progress by answers with an ETA, answers over
time, a task browser, one worker's record, agreement. Read-only; the requester's view (it
carries known solutions: never hand it to an annotator).

Progress counts answers, not finished tasks: ``collected`` is the answers real tasks got (each
task counted up to its overlap), ``needed`` the sum of their overlaps, so 60 answers in a pool
of 52 tasks × 3 read 60/156 instead of "0 tasks complete". The ETA divides what is missing by
the rate of the last ``RATE_WINDOW`` (or, when that was idle, of the whole run).

The task browser and agreement read every answer of the pool (fine for the pools people browse
— tens of thousands of tasks; ``pool_progress`` stays in SQL and is cheap at any size).
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from crowdline.crowd import tables as t
from crowdline.crowd import training
from crowdline.crowd.models import iso, utc
from crowdline.crowd.pools import _pool, get_pool
from crowdline.crowd.projects import get_project
from crowdline.crowd.tasks import label_of, output_field
from crowdline.crowd.transactions import key, missing
from crowdline.errors import InvalidInput, WorkerNotFound

ANSWERED = ("SUBMITTED", "ACCEPTED")
RATE_WINDOW = dt.timedelta(minutes=15)
TASK_FILTERS = ("all", "complete", "incomplete", "disagreement", "control")
TASK_SORTS = ("id", "-id", "answers", "-answers", "confidence", "-confidence")


# -- pure figures --------------------------------------------------------------------------


def majority(labels: Sequence[Any]) -> tuple[Any, float | None]:
    """The most frequent label and its share of the votes (ties: the first seen)."""
    if not labels:
        return None, None
    counts = Counter(str(label) for label in labels)
    top, n = counts.most_common(1)[0]
    return top, n / len(labels)


def pairwise_agreement(groups: Iterable[Sequence[Any]]) -> tuple[float | None, int]:
    """Share of agreeing answer pairs over tasks with two answers or more, and how many
    tasks counted (None when none had two)."""
    agreeing = pairs = tasks = 0
    for labels in groups:
        if len(labels) < 2:
            continue
        tasks += 1
        counts = Counter(str(label) for label in labels)
        agreeing += sum(n * (n - 1) // 2 for n in counts.values())
        pairs += len(labels) * (len(labels) - 1) // 2
    return (agreeing / pairs if pairs else None), tasks


def eta_seconds(missing_answers: int, rate_per_second: float | None) -> float | None:
    if missing_answers <= 0:
        return 0.0
    if not rate_per_second:
        return None
    return missing_answers / rate_per_second


def buckets(times: Sequence[dt.datetime], values: Sequence[tuple[bool, bool | None]],
            count: int = 24) -> list[dict[str, Any]]:
    """Answers per time bucket (equal widths between the first and last answer): how many,
    and how many control answers were right of how many."""
    if not times:
        return []
    start, end = min(times), max(times)
    width = max((end - start) / count, dt.timedelta(seconds=1))
    rows = [{"start": start + i * width, "answers": 0, "golden": 0, "golden_correct": 0}
            for i in range(count)]
    for when, (is_golden, correct) in zip(times, values, strict=True):
        row = rows[min(count - 1, int((when - start) / width))]
        row["answers"] += 1
        if is_golden:
            row["golden"] += 1
            row["golden_correct"] += int(bool(correct))
    for row in rows:
        row["golden_accuracy"] = (row["golden_correct"] / row["golden"]) if row["golden"] \
            else None
        row["start"] = iso(row["start"])
    return rows


# -- progress --------------------------------------------------------------------------------


def pool_progress(conn: sa.Connection, pool_id: str, when: dt.datetime) -> dict[str, Any]:
    pool = get_pool(conn, pool_id)
    pool_key = int(pool.id)
    a, s, c = t.answers.c, t.assignments.c, t.tasks.c
    answered = (sa.select(a.task_id, sa.func.count().label("n"))
                .join(t.assignments, s.id == a.assignment_id)
                .where(a.pool_id == pool_key, a.kind == "REAL", a.submitted.is_not(None),
                       s.status.in_(ANSWERED))
                .group_by(a.task_id).subquery())
    n = sa.func.coalesce(answered.c.n, 0)
    row = conn.execute(sa.select(
        sa.func.count(),
        sa.func.coalesce(sa.func.sum(c.overlap), 0),
        sa.func.coalesce(sa.func.sum(sa.case((n > c.overlap, c.overlap), else_=n)), 0),
        sa.func.coalesce(sa.func.sum(sa.case((n >= c.overlap, 1), else_=0)), 0))
        .select_from(t.tasks).outerjoin(answered, answered.c.task_id == c.id)
        .where(c.pool_id == pool_key, c.kind == "REAL", c.overlap.is_not(None))).one()
    tasks_total, needed, collected, complete = (int(v) for v in row)
    submitted = (sa.select(sa.func.count(), sa.func.min(a.submitted), sa.func.max(a.submitted))
                 .join(t.assignments, s.id == a.assignment_id)
                 .where(a.pool_id == pool_key, a.submitted.is_not(None),
                        s.status.in_(ANSWERED)))
    total, first, last = conn.execute(submitted).one()
    recent = conn.execute(submitted.where(a.submitted >= when - RATE_WINDOW)).one()[0]
    rate = None
    if recent:
        rate = int(recent) / RATE_WINDOW.total_seconds()
    elif total and first is not None and last is not None and utc(last) > utc(first):
        rate = int(total) / (utc(last) - utc(first)).total_seconds()
    active = conn.execute(sa.select(sa.func.count()).where(
        s.pool_id == pool_key, s.status == "ACTIVE")).scalar_one()
    return {"pool_id": pool.id, "status": pool.status, "collected": collected,
            "needed": needed, "ratio": collected / needed if needed else 1.0,
            "tasks_complete": complete, "tasks_total": tasks_total,
            "answers_total": int(total or 0), "active_suites": int(active),
            "rate_per_minute": None if rate is None else rate * 60,
            "eta_seconds": eta_seconds(needed - collected, rate),
            "last_answer": iso(utc(last)) if last is not None else None}


# -- answers of a pool -------------------------------------------------------------------------


def _labels(conn: sa.Connection, pool_key: int, field: str) -> list[tuple[int, int, str, Any]]:
    """(task, worker, kind, label) of every counted answer of the pool. The answers are read
    as JSON text and each distinct text parsed once (a pool has few distinct answers)."""
    a, s = t.answers.c, t.assignments.c
    text = sa.cast(a.output_values, sa.Text)
    parsed: dict[str | None, Any] = {}
    result = []
    for task_key, worker_key, kind, raw in conn.execute(
            sa.select(a.task_id, a.worker_id, a.kind, text)
            .join(t.assignments, s.id == a.assignment_id)
            .where(a.pool_id == pool_key, a.submitted.is_not(None), s.status.in_(ANSWERED))
            .order_by(a.submitted, a.task_id)):  # ties of the majority go to the earlier
        if raw not in parsed:
            parsed[raw] = label_of(field, json.loads(raw) if raw else None)
        result.append((task_key, worker_key, kind, parsed[raw]))
    return result


def timeline(conn: sa.Connection, pool_id: str, count: int = 24) -> list[dict[str, Any]]:
    pool = get_pool(conn, pool_id)
    a, s = t.answers.c, t.assignments.c
    rows = conn.execute(sa.select(a.submitted, a.kind, a.correct)
                        .join(t.assignments, s.id == a.assignment_id)
                        .where(a.pool_id == int(pool.id), a.submitted.is_not(None),
                               s.status.in_(ANSWERED)).order_by(a.submitted)).all()
    return buckets([utc(r.submitted) for r in rows],
                   [(r.kind != "REAL", r.correct) for r in rows], count)


def _names(conn: sa.Connection, worker_keys: Iterable[int]) -> dict[int, str]:
    keys = sorted(set(worker_keys))
    if not keys:
        return {}
    w = t.workers.c
    return {r.id: r.name for r in conn.execute(sa.select(w.id, w.name).where(w.id.in_(keys)))}


def _text(values: dict[str, Any] | None) -> str:
    return " · ".join(str(v) for v in (values or {}).values())


def tasks_table(conn: sa.Connection, pool_id: str, *, q: str = "", status: str = "all",
                label: str = "", sort: str = "id", limit: int = 50,
                offset: int = 0) -> dict[str, Any]:
    """One page of the pool's tasks with their answers, majority label and its confidence.

    ``q`` searches the input text (case-insensitive), ``status`` is one of TASK_FILTERS,
    ``label`` keeps tasks whose majority label it is, ``sort`` one of TASK_SORTS."""
    if status not in TASK_FILTERS:
        raise InvalidInput(f"task filter {status!r} is not one of {', '.join(TASK_FILTERS)}")
    if sort not in TASK_SORTS:
        raise InvalidInput(f"task sort {sort!r} is not one of {', '.join(TASK_SORTS)}")
    if limit < 1 or limit > 500 or offset < 0:
        raise InvalidInput("limit must be 1..500 and offset >= 0")
    pool = get_pool(conn, pool_id)
    field, _ = output_field(get_project(conn, pool.project_id))
    pool_key = int(pool.id)
    c = t.tasks.c
    by_task: dict[int, list[tuple[int, Any]]] = defaultdict(list)
    for task_key, worker_key, _, given_label in _labels(conn, pool_key, field):
        by_task[task_key].append((worker_key, given_label))
    names = _names(conn, (w for given in by_task.values() for w, _ in given))
    rows = []
    needle = q.strip().lower()
    # input values are parsed for the search or for the rows shown, not for every task
    inputs = c.input_values if needle else sa.cast(c.input_values, sa.Text)
    for r in conn.execute(sa.select(c.id, c.kind, inputs.label("inputs"), c.overlap)
                          .where(c.pool_id == pool_key).order_by(c.id)):
        text = _text(r.inputs) if needle else None
        if needle and needle not in (text or "").lower():
            continue
        given = by_task.get(r.id, [])
        top, confidence = majority([lab for _, lab in given])
        complete = r.overlap is not None and len(given) >= r.overlap
        disagree = len({str(lab) for _, lab in given}) > 1
        if ((status == "complete" and not complete) or (status == "incomplete" and complete)
                or (status == "disagreement" and not disagree)
                or (status == "control" and r.kind == "REAL")):
            continue
        if label and top != label:
            continue
        rows.append({"id": str(r.id), "kind": r.kind, "text": text, "raw": r.inputs,
                     "overlap": r.overlap, "given": given, "label": top,
                     "confidence": confidence, "complete": complete})
    descending = sort.startswith("-")
    field_name = sort.lstrip("-")
    if field_name == "id":
        rows.sort(key=lambda row: int(row["id"]), reverse=descending)
    elif field_name == "answers":
        rows.sort(key=lambda row: (len(row["answers"]), int(row["id"])), reverse=descending)
    else:
        rows.sort(key=lambda row: (row["confidence"] if row["confidence"] is not None else -1,
                                   int(row["id"])), reverse=descending)
    shown = rows[offset:offset + limit]
    golden = {r.id: r.known_solutions for r in conn.execute(
        sa.select(c.id, c.known_solutions).where(
            c.id.in_([int(row["id"]) for row in shown if row["kind"] != "REAL"])))}
    for row in shown:
        if row["text"] is None:
            row["text"] = _text(json.loads(row["raw"]) if row["raw"] else None)
        known = golden.get(int(row["id"]))
        row["golden"] = label_of(field, known[0].get("output_values")) if known else None
        row["answers"] = [{"worker_id": str(w), "worker": names.get(w, str(w)), "label": lab}
                          for w, lab in row.pop("given")]
        row.pop("raw")
    return {"total": len(rows), "rows": shown, "offset": offset, "limit": limit}


def agreement(conn: sa.Connection, pool_id: str) -> dict[str, Any]:
    """Pairwise agreement of the pool's real tasks, and each worker's agreement with the
    majority of the other answers on the tasks they shared."""
    pool = get_pool(conn, pool_id)
    field, _ = output_field(get_project(conn, pool.project_id))
    by_task: dict[int, list[tuple[int, Any]]] = defaultdict(list)
    for task_key, worker_key, kind, given_label in _labels(conn, int(pool.id), field):
        if kind == "REAL":
            by_task[task_key].append((worker_key, str(given_label)))
    overall, tasks = pairwise_agreement([[lab for _, lab in g] for g in by_task.values()])
    agree: dict[int, list[bool]] = defaultdict(list)
    for given in by_task.values():
        for worker, lab in given:
            others = [other for w, other in given if w != worker]
            top, _ = majority(others)
            if top is not None:
                agree[worker].append(lab == top)
    return {"pairwise": overall, "tasks": tasks,
            "workers": {str(w): sum(v) / len(v) for w, v in agree.items() if v}}


# -- one worker ----------------------------------------------------------------------------------


def worker_record(conn: sa.Connection, worker_id: str, when: dt.datetime) -> dict[str, Any]:
    """Everything the requester knows about one worker: answers and time per task per pool,
    honeypots, tasks skipped, training results, bans (active and past)."""
    worker_key = key(worker_id, WorkerNotFound, "worker")
    w = t.workers.c
    worker = conn.execute(sa.select(t.workers).where(w.id == worker_key)).first()
    if worker is None:
        raise missing(WorkerNotFound, "worker", worker_id)
    a, s, p = t.answers.c, t.assignments.c, t.pools.c
    pools = {r.id: _pool(r) for r in conn.execute(sa.select(t.pools).where(p.id.in_(
        sa.select(s.pool_id).where(s.worker_id == worker_key))))}
    rows = []
    for pool_key, pool in sorted(pools.items()):
        suites = conn.execute(sa.select(s.status, s.created, s.submitted, s.task_ids).where(
            s.worker_id == worker_key, s.pool_id == pool_key)).all()
        per_task = [(utc(r.submitted) - utc(r.created)).total_seconds() / max(1, len(r.task_ids))
                    for r in suites if r.submitted is not None and r.status in ANSWERED]
        kinds = conn.execute(sa.select(
            a.kind, sa.func.count(),
            sa.func.coalesce(sa.func.sum(sa.case((a.correct, 1), else_=0)), 0))
            .join(t.assignments, s.id == a.assignment_id)
            .where(a.worker_id == worker_key, a.pool_id == pool_key, a.submitted.is_not(None),
                   s.status.in_(ANSWERED)).group_by(a.kind)).all()
        counts = {k: (int(n), int(right)) for k, n, right in kinds}
        statuses = Counter(r.status for r in suites)
        skipped_tasks = sum(len(r.task_ids) for r in suites if r.status == "SKIPPED")
        golden_n, golden_right = counts.get("GOLDEN", (0, 0))
        row = {"pool_id": str(pool_key), "name": pool.private_name or f"pool {pool_key}",
               "type": pool.type, "answers": counts.get("REAL", (0, 0))[0],
               "suites": dict(statuses), "skipped_tasks": skipped_tasks,
               "seconds_per_task": statistics.median(per_task) if per_task else None,
               "golden": golden_n, "golden_correct": golden_right,
               "golden_accuracy": golden_right / golden_n if golden_n else None}
        if pool.type == "TRAINING":
            answered, correct = training._progress(conn, pool_key, worker_key)
            row["training"] = {"answered": answered, "correct": correct,
                               "completed": training.has_completed(conn, pool_key, worker_key),
                               "score": 100.0 * correct / answered if answered else None}
        rows.append(row)
    r_ = t.restrictions.c
    q = t.qc_actions.c
    reasons = {}
    for action in conn.execute(sa.select(t.qc_actions).where(q.worker_id == worker_key)):
        if "restriction_id" in action.action:
            reasons[int(action.action["restriction_id"])] = {
                "collector": action.collector, "figures": action.figures}
    bans = []
    for r in conn.execute(sa.select(t.restrictions).where(r_.worker_id == worker_key)
                          .order_by(r_.id)):
        expires = utc(r.will_expire)
        bans.append({"id": str(r.id), "scope": r.scope,
                     "pool_id": None if r.pool_id is None else str(r.pool_id),
                     "project_id": None if r.project_id is None else str(r.project_id),
                     "private_comment": r.private_comment, "created": iso(utc(r.created)),
                     "will_expire": iso(expires), "active": expires is None or expires > when,
                     "qc": reasons.get(r.id)})
    return {"id": str(worker.id), "name": worker.name, "pools": rows, "bans": bans,
            "banned": any(b["active"] for b in bans)}
