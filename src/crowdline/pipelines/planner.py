"""Triggers and job creation: a new input commit becomes a job with its datums planned.

A job is created in one SQL transaction (job row + a row per datum to process), so a crash
leaves either no job or a whole one. Datums whose (id, hash) are in the current output are
skipped (counted on the job, not stored); outputs and waits of an earlier unfinished job
with the same hash are reused.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from crowdline.errors import NotFound
from crowdline.pipelines import tables as t
from crowdline.pipelines.datums import (
    Datum,
    DatumPlan,
    InputCommit,
    InputFile,
    form_datums,
    plan_datums,
)
from crowdline.pipelines.spec import PipelineSpec, parse_spec
from crowdline.pipelines.staging import Staging
from crowdline.pipelines.states import DatumState, JobState, move_job

ACTIVE_JOB_STATES = (JobState.CREATED.value, JobState.RUNNING.value)
INSERT_CHUNK = 2000


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def parts_document(datum: Datum) -> list[dict[str, Any]]:
    return [
        {"name": p.name, "repo": p.repo, "branch": p.branch, "commit": p.commit, "path": p.path,
         "files": [[f.path, f.hash, f.size] for f in p.files], "join_key": p.join_key}
        for p in datum.parts
    ]


class Planner:
    def __init__(self, engine: sa.Engine, store: Any, staging: Staging) -> None:
        self.engine = engine
        self.store = store
        self.staging = staging

    def input_heads(self, spec: PipelineSpec) -> list[list[str]] | None:
        """``[[repo, branch, commit], ...]`` of every input branch, or None if one is empty."""
        heads = []
        for repo, branch in spec.input_branches():
            try:
                commit = self.store.resolve(repo, branch)
            except NotFound:
                return None
            if not commit:
                return None
            heads.append([repo, branch, commit])
        return heads

    def maybe_create_job(self, name: str) -> str | None:
        """Create a job if an input branch moved (or the pipeline was updated); else None."""
        with t.reading(self.engine) as conn:
            row = conn.execute(sa.select(t.pipelines).where(t.pipelines.c.name == name)).first()
            if row is None:
                return None
            latest = conn.execute(
                sa.select(t.jobs).where(t.jobs.c.pipeline == name)
                .order_by(t.jobs.c.created_at.desc(), t.jobs.c.id.desc()).limit(1)
            ).first()
        spec = parse_spec(row.spec)
        heads = self.input_heads(spec)
        if heads is None:
            return None
        if latest is not None and not row.needs_job and latest.input_commits == heads:
            return None
        latest_id = latest.id if latest is not None else None
        superseded = None
        if latest is not None and latest.state in ACTIVE_JOB_STATES:
            if latest.state == JobState.CREATED or self._has_runnable(latest.id):
                return None  # finish the current job first
            superseded = latest.id  # only waiting datums left: the new job takes them over
        return self._create_job(row, spec, heads, superseded, latest_id)

    def _has_runnable(self, job_id: str) -> bool:
        with t.reading(self.engine) as conn:
            found = conn.execute(
                sa.select(t.datums.c.datum_id).where(
                    t.datums.c.job_id == job_id,
                    t.datums.c.state.in_([DatumState.PENDING.value, DatumState.RUNNING.value]),
                ).limit(1)
            ).first()
        return found is not None

    def _list_inputs(self, heads: list[list[str]]) -> dict[tuple[str, str], InputCommit]:
        commits = {}
        for repo, branch, commit in heads:
            files = tuple(
                InputFile(info.path, info.hash, info.size)
                for info in self.store.walk_files(repo, commit)
                if str(getattr(info.type, "value", info.type)).lower() == "file"
            )
            commits[(repo, branch)] = InputCommit(repo, branch, commit, files)
        return commits

    def _create_job(self, row: Any, spec: PipelineSpec, heads: list[list[str]],
                    superseded: str | None, latest_id: str | None) -> str | None:
        datums = form_datums(spec.input, self._list_inputs(heads))
        with t.reading(self.engine) as conn:
            committed = dict(conn.execute(
                sa.select(t.outputs.c.datum_id, t.outputs.c.datum_hash)
                .where(t.outputs.c.pipeline == row.name)).all())
            reusable = self._reusable(conn, row.name, superseded)
        plan = plan_datums(datums, row.salt, committed)
        if spec.reprocess_spec == "every_job":  # never skip: external side effects
            plan = DatumPlan(plan.to_process + plan.skipped, [], plan.removed)
        job_id = uuid.uuid4().hex
        now = utcnow()
        rows = []
        for datum, digest in plan.to_process:
            earlier = reusable.get((datum.id, digest))
            new = _datum_row(job_id, datum, digest, DatumState.PENDING)
            if earlier is not None and earlier.state == DatumState.SUCCESS:
                new.update(state=DatumState.SUCCESS.value, outputs=earlier.outputs,
                           staging=earlier.staging, log=earlier.log, tries=earlier.tries,
                           duration=earlier.duration, finished_at=earlier.finished_at)
            elif earlier is not None and earlier.state == DatumState.WAITING:
                new.update(state=DatumState.WAITING.value, wait_condition=earlier.wait_condition,
                           wait_params=earlier.wait_params, log=earlier.log, tries=earlier.tries)
            rows.append(new)
        with self.engine.begin() as conn:
            # Another runner may have planned this pipeline meanwhile: lock and re-check.
            conn.execute(sa.select(t.pipelines.c.name).where(t.pipelines.c.name == row.name)
                         .with_for_update())
            now_latest = conn.execute(
                sa.select(t.jobs.c.id).where(t.jobs.c.pipeline == row.name)
                .order_by(t.jobs.c.created_at.desc(), t.jobs.c.id.desc()).limit(1)).scalar()
            if now_latest != latest_id:
                return None
            if superseded is not None:
                move_job(conn, superseded, JobState.KILLED, current=JobState.RUNNING,
                         finished_at=now, owner=None, error=f"superseded by job {job_id}")
            conn.execute(t.jobs.insert().values(
                id=job_id, pipeline=row.name, pipeline_version=row.version, salt=row.salt,
                state=JobState.CREATED.value, input_commits=heads, created_at=now,
                skipped=len(plan.skipped), removed=plan.removed))
            for chunk in _chunks(rows, INSERT_CHUNK):
                conn.execute(t.datums.insert(), chunk)
            conn.execute(t.pipelines.update().where(t.pipelines.c.name == row.name)
                         .values(needs_job=False))
        return job_id

    def _reusable(self, conn: sa.Connection, pipeline: str, superseded: str | None
                  ) -> dict[tuple[str, str], Any]:
        """Finished outputs (staging still on disk) of jobs that never committed, and the
        waits of the job being superseded, by (datum id, hash)."""
        unfinished = sa.select(t.jobs.c.id).where(
            t.jobs.c.pipeline == pipeline,
            t.jobs.c.state.in_([JobState.FAILED.value, JobState.KILLED.value]))
        job_filter = t.datums.c.job_id.in_(unfinished)
        if superseded is not None:
            job_filter = sa.or_(job_filter, t.datums.c.job_id == superseded)
        found: dict[tuple[str, str], Any] = {}
        rows = conn.execute(sa.select(t.datums).where(
            job_filter, t.datums.c.state.in_([DatumState.SUCCESS.value, DatumState.WAITING.value])))
        for datum in rows:
            if datum.state == DatumState.WAITING and datum.job_id != superseded:
                continue
            if datum.state == DatumState.SUCCESS and not (
                    datum.staging and self.staging.exists(pipeline, datum.staging)):
                continue
            found[(datum.datum_id, datum.datum_hash)] = datum
        return found


def _datum_row(job_id: str, datum: Datum, digest: str, state: DatumState) -> dict[str, Any]:
    return {"job_id": job_id, "datum_id": datum.id, "datum_hash": digest, "state": state.value,
            "parts": parts_document(datum), "tries": 0, "error": None, "log": None,
            "wait_condition": None, "wait_params": None, "outputs": None, "staging": None,
            "duration": None, "finished_at": None}


def _chunks(items: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
