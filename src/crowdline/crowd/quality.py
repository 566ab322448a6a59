"""Quality control as Toloka has it: collector -> conditions (all must hold) -> action.

The first half is pure: validating a ``quality_control`` config, the figures each collector
computes from plain data, and which rules those figures fire. The second half gathers the data
from the crowd tables when an answer arrives, applies the actions and records each one with
the rule and the figures that fired it (``crowd_qc_actions``).
"""

from __future__ import annotations

import datetime as dt
import operator
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from crowdline.crowd import captcha, suites
from crowdline.crowd import tables as t
from crowdline.crowd.configs import check_quality_control
from crowdline.crowd.facts import touch_worker
from crowdline.crowd.lifecycle import set_assignment_status, set_pool_status
from crowdline.crowd.models import QcAction, utc
from crowdline.crowd.transactions import key
from crowdline.database.driver import Driver
from crowdline.errors import PoolNotFound, WorkerNotFound

OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "EQ": operator.eq, "NE": operator.ne, "GT": operator.gt, "GTE": operator.ge,
    "LT": operator.lt, "LTE": operator.le,
}
_UNIT_SECONDS = {"MINUTES": 60, "HOURS": 3600, "DAYS": 86400}


# -- validation (pure) --------------------------------------------------------------------


def validate_quality_control(qc: Any) -> dict[str, Any]:
    """Check a pool's ``quality_control`` block (typed by ``crowd.configs``); Unsupported
    names any field crowdline does not run, InvalidInput any value of the wrong type or range."""
    return check_quality_control(qc)


# -- figures and conditions (pure) --------------------------------------------------------


def _rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else 100.0 * part / whole


def golden_set_figures(golden_correct: Sequence[bool], total_answers: int) -> dict[str, Any]:
    """``golden_correct``: correctness of the worker's last N control-task answers."""
    n, right = len(golden_correct), sum(bool(c) for c in golden_correct)
    return {
        "total_answers_count": total_answers,
        "golden_set_answers_count": n,
        "golden_set_correct_answers_rate": _rate(right, n),
        "golden_set_incorrect_answers_rate": _rate(n - right, n),
        "correct_answers_rate": _rate(right, n),
        "incorrect_answers_rate": _rate(n - right, n),
    }


def majority_label(labels: Sequence[Any], answer_threshold: int | None) -> Any | None:
    """The label at least ``answer_threshold`` answers agree on (default: a strict majority)."""
    if not labels:
        return None
    (label, count), *rest = Counter(labels).most_common()
    if rest and rest[0][1] == count:
        return None  # a tie has no majority
    needed = answer_threshold if answer_threshold else len(labels) // 2 + 1
    return label if count >= needed else None


def majority_vote_figures(agreements: Sequence[bool]) -> dict[str, Any]:
    n, right = len(agreements), sum(agreements)
    return {"total_answers_count": n, "correct_answers_rate": _rate(right, n),
            "incorrect_answers_rate": _rate(n - right, n)}


def submit_time_figures(durations: Sequence[float], threshold: float) -> dict[str, Any]:
    return {"total_submitted_count": len(durations),
            "fast_submitted_count": sum(1 for d in durations if d < threshold)}


def skipped_in_row_figures(statuses_newest_first: Sequence[str]) -> dict[str, Any]:
    count = 0
    for status in statuses_newest_first:
        if status != "SKIPPED":
            break
        count += 1
    return {"skipped_in_row_count": count}


def conditions_hold(conditions: Sequence[dict[str, Any]], figures: dict[str, Any]) -> bool:
    """All conditions hold; a figure that does not exist yet (None) holds none."""
    for cond in conditions:
        value = figures.get(cond["key"])
        if value is None:
            return False
        try:
            if not OPERATORS[cond["operator"]](value, cond["value"]):
                return False
        except TypeError:
            return False
    return True


def fired_rules(qc: dict[str, Any], collector_type: str,
                figures_of: Callable[[dict[str, Any]], dict[str, Any] | None]
                ) -> list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]:
    """(rule, collector_config, figures) for every rule of ``collector_type`` that fires."""
    fired = []
    for config in qc.get("configs") or []:
        collector = config["collector_config"]
        if collector["type"] != collector_type:
            continue
        figures = figures_of(collector.get("parameters") or {})
        if figures is None:
            continue
        for rule in config.get("rules") or []:
            if conditions_hold(rule.get("conditions") or [], figures):
                fired.append((rule, collector, figures))
    return fired


