"""A self-hosted CAPTCHA: a simple attention check shown with a suite at the pool's
``quality_control.captcha_frequency``, and the figures of Toloka's CAPTCHA collector.

Frequencies (per worker and pool, counted in suites): LOW every 20th suite, MEDIUM every 10th,
HIGH every 5th. The check is a sum of two small numbers written in words ("What is seven
plus three? Answer in digits"): trivial for a person reading the page, not answered by a
script that only labels tasks. Only a hash of the answer is stored, and the question is all an
annotator sees. A suite submitted without an answer fails its check.

The CAPTCHA collector's figures (over the worker's last ``history_size`` checks in the pool):
``stored_results_count``, ``success_rate`` and ``fail_rate`` (per cent), like any other
collector's, so ``{"key": "success_rate", "operator": "LT", "value": 50}`` can ban.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from crowdline.crowd import tables as t

EVERY_NTH_SUITE = {"LOW": 20, "MEDIUM": 10, "HIGH": 5}
_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def _hash(answer: str, salt: str) -> str:
    return hashlib.sha256(f"{salt}:{answer.strip().lower()}".encode()).hexdigest()


def frequency(pool: Any) -> int | None:
    level = (pool.quality_control or {}).get("captcha_frequency")
    return EVERY_NTH_SUITE.get(str(level)) if level else None


def maybe_attach(conn: sa.Connection, pool: Any, worker_key: int, assignment_key: int,
                 when: dt.datetime) -> dict[str, str] | None:
    """Give the new suite a check when it is the worker's n-th suite of the pool; the
    question (all the annotator sees of it), or None."""
    every = frequency(pool)
    if not every or pool.type == "TRAINING":
        return None
    s = t.assignments.c
    suites = conn.execute(sa.select(sa.func.count()).where(
        s.pool_id == int(pool.id), s.worker_id == worker_key)).scalar_one()
    if int(suites) % every:
        return None
    a, b = secrets.randbelow(10), secrets.randbelow(10)
    question = f"What is {_WORDS[a]} plus {_WORDS[b]}? Answer in digits."
    conn.execute(t.captchas.insert().values(
        assignment_id=assignment_key, pool_id=int(pool.id), worker_id=worker_key,
        question=question, answer_hash=_hash(str(a + b), str(assignment_key)),
        passed=None, created=when))
    return {"question": question}


def question_for(conn: sa.Connection, assignment_key: int) -> dict[str, str] | None:
    row = conn.execute(sa.select(t.captchas.c.question).where(
        t.captchas.c.assignment_id == assignment_key)).first()
    return None if row is None else {"question": row.question}


def record(conn: sa.Connection, assignment_key: int, answer: str | None) -> bool | None:
    """Score the suite's check (None when it had none)."""
    c = t.captchas.c
    row = conn.execute(sa.select(t.captchas).where(c.assignment_id == assignment_key)).first()
    if row is None:
        return None
    passed = answer is not None and _hash(str(answer), str(assignment_key)) == row.answer_hash
    conn.execute(t.captchas.update().where(c.id == row.id).values(passed=passed))
    return passed


def figures(results_newest_first: Sequence[bool]) -> dict[str, Any]:
    n, ok = len(results_newest_first), sum(bool(r) for r in results_newest_first)
    return {"stored_results_count": n,
            "success_rate": None if n == 0 else 100.0 * ok / n,
            "fail_rate": None if n == 0 else 100.0 * (n - ok) / n}


def worker_results(conn: sa.Connection, pool_key: int, worker_key: int,
                   history: int) -> list[bool]:
    c = t.captchas.c
    return [bool(r.passed) for r in conn.execute(sa.select(c.passed).where(
        c.pool_id == pool_key, c.worker_id == worker_key, c.passed.is_not(None))
        .order_by(c.id.desc()).limit(history))]
