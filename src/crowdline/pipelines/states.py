"""Job and datum states: declared once, and applied only here.

Every state change is a guarded UPDATE (``WHERE state IN <states allowed to move there>``)
whose row count says whether it happened, as ``crowd/lifecycle.py`` does for assignments:
two runners racing on one job or datum cannot both move it.

    with engine.begin() as conn:
        if move_job(conn, job_id, JobState.RUNNING, current=JobState.CREATED,
                    started_at=utcnow()):
            ...                                   # this caller started the job
        move_datums(conn, job_id, DatumState.PENDING, current=DatumState.RUNNING)
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from crowdline.errors import InvalidTransition
from crowdline.pipelines import tables as t


class JobState(enum.StrEnum):
    CREATED = "created"  # waits for its upstream jobs (same commit set) and earlier jobs
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    KILLED = "killed"  # stopped: pipeline updated, or superseded by a later job
    UNRUNNABLE = "unrunnable"  # an upstream job of its commit set failed


class DatumState(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    SKIPPED = "skipped"
    WAITING = "waiting"  # parked on a wake condition; holds no process
    RECOVERED = "recovered"  # failed, but the pipeline's error handler succeeded


JOB_TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    JobState.CREATED: frozenset({JobState.RUNNING, JobState.KILLED, JobState.UNRUNNABLE}),
    JobState.RUNNING: frozenset({JobState.SUCCESS, JobState.FAILED, JobState.KILLED}),
    JobState.SUCCESS: frozenset(),
    JobState.FAILED: frozenset(),
    JobState.KILLED: frozenset(),
    JobState.UNRUNNABLE: frozenset(),
}

DATUM_TRANSITIONS: dict[DatumState, frozenset[DatumState]] = {
    DatumState.PENDING: frozenset({DatumState.RUNNING, DatumState.SUCCESS, DatumState.FAILED,
                                   DatumState.WAITING, DatumState.RECOVERED}),
    # RUNNING -> PENDING: the runner died mid-datum; the datum is run again on resume.
    DatumState.RUNNING: frozenset({DatumState.SUCCESS, DatumState.FAILED, DatumState.WAITING,
                                   DatumState.PENDING, DatumState.RECOVERED}),
    DatumState.WAITING: frozenset({DatumState.PENDING}),  # woken: run again
    DatumState.SUCCESS: frozenset(),
    DatumState.FAILED: frozenset(),
    DatumState.SKIPPED: frozenset(),
    DatumState.RECOVERED: frozenset(),
}

JOB_FINAL = frozenset({JobState.SUCCESS, JobState.FAILED, JobState.KILLED, JobState.UNRUNNABLE})
JOB_ACTIVE = frozenset({JobState.CREATED, JobState.RUNNING})
DATUM_FINAL = frozenset({DatumState.SUCCESS, DatumState.FAILED, DatumState.SKIPPED,
                         DatumState.RECOVERED})


def check_job(current: str, new: str) -> JobState:
    """``new`` as a JobState if the job may move there from ``current``, else InvalidTransition."""
    source, target = JobState(current), JobState(new)
    if target not in JOB_TRANSITIONS[source]:
        raise InvalidTransition(f"a job cannot go from {source} to {target}",
                                hint="it may have finished already; inspect it")
    return target


def check_datum(current: str, new: str) -> DatumState:
    source, target = DatumState(current), DatumState(new)
    if target not in DATUM_TRANSITIONS[source]:
        raise InvalidTransition(f"a datum cannot go from {source} to {target}",
                                hint="it may have finished already; list the job's datums")
    return target


def sources_of_job(target: JobState) -> list[str]:
    """Every state a job may enter ``target`` from."""
    return sorted(s.value for s, targets in JOB_TRANSITIONS.items() if target in targets)


def sources_of_datum(target: DatumState) -> list[str]:
    """Every state a datum may enter ``target`` from (for guarded bulk UPDATEs)."""
    return sorted(s.value for s, targets in DATUM_TRANSITIONS.items() if target in targets)


def _sources(current: str | Iterable[str] | None, allowed: list[str], check: Any,
             new: str) -> list[str]:
    if current is None:
        return allowed
    given = [current] if isinstance(current, str) else list(current)
    for state in given:
        check(state, new)  # a transition that is not declared is a bug: say so
    return sorted({str(s) for s in given})


def move_job(conn: sa.Connection, job_id: str, new: JobState, *,
             current: str | Iterable[str] | None = None, strict: bool = False,
             **values: Any) -> bool:
    """Move job ``job_id`` to ``new`` (setting ``values`` too) if it is in ``current`` (default:
    any state allowed to move to ``new``). True when it moved; with ``strict`` a job that
    was not there raises InvalidTransition instead of returning False."""
    new = JobState(new)
    sources = _sources(current, sources_of_job(new), check_job, new)
    done = conn.execute(t.jobs.update().where(t.jobs.c.id == job_id,
                                              t.jobs.c.state.in_(sources))
                        .values(state=new.value, **values))
    if done.rowcount != 1 and strict:
        raise InvalidTransition(f"job {job_id} is no longer {' or '.join(sources)}; "
                                f"it cannot become {new}",
                                hint="another runner or command changed it; inspect the job")
    return done.rowcount == 1


def move_jobs(conn: sa.Connection, job_ids: Sequence[str], new: JobState, *,
              current: str | Iterable[str] | None = None, **values: Any) -> int:
    """Move several jobs at once (same guard as :func:`move_job`); how many moved."""
    if not job_ids:
        return 0
    new = JobState(new)
    sources = _sources(current, sources_of_job(new), check_job, new)
    done = conn.execute(t.jobs.update().where(t.jobs.c.id.in_(list(job_ids)),
                                              t.jobs.c.state.in_(sources))
                        .values(state=new.value, **values))
    return int(done.rowcount)


def move_datums(conn: sa.Connection, job_id: str, new: DatumState, *,
                datum_ids: Sequence[str] | None = None,
                current: str | Iterable[str] | None = None, **values: Any) -> int:
    """Move a job's datums (all of them, or ``datum_ids``) that are in ``current`` (default:
    any state allowed to move to ``new``) to ``new``; returns how many moved."""
    new = DatumState(new)
    sources = _sources(current, sources_of_datum(new), check_datum, new)
    query = t.datums.update().where(t.datums.c.job_id == job_id,
                                    t.datums.c.state.in_(sources))
    if datum_ids is not None:
        if not datum_ids:
            return 0
        query = query.where(t.datums.c.datum_id.in_(list(datum_ids)))
    return int(conn.execute(query.values(state=new.value, **values)).rowcount)


def record_datum_results(conn: sa.Connection, rows: list[dict[str, Any]]) -> int:
    """Many datums, each to its own result state, in one executemany.

    Each row holds ``b_job``, ``b_datum``, ``state`` and the other columns to set; a datum
    moves only if its current state may go to every result state present (a datum that
    another runner already finished is left alone). Returns how many moved."""
    if not rows:
        return 0
    targets = {DatumState(row["state"]) for row in rows}
    sources = set.intersection(*(set(sources_of_datum(target)) for target in targets))
    statement = t.datums.update().where(
        t.datums.c.job_id == sa.bindparam("b_job"),
        t.datums.c.datum_id == sa.bindparam("b_datum"),
        # constants inline: executemany cannot expand an IN list parameter
        t.datums.c.state.in_([sa.literal_column(f"'{state}'") for state in sorted(sources)]))
    return int(conn.execute(statement, rows).rowcount)