# -- gathering figures from the tables ----------------------------------------------------


class Context:
    """What the quality-control step needs to know about one pool."""

    def __init__(self, conn: sa.Connection, pool: Any, project_key: int, when: dt.datetime,
                 label_of: Callable[[dict[str, Any] | None], Any]) -> None:
        self.conn, self.pool, self.when, self.label_of = conn, pool, when, label_of
        self.pool_key, self.project_key = int(pool.id), project_key
        self.qc = pool.quality_control or {}

    def has(self, collector_type: str) -> bool:
        return any(c["collector_config"]["type"] == collector_type
                   for c in self.qc.get("configs") or [])


# GOLDEN_SET runs at every submit: its two statements are prepared SQL (database/driver.py)
_GOLDEN_RECENT = ("SELECT correct FROM crowd_answers WHERE worker_id = :w AND pool_id = :p "
                  "AND kind = 'GOLDEN' AND submitted IS NOT NULL ORDER BY submitted DESC "
                  "LIMIT :n")
_ANSWERED = ("SELECT count(*) FROM crowd_answers WHERE worker_id = :w AND pool_id = :p "
             "AND submitted IS NOT NULL")


def _golden_figures(ctx: Context, worker_key: int, params: dict[str, Any]) -> dict[str, Any]:
    d = Driver(ctx.conn)
    history = int(params.get("history_size") or 10)
    where = {"w": worker_key, "p": ctx.pool_key}
    recent = d.all(_GOLDEN_RECENT, {**where, "n": history})
    total = d.one(_ANSWERED, where)[0]
    return golden_set_figures([bool(r[0]) for r in recent], int(total))


def _task_answers(ctx: Context, task_keys: Sequence[int]) -> dict[int, list[tuple[int, Any]]]:
    """Submitted, not rejected answers per task: [(worker, label)]."""
    a, s = t.answers.c, t.assignments.c
    rows = ctx.conn.execute(sa.select(a.task_id, a.worker_id, a.output_values).join(
        t.assignments, s.id == a.assignment_id).where(
        a.task_id.in_(list(task_keys)), s.status.in_(("SUBMITTED", "ACCEPTED"))))
    result: dict[int, list[tuple[int, Any]]] = {k: [] for k in task_keys}
    for r in rows:
        result[r.task_id].append((r.worker_id, ctx.label_of(r.output_values)))
    return result


def _majority_figures(ctx: Context, worker_key: int, params: dict[str, Any]) -> dict[str, Any]:
    a = t.answers.c
    history = int(params.get("history_size") or 10)
    recent = [r.task_id for r in ctx.conn.execute(sa.select(a.task_id).where(
        a.worker_id == worker_key, a.pool_id == ctx.pool_key, a.kind == "REAL",
        a.submitted.is_not(None)).order_by(a.submitted.desc()).limit(history * 4))]
    if not recent:
        return majority_vote_figures([])
    overlaps = {r.id: r.overlap for r in ctx.conn.execute(
        sa.select(t.tasks.c.id, t.tasks.c.overlap).where(t.tasks.c.id.in_(recent)))}
    answers = _task_answers(ctx, recent)
    agreements: list[bool] = []
    for task_key in recent:
        given = answers[task_key]
        if overlaps.get(task_key) is None or len(given) < overlaps[task_key]:
            continue  # MAJORITY_VOTE waits until the task's overlap is complete
        majority = majority_label([label for _, label in given],
                                  params.get("answer_threshold"))
        mine = [label for worker, label in given if worker == worker_key]
        if majority is None or not mine:
            continue
        agreements.append(mine[0] == majority)
        if len(agreements) == history:
            break
    return majority_vote_figures(agreements)


def _submit_time_figures(ctx: Context, worker_key: int,
                         params: dict[str, Any]) -> dict[str, Any]:
    s = t.assignments.c
    history = int(params.get("history_size") or 10)
    rows = ctx.conn.execute(sa.select(s.created, s.submitted).where(
        s.worker_id == worker_key, s.pool_id == ctx.pool_key, s.submitted.is_not(None))
        .order_by(s.id.desc()).limit(history)).all()
    durations = [(r.submitted - r.created).total_seconds() for r in rows]
    return submit_time_figures(durations, float(params.get("fast_submit_threshold_seconds", 0)))


