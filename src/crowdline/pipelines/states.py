"""Job and datum states, declared once; every state change goes through :func:`check`."""

from __future__ import annotations

import enum

from crowdline.errors import InvalidTransition


class JobState(enum.StrEnum):
    CREATED = "created"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    KILLED = "killed"


class DatumState(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    SKIPPED = "skipped"
    WAITING = "waiting"  # parked on a wake condition; holds no process


JOB_TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    JobState.CREATED: frozenset({JobState.RUNNING, JobState.KILLED}),
    JobState.RUNNING: frozenset({JobState.SUCCESS, JobState.FAILED, JobState.KILLED}),
    JobState.SUCCESS: frozenset(),
    JobState.FAILED: frozenset(),
    JobState.KILLED: frozenset(),
}

DATUM_TRANSITIONS: dict[DatumState, frozenset[DatumState]] = {
    DatumState.PENDING: frozenset({DatumState.RUNNING, DatumState.SUCCESS, DatumState.FAILED,
                                   DatumState.WAITING}),
    # RUNNING -> PENDING: the runner died mid-datum; the datum is run again on resume.
    DatumState.RUNNING: frozenset({DatumState.SUCCESS, DatumState.FAILED, DatumState.WAITING,
                                   DatumState.PENDING}),
    DatumState.WAITING: frozenset({DatumState.PENDING}),  # woken: run again
    DatumState.SUCCESS: frozenset(),
    DatumState.FAILED: frozenset(),
    DatumState.SKIPPED: frozenset(),
}

JOB_FINAL = frozenset({JobState.SUCCESS, JobState.FAILED, JobState.KILLED})
DATUM_FINAL = frozenset({DatumState.SUCCESS, DatumState.FAILED, DatumState.SKIPPED})


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


def sources_of_datum(target: DatumState) -> list[str]:
    """Every state a datum may enter ``target`` from (for guarded bulk UPDATEs)."""
    return sorted(s.value for s, targets in DATUM_TRANSITIONS.items() if target in targets)
