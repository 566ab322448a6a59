"""One line per annotator for people who manage them: status, work done, honeypots, training.

Everything is counted in SQL with one query per figure, so the list costs the same for a
worker with ten answers as for one with a million.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from crowdline.crowd import tables as t
from crowdline.crowd.models import iso, now, utc


def worker_overview(conn: sa.Connection, *, at: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Each worker: id, name, status ("active" or what bans them), answers, honeypot accuracy
    and the result of each training pool they started."""
    at = at or now()
    a, r = t.answers.c, t.restrictions.c
    submitted = a.submitted.is_not(None)
    answers = dict(conn.execute(sa.select(a.worker_id, sa.func.count()).where(
        submitted, a.kind == "REAL").group_by(a.worker_id)).all())
    golden = {w: (int(n), int(right)) for w, n, right in conn.execute(
        sa.select(a.worker_id, sa.func.count(),
                  sa.func.coalesce(sa.func.sum(sa.case((a.correct, 1), else_=0)), 0))
        .where(submitted, a.kind == "GOLDEN").group_by(a.worker_id))}
    training: dict[int, list[str]] = {}
    for worker, pool, n, right in conn.execute(
            sa.select(a.worker_id, a.pool_id, sa.func.count(),
                      sa.func.coalesce(sa.func.sum(sa.case((a.correct, 1), else_=0)), 0))
            .where(submitted, a.kind == "TRAINING").group_by(a.worker_id, a.pool_id)
            .order_by(a.pool_id)):
        training.setdefault(worker, []).append(f"pool {pool}: {round(100 * right / n)}% of {n}")
    bans: dict[int, list[str]] = {}
    active = sa.or_(r.will_expire.is_(None), r.will_expire > at)
    for worker, scope, pool, project, until in conn.execute(
            sa.select(r.worker_id, r.scope, r.pool_id, r.project_id, r.will_expire)
            .where(active).order_by(r.id)):
        where = {"POOL": f"pool {pool}", "PROJECT": f"project {project}"}.get(scope, "everywhere")
        bans.setdefault(worker, []).append(
            f"banned from {where}" + (f" until {iso(utc(until))}" if until else ""))
    rows = []
    for w in conn.execute(sa.select(t.workers).order_by(t.workers.c.id)):
        n, right = golden.get(w.id, (0, 0))
        rows.append({
            "id": str(w.id), "name": w.name,
            "status": "; ".join(bans.get(w.id, [])) or "active",
            "answers": int(answers.get(w.id, 0)),
            "honeypots": n, "honeypot_accuracy": right / n if n else None,
            "training": "; ".join(training.get(w.id, [])) or "not taken",
            "created": iso(utc(w.created)),
        })
    return rows


_SAYS = {"EQ": "=", "NE": "≠", "GT": ">", "GTE": "≥", "LT": "<", "LTE": "≤"}


def describe_ban(qc: dict[str, Any] | None) -> str:
    """Why a quality-control rule banned someone, in words: the rule's conditions and the
    figures that met them (``GOLDEN_SET: correct_answers_rate 33.3 < 60; ...``)."""
    if not qc:
        return "set by hand"
    rule, figures = qc.get("rule") or {}, qc.get("figures") or {}
    parts = []
    for cond in rule.get("conditions") or []:
        key = cond.get("key", "?")
        seen = figures.get(key)
        shown = f"{seen:.3g}" if isinstance(seen, float) else str(seen)
        parts.append(f"{key} {shown} {_SAYS.get(cond.get('operator'), cond.get('operator'))} "
                     f"{cond.get('value')}")
    return f"{qc.get('collector', 'rule')}: " + ("; ".join(parts) or "rule fired")