def _skipped_figures(ctx: Context, worker_key: int, params: dict[str, Any]) -> dict[str, Any]:
    s = t.assignments.c
    rows = ctx.conn.execute(sa.select(s.status).where(
        s.worker_id == worker_key, s.pool_id == ctx.pool_key,
        s.status.in_(("SKIPPED", "SUBMITTED", "ACCEPTED", "REJECTED")))
        .order_by(s.id.desc()).limit(1000)).all()
    return skipped_in_row_figures([r.status for r in rows])


def _answer_count_figures(ctx: Context, worker_key: int,
                          params: dict[str, Any]) -> dict[str, Any]:
    s = t.assignments.c
    count = ctx.conn.execute(sa.select(sa.func.count()).select_from(t.assignments).where(
        s.worker_id == worker_key, s.pool_id == ctx.pool_key,
        s.status.in_(("SUBMITTED", "ACCEPTED", "REJECTED")))).scalar_one()
    return {"assignments_accepted_count": int(count)}


def _captcha_figures(ctx: Context, worker_key: int, params: dict[str, Any]) -> dict[str, Any]:
    history = int(params.get("history_size") or 10)
    return captcha.figures(captcha.worker_results(ctx.conn, ctx.pool_key, worker_key, history))


_GATHER = {
    "CAPTCHA": _captcha_figures,
    "GOLDEN_SET": _golden_figures,
    "MAJORITY_VOTE": _majority_figures,
    "ASSIGNMENT_SUBMIT_TIME": _submit_time_figures,
    "SKIPPED_IN_ROW_ASSIGNMENTS": _skipped_figures,
    "ANSWER_COUNT": _answer_count_figures,
}


# -- events ---------------------------------------------------------------------------------


def on_submit(ctx: Context, worker_key: int, assignment_key: int,
              completed_tasks: Sequence[int]) -> None:
    """An assignment was submitted; ``completed_tasks`` just reached their overlap."""
    for collector in ("GOLDEN_SET", "ASSIGNMENT_SUBMIT_TIME", "ANSWER_COUNT", "CAPTCHA"):
        _run(ctx, collector, worker_key, assignment_key)
    if completed_tasks and ctx.has("MAJORITY_VOTE"):
        workers = {w for answers in _task_answers(ctx, completed_tasks).values()
                   for w, _ in answers}
        for other in sorted(workers):
            _run(ctx, "MAJORITY_VOTE", other, assignment_key)


def on_skip(ctx: Context, worker_key: int, assignment_key: int) -> None:
    _run(ctx, "SKIPPED_IN_ROW_ASSIGNMENTS", worker_key, assignment_key)


def on_assessment(ctx: Context, assignment_row: Any, event: str) -> None:
    """An assignment was accepted or rejected (``event`` ACCEPT or REJECT)."""
    s = t.assignments.c
    counts = dict(ctx.conn.execute(sa.select(s.status, sa.func.count()).where(
        s.worker_id == assignment_row.worker_id, s.pool_id == ctx.pool_key)
        .group_by(s.status)).all())
    figures = {"assessment_event": event,
               "pending_assignments_count": int(counts.get("SUBMITTED", 0)),
               "accepted_assignments_count": int(counts.get("ACCEPTED", 0)),
               "rejected_assignments_count": int(counts.get("REJECTED", 0))}
    for rule, collector, fired in fired_rules(ctx.qc, "ASSIGNMENTS_ASSESSMENT",
                                              lambda _params: figures):
        _apply(ctx, rule, collector, fired, assignment_row.worker_id, assignment_row.id)


def on_restriction(ctx: Context, worker_key: int) -> None:
    """The worker lost access to this pool through a restriction."""
    figures = {"pool_access_revoked_reason": "RESTRICTION", "skill_id": None}
    for rule, collector, fired in fired_rules(ctx.qc, "USERS_ASSESSMENT",
                                              lambda _params: figures):
        _apply(ctx, rule, collector, fired, worker_key, None)


def _run(ctx: Context, collector_type: str, worker_key: int, assignment_key: int) -> None:
    if not ctx.has(collector_type):
        return
    gather = _GATHER[collector_type]
    for rule, collector, figures in fired_rules(
            ctx.qc, collector_type, lambda params: gather(ctx, worker_key, params)):
        _apply(ctx, rule, collector, figures, worker_key, assignment_key)


