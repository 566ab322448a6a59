"""What a pool produced: statistics for the dashboard, completion, the answers as a DataFrame
(crowd-kit's ``task, worker, label`` contract) and an export as a store commit."""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from crowdline.crowd import tables as t
from crowdline.crowd.models import iso, utc
from crowdline.crowd.pools import get_pool
from crowdline.crowd.projects import get_project
from crowdline.crowd.tasks import label_of, output_field
from crowdline.crowd.workers import restricted_workers
from crowdline.errors import CrowdlineError, InvalidInput, NotFound

if TYPE_CHECKING:
    import pandas as pd

ANSWER_STATUSES = ("SUBMITTED", "ACCEPTED")


def is_pool_complete(conn: sa.Connection, pool_id: str) -> bool:
    """Every real task reached its (dynamic) overlap and no suite is still being worked on."""
    pool_key = int(get_pool(conn, pool_id).id)
    c, s = t.tasks.c, t.assignments.c
    open_task = conn.execute(sa.select(c.id).where(
        c.pool_id == pool_key, c.kind == "REAL", c.available == sa.true(),
        c.overlap.is_not(None)).limit(1)).first()
    if open_task is not None:
        return False
    st = t.task_suites.c  # requester-made suites hold their tasks' slots
    open_suite = conn.execute(sa.select(st.id).where(
        st.pool_id == pool_key, st.available == sa.true(), st.overlap.is_not(None)).limit(1)
    ).first()
    if open_suite is not None:
        return False
    active = conn.execute(sa.select(s.id).where(
        s.pool_id == pool_key, s.status == "ACTIVE").limit(1)).first()
    return active is None


def pool_stats(conn: sa.Connection, pool_id: str) -> dict[str, Any]:
    pool = get_pool(conn, pool_id)
    project = get_project(conn, pool.project_id)
    field, _ = output_field(project)
    pool_key = int(pool.id)
    a, s, c = t.answers.c, t.assignments.c, t.tasks.c
    kinds = dict(conn.execute(sa.select(c.kind, sa.func.count()).where(
        c.pool_id == pool_key).group_by(c.kind)).all())
    by_status = dict(conn.execute(sa.select(s.status, sa.func.count()).where(
        s.pool_id == pool_key).group_by(s.status)).all())
    names = {r.id: r.name for r in conn.execute(sa.select(t.workers.c.id, t.workers.c.name)
                                                .where(t.workers.c.id.in_(
                                                    sa.select(s.worker_id).where(
                                                        s.pool_id == pool_key))))}
    # Aggregates run in SQL: the dashboard stays cheap on pools of millions of answers.
    counted = (sa.select(a.worker_id, a.kind, a.correct, a.output_values, a.task_id)
               .join(t.assignments, s.id == a.assignment_id)
               .where(a.pool_id == pool_key, s.status.in_(ANSWER_STATUSES)).subquery())
    k = counted.c
    answers_per_worker = {str(w): int(n) for w, n in conn.execute(
        sa.select(k.worker_id, sa.func.count()).where(k.kind == "REAL").group_by(k.worker_id))}
    golden = {str(w): (int(n), int(right)) for w, n, right in conn.execute(
        sa.select(k.worker_id, sa.func.count(),
                  sa.func.coalesce(sa.func.sum(sa.case((k.correct, 1), else_=0)), 0))
        .where(k.kind != "REAL").group_by(k.worker_id))}
    labels: Counter[str] = Counter()
    as_text = sa.cast(k.output_values, sa.Text)
    for text, n in conn.execute(sa.select(as_text, sa.func.count()).where(k.kind == "REAL")
                                .group_by(as_text)):
        labels[str(label_of(field, json.loads(text) if text else None))] += int(n)
    per_task = (sa.select(k.task_id, sa.func.count().label("n")).where(k.kind == "REAL")
                .group_by(k.task_id).subquery())
    complete = conn.execute(sa.select(sa.func.count()).select_from(per_task).join(
        t.tasks, c.id == per_task.c.task_id).where(
        c.overlap.is_not(None), per_task.c.n >= c.overlap)).scalar_one()
    total = conn.execute(sa.select(sa.func.count()).select_from(t.tasks).where(
        c.pool_id == pool_key, c.kind == "REAL")).scalar_one()
    reasons: dict[tuple[int, int], dict[str, Any]] = {}
    for q in conn.execute(sa.select(t.qc_actions).where(t.qc_actions.c.pool_id == pool_key)):
        if "restriction_id" in q.action:
            reasons[(q.worker_id, int(q.action["restriction_id"]))] = {
                "collector": q.collector, "figures": q.figures, "rule": q.rule}
    bans = []
    r_ = t.restrictions.c
    for r in conn.execute(sa.select(t.restrictions).where(sa.or_(
            sa.and_(r_.scope == "POOL", r_.pool_id == pool_key),
            sa.and_(r_.scope == "PROJECT", r_.project_id == int(project.id)),
            r_.scope == "ALL_PROJECTS")).order_by(r_.id)):
        if r.scope == "ALL_PROJECTS" and r.worker_id not in names:
            continue
        bans.append({"restriction_id": str(r.id), "worker_id": str(r.worker_id),
                     "worker": names.get(r.worker_id), "scope": r.scope,
                     "private_comment": r.private_comment, "created": iso(utc(r.created)),
                     "will_expire": iso(utc(r.will_expire)),
                     "qc": reasons.get((r.worker_id, r.id))})
    return {
        "pool_id": pool.id, "status": pool.status, "tasks": int(kinds.get("REAL", 0)),
        "control_tasks": int(kinds.get("GOLDEN", 0)),
        "training_tasks": int(kinds.get("TRAINING", 0)),
        "assignments": {k: int(v) for k, v in by_status.items()},
        "workers": {str(k): v for k, v in names.items()},
        "answers_per_worker": answers_per_worker,
        "golden_accuracy": {w: {"answers": n, "correct": k, "accuracy": k / n if n else None}
                            for w, (n, k) in golden.items()},
        "bans": bans,
        "label_distribution": dict(labels),
        "completion": {"tasks_complete": int(complete), "tasks_total": int(total),
                       "ratio": complete / total if total else 1.0},
        "is_complete": is_pool_complete(conn, pool.id),
    }


