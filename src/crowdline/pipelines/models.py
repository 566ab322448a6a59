"""What the pipelines facade returns (plain dataclasses; the CLI renders them)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class PipelineInfo:
    name: str
    version: int
    description: str
    inputs: list[str]  # "repo@branch:glob"
    transform: str
    created_at: dt.datetime
    updated_at: dt.datetime
    last_job: str | None = None
    last_job_state: str | None = None
    spec: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class JobInfo:
    id: str
    pipeline: str
    pipeline_version: int
    state: str
    input_commits: list[dict[str, str]]
    output_commit: str | None
    error: str | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    datums: dict[str, int]  # state -> count
    waiting_on: dict[str, int] = field(default_factory=dict)  # condition -> datums
    commit_set: str | None = None  # the commit set (global id) the job belongs to
    reason: str | None = None  # what a created job waits for ("waiting for upstream job X")

    @property
    def progress(self) -> str:
        total = sum(self.datums.values())
        done = sum(self.datums.get(s, 0) for s in ("success", "skipped"))
        return f"{done}/{total}"


@dataclass(frozen=True)
class CommitSetStatus:
    """A commit set's jobs and how the set ended (``state`` is None while it runs)."""

    id: str
    jobs: list[JobInfo]
    state: str | None  # "success" | "failed" | "unrunnable" | "killed" | None

    @property
    def done(self) -> bool:
        return self.state is not None


@dataclass(frozen=True)
class DatumInfo:
    job_id: str
    datum_id: str
    datum_hash: str
    state: str
    paths: list[str]  # "name:/path" of each part
    tries: int
    error: str | None
    wait_condition: str | None
    wait_params: dict[str, Any] | None
    outputs: list[str] | None
    duration: float | None


@dataclass(frozen=True)
class DatumLog:
    datum_id: str
    state: str
    log: str
    error: str | None


@dataclass
class RunReport:
    """What a ``run()`` did; ``waiting`` says how many datums wait on which condition."""

    jobs_created: list[str] = field(default_factory=list)
    jobs_succeeded: list[str] = field(default_factory=list)
    jobs_failed: list[str] = field(default_factory=list)
    # ended without running: an upstream job of their commit set failed or was superseded
    jobs_unrunnable: list[str] = field(default_factory=list)
    datums_processed: int = 0
    datums_failed: int = 0
    datums_woken: int = 0
    datums_recovered: int = 0
    waiting: dict[str, int] = field(default_factory=dict)
    timed_out: bool = False
    # one entry per failed or recovered datum: pipeline, job_id, datum_id, inputs, error,
    # log_tail, permanent, skipped (True when on_datum_failure: skip_datum let the job go on)
    failures: list[dict[str, Any]] = field(default_factory=list)
    # what transforms reported with warnings.warn: pipeline, job_id, datum_id, message
    warnings: list[dict[str, Any]] = field(default_factory=list)

    def finished_something(self) -> bool:
        """Did a job start or end, or a datum finish (not merely wake or wait again)?"""
        return bool(self.jobs_created or self.jobs_succeeded or self.jobs_failed
                    or self.jobs_unrunnable or self.datums_processed or self.datums_failed
                    or self.datums_recovered)

    def merge(self, other: RunReport) -> None:
        self.jobs_created += other.jobs_created
        self.jobs_succeeded += other.jobs_succeeded
        self.jobs_failed += other.jobs_failed
        self.jobs_unrunnable += other.jobs_unrunnable
        self.datums_processed += other.datums_processed
        self.datums_failed += other.datums_failed
        self.datums_woken += other.datums_woken
        self.datums_recovered += other.datums_recovered
        self.failures += other.failures
        self.warnings += other.warnings
        self.waiting = dict(other.waiting)