# -- actions --------------------------------------------------------------------------------


def _apply(ctx: Context, rule: dict[str, Any], collector: dict[str, Any],
           figures: dict[str, Any], worker_key: int, assignment_key: int | None) -> None:
    action = rule["action"]
    kind, params = action["type"], action.get("parameters") or {}
    effect: dict[str, Any] | None = _ACTIONS[kind](ctx, params, figures, worker_key,
                                                   assignment_key)
    if effect is None:
        return  # nothing changed (already banned, skill already at that value...)
    ctx.conn.execute(t.qc_actions.insert().values(
        pool_id=ctx.pool_key, worker_id=worker_key, collector=collector["type"],
        rule={"collector_config": collector, "conditions": rule.get("conditions") or [],
              "action": action},
        figures=figures, action={"type": kind, "parameters": params, **effect},
        created=ctx.when))


def _restrict(ctx: Context, params: dict[str, Any], figures: dict[str, Any],
              worker_key: int, assignment_key: int | None) -> dict[str, Any] | None:
    scope = params.get("scope", "POOL")
    r = t.restrictions.c
    covering = [r.scope == "ALL_PROJECTS"]  # an existing ban as wide or wider is enough
    if scope in ("POOL", "PROJECT"):
        covering.append(sa.and_(r.scope == "PROJECT", r.project_id == ctx.project_key))
    if scope == "POOL":
        covering.append(sa.and_(r.scope == "POOL", r.pool_id == ctx.pool_key))
    existing = ctx.conn.execute(sa.select(r.id).where(
        r.worker_id == worker_key, sa.or_(r.will_expire.is_(None), r.will_expire > ctx.when),
        sa.or_(*covering)).limit(1)).first()
    if existing is not None:
        return None
    if "duration_unit" in params:
        unit = params["duration_unit"]
        seconds = None if unit == "PERMANENT" else int(params.get("duration") or 1) * \
            _UNIT_SECONDS[unit]
    else:
        days = params.get("duration_days")
        seconds = None if days is None else int(days) * 86400
    new_id = ctx.conn.execute(t.restrictions.insert().values(
        worker_id=worker_key, scope=scope,
        pool_id=ctx.pool_key if scope == "POOL" else None,
        project_id=ctx.project_key if scope in ("POOL", "PROJECT") else None,
        private_comment=params.get("private_comment") or "",
        will_expire=None if seconds is None else ctx.when + dt.timedelta(seconds=seconds),
        created=ctx.when)).inserted_primary_key[0]
    touch_worker(ctx.conn, worker_key)  # bans are cached per worker revision
    on_restriction(ctx, worker_key)
    return {"restriction_id": str(new_id)}


def _set_skill(ctx: Context, skill_id: Any, value: float, worker_key: int
               ) -> dict[str, Any] | None:
    c = t.worker_skills.c
    skill_key = int(skill_id)
    row = ctx.conn.execute(sa.select(c.value).where(
        c.skill_id == skill_key, c.worker_id == worker_key)).first()
    if row is not None and abs(row.value - value) < 1e-9:
        return None
    if row is None:
        ctx.conn.execute(t.worker_skills.insert().values(
            skill_id=skill_key, worker_id=worker_key, value=value, created=ctx.when,
            modified=ctx.when))
    else:
        ctx.conn.execute(t.worker_skills.update().where(
            c.skill_id == skill_key, c.worker_id == worker_key).values(
            value=value, modified=ctx.when))
    touch_worker(ctx.conn, worker_key)  # skills are cached per worker revision
    return {"skill_value": value}


def _skill_value(ctx: Context, params: dict[str, Any], figures: dict[str, Any],
                 worker_key: int, assignment_key: int | None) -> dict[str, Any] | None:
    return _set_skill(ctx, params["skill_id"], float(params["skill_value"]), worker_key)


def _skill_from_field(ctx: Context, params: dict[str, Any], figures: dict[str, Any],
                      worker_key: int, assignment_key: int | None) -> dict[str, Any] | None:
    value = figures.get(params["from_field"])
    if value is None:
        return None
    return _set_skill(ctx, params["skill_id"], max(0.0, min(100.0, float(value))), worker_key)