def answers_frame(conn: sa.Connection, pool_id: str, *, include_golden: bool = False,
                  include_banned: bool = True,
                  statuses: Sequence[str] = ANSWER_STATUSES) -> pd.DataFrame:
    pool = get_pool(conn, pool_id)
    project = get_project(conn, pool.project_id)
    field, _ = output_field(project)
    pool_key = int(pool.id)
    a, s, c = t.answers.c, t.assignments.c, t.tasks.c
    kinds = ["REAL", "GOLDEN", "TRAINING"] if include_golden else ["REAL"]
    query = (sa.select(a.task_id, a.worker_id, a.output_values, a.assignment_id, a.submitted,
                       a.kind, c.known_solutions)
             .join(t.assignments, s.id == a.assignment_id).join(t.tasks, c.id == a.task_id)
             .where(a.pool_id == pool_key, a.kind.in_(kinds), s.status.in_(list(statuses)))
             .order_by(a.submitted, a.task_id))
    banned = set() if include_banned else restricted_workers(conn, pool_key, int(project.id))
    records = []
    for r in conn.execute(query):
        if r.worker_id in banned:
            continue
        record = {"task": str(r.task_id), "worker": str(r.worker_id),
                  "label": label_of(field, r.output_values), "assignment": str(r.assignment_id),
                  "submitted": utc(r.submitted)}
        if include_golden:
            record["is_golden"] = r.kind != "REAL"
            record["golden_label"] = (label_of(field, r.known_solutions[0].get("output_values"))
                                      if r.known_solutions else None)
        records.append(record)
    columns = ["task", "worker", "label", "assignment", "submitted"]
    if include_golden:
        columns += ["is_golden", "golden_label"]
    import pandas as pd  # only here: listing pools must not pay for pandas

    return pd.DataFrame.from_records(records, columns=columns)


def export_pool(conn: sa.Connection, store: Any, pool_id: str, repo: str,
                branch: str = "master") -> Any:
    """Commit the pool's answers (``answers.csv``: task, worker, label, assignment, submitted,
    is_golden, golden_label) and tasks (``tasks.jsonl``) to ``repo``/``branch``."""
    if store is None:
        raise InvalidInput("this Crowd has no store to export to",
                           hint="use the workspace's crowd (ws.crowd), which has one")
    pool = get_pool(conn, pool_id)
    frame = answers_frame(conn, pool_id, include_golden=True)
    frame["submitted"] = frame["submitted"].map(iso)
    tasks = io.StringIO()
    for r in conn.execute(sa.select(t.tasks).where(t.tasks.c.pool_id == int(pool.id))
                          .order_by(t.tasks.c.id)):
        tasks.write(json.dumps({"id": str(r.id), "input_values": r.input_values,
                                "known_solutions": r.known_solutions, "overlap": r.overlap,
                                "kind": r.kind}) + "\n")
    try:
        store.inspect_repo(repo)
    except NotFound:
        store.create_repo(repo, description="answers exported from crowd pools")
    except CrowdlineError:
        raise
    with store.commit(repo, branch, message=f"export of pool {pool.id}", origin="auto",
                      metadata={"pool_id": pool.id, "answers": len(frame)}) as writer:
        writer.put_file(f"/pool-{pool.id}/answers.csv", frame.to_csv(index=False).encode())
        writer.put_file(f"/pool-{pool.id}/tasks.jsonl", tasks.getvalue().encode())
    return writer.info