def _review_all(ctx: Context, worker_key: int, new_status: str,
                comment: str | None) -> list[int]:
    s = t.assignments.c
    rows = ctx.conn.execute(sa.select(t.assignments).where(
        s.worker_id == worker_key, s.pool_id == ctx.pool_key, s.status == "SUBMITTED")
        .order_by(s.id).with_for_update()).all()
    for row in rows:
        set_assignment_status(ctx.conn, row, new_status, ctx.when, public_comment=comment)
    return [row.id for row in rows]


def _reject_all(ctx: Context, params: dict[str, Any], figures: dict[str, Any],
                worker_key: int, assignment_key: int | None) -> dict[str, Any] | None:
    rejected = _review_all(ctx, worker_key, "REJECTED",
                           params.get("public_comment") or "rejected by quality control")
    for assignment in rejected:
        row = ctx.conn.execute(sa.select(t.assignments).where(
            t.assignments.c.id == assignment)).one()
        on_assessment(ctx, row, "REJECT")
    return {"assignment_ids": [str(a) for a in rejected]} if rejected else None


def _approve_all(ctx: Context, params: dict[str, Any], figures: dict[str, Any],
                 worker_key: int, assignment_key: int | None) -> dict[str, Any] | None:
    accepted = _review_all(ctx, worker_key, "ACCEPTED", None)
    return {"assignment_ids": [str(a) for a in accepted]} if accepted else None


def _change_overlap(ctx: Context, params: dict[str, Any], figures: dict[str, Any],
                    worker_key: int, assignment_key: int | None) -> dict[str, Any] | None:
    """Raise the overlap of the tasks this worker's answers no longer count for, so they are
    issued again: the tasks of the assessed assignment, or all the worker's tasks here."""
    a, s = t.answers.c, t.assignments.c
    query = sa.select(a.task_id).where(a.kind == "REAL", a.worker_id == worker_key)
    if assignment_key is not None:
        query = query.where(a.assignment_id == assignment_key)
    else:
        query = query.join(t.assignments, s.id == a.assignment_id).where(
            a.pool_id == ctx.pool_key, s.status.in_(("ACTIVE", "SUBMITTED", "ACCEPTED")))
    task_keys = sorted(r.task_id for r in ctx.conn.execute(query))
    delta = int(params.get("delta", 1))
    if not task_keys or delta == 0:
        return None
    c = t.tasks.c
    if ctx.pool.grouping == suites.SUITES:  # a requester suite is issued again as a whole
        suites.raise_overlap(ctx.conn, task_keys, delta)
    else:
        ctx.conn.execute(t.tasks.update().where(c.id.in_(task_keys), c.overlap.is_not(None))
                         .values(overlap=c.overlap + delta,
                                 available=c.issued < c.overlap + delta))
    reopened = False
    if params.get("open_pool") and ctx.pool.status == "CLOSED":
        reopened = set_pool_status(ctx.conn, ctx.pool_key, "OPEN", ctx.when)
    return {"task_ids": [str(k) for k in task_keys], "delta": delta, "pool_reopened": reopened}


_ACTIONS: dict[str, Callable[..., dict[str, Any] | None]] = {
    "RESTRICTION": _restrict,
    "RESTRICTION_V2": _restrict,
    "SET_SKILL": _skill_value,
    "SET_SKILL_FROM_OUTPUT_FIELD": _skill_from_field,
    "REJECT_ALL_ASSIGNMENTS": _reject_all,
    "APPROVE_ALL_ASSIGNMENTS": _approve_all,
    "CHANGE_OVERLAP": _change_overlap,
}


# -- reading ----------------------------------------------------------------------------------


def list_actions(conn: sa.Connection, *, pool_id: str | None = None,
                 worker_id: str | None = None) -> list[QcAction]:
    q = t.qc_actions.c
    query = sa.select(t.qc_actions).order_by(q.id)
    if pool_id is not None:
        query = query.where(q.pool_id == key(pool_id, PoolNotFound, "pool"))
    if worker_id is not None:
        query = query.where(q.worker_id == key(worker_id, WorkerNotFound, "worker"))
    return [QcAction(id=str(r.id), pool_id=str(r.pool_id), worker_id=str(r.worker_id),
                     rule=r.rule, collector=r.collector, figures=r.figures, action=r.action,
                     created=utc(r.created)) for r in conn.execute(query)]
