"""Running jobs: claim, dispatch datum batches, record results, land the output commit.

Only the coordinator writes job state. A job is claimed by one runner at a time (owner +
heartbeat; a dead owner on this host is taken over at once). Every step is idempotent, so a
runner killed at any moment is resumed by the next ``run()``:

* datums left ``running`` go back to ``pending``; finished batches are on disk before the
  datum rows point at them, so no finished datum runs again;
* the output commit carries the job id in its metadata; if the runner died after the commit
  but before the job row said so, the commit is adopted rather than made twice.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import uuid
from collections.abc import Iterator
from concurrent.futures import BrokenExecutor
from typing import Any

import sqlalchemy as sa

from crowdline.errors import (
    BackendUnavailable,
    Conflict,
    FileNotFound,
    InvalidTransition,
    NotFound,
)
from crowdline.pipelines import failures
from crowdline.pipelines import tables as t
from crowdline.pipelines.executors import Executor, batch_size_for
from crowdline.pipelines.models import RunReport
from crowdline.pipelines.planner import utcnow
from crowdline.pipelines.processes import clean_up_after_crashes
from crowdline.pipelines.secret_store import mask
from crowdline.pipelines.spec import PipelineSpec, parse_spec
from crowdline.pipelines.staging import Staging
from crowdline.pipelines.states import (
    DatumState,
    JobState,
    move_datums,
    move_job,
    record_datum_results,
)
from crowdline.pipelines.transform import DatumResult, DatumTask, load_callable

LEASE_SECONDS = 60.0
HOST = socket.gethostname()


def new_owner() -> str:
    return f"{HOST}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _owner_is_gone(owner: str | None, heartbeat: dt.datetime | None) -> bool:
    if not owner:
        return True
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host == HOST and pid.isdigit():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
    if heartbeat is None:
        return True
    if heartbeat.tzinfo is None:
        heartbeat = heartbeat.replace(tzinfo=dt.UTC)
    return (utcnow() - heartbeat).total_seconds() > LEASE_SECONDS


class JobRunner:
    def __init__(self, workspace: Any, staging: Staging, secrets: Any) -> None:
        self.workspace = workspace
        self.engine: sa.Engine = workspace.engine
        self.staging = staging
        self.secrets = secrets
        self._secret_values: list[str] = []
        self.owner = new_owner()
        self._task_parts: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.settings = workspace.settings.to_dict()
        clean_up_after_crashes(workspace.settings.home)  # workers, scratch of killed runners

    # -- claiming ---------------------------------------------------------------------------

    def claim(self, job_id: str) -> bool:
        with self.engine.begin() as conn:
            job = conn.execute(sa.select(t.jobs.c.owner, t.jobs.c.heartbeat_at, t.jobs.c.state)
                               .where(t.jobs.c.id == job_id)).first()
            if job is None or job.state not in (JobState.CREATED, JobState.RUNNING):
                return False
            if job.owner != self.owner and not _owner_is_gone(job.owner, job.heartbeat_at):
                return False
            owner_test = (t.jobs.c.owner.is_(None) if job.owner is None
                          else t.jobs.c.owner == job.owner)
            done = conn.execute(t.jobs.update().where(t.jobs.c.id == job_id, owner_test)
                                .values(owner=self.owner, heartbeat_at=utcnow()))
            return done.rowcount == 1

    def release(self, job_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(t.jobs.update().where(t.jobs.c.id == job_id, t.jobs.c.owner == self.owner)
                         .values(owner=None))

    def runnable_jobs(self) -> list[str]:
        """Active jobs with work to do now (pending datums, or all datums settled)."""
        with t.reading(self.engine) as conn:
            # Created jobs are started (planned) by the planner once their inputs are ready.
            active = conn.execute(
                sa.select(t.jobs.c.id, t.jobs.c.state).where(
                    t.jobs.c.state == JobState.RUNNING.value)
                .order_by(t.jobs.c.set_seq, t.jobs.c.created_at, t.jobs.c.id)).all()
            runnable = []
            for job_id, state in active:
                waiting_or_busy = conn.execute(sa.select(t.datums.c.state).where(
                    t.datums.c.job_id == job_id,
                    t.datums.c.state.in_([DatumState.PENDING.value, DatumState.RUNNING.value,
                                          DatumState.WAITING.value])).distinct()).scalars().all()
                if state == JobState.CREATED or set(waiting_or_busy) != {DatumState.WAITING.value}:
                    runnable.append(job_id)
        return runnable

    # -- processing ---------------------------------------------------------------------------

    def process(self, job_id: str, executor_factory: Any, report: RunReport) -> bool:
        """Run a job's pending datums and finish it if nothing waits. False if not claimed."""
        if not self.claim(job_id):
            return False
        try:
            job = self._job(job_id)
            spec = parse_spec(self._spec_of(job))
            self._drop_orphan_staging(job.pipeline)
            if job.state == JobState.CREATED:
                self._set_job(job_id, JobState.CREATED, JobState.RUNNING, started_at=utcnow())
            self._reset_running(job_id)
            pending = self._pending(job_id)
            if pending:
                self._dispatch(job, spec, pending, executor_factory(), report)
            self._finish_if_settled(job_id, spec, report)
        finally:
            self.release(job_id)
        return True

    def _drop_orphan_staging(self, pipeline: str) -> None:
        """Batch files no datum row points at were cut short by a crash: drop them."""
        with t.reading(self.engine) as conn:
            referenced = set(conn.execute(
                sa.select(t.datums.c.staging).distinct()
                .join(t.jobs, t.jobs.c.id == t.datums.c.job_id)
                .where(t.jobs.c.pipeline == pipeline, t.datums.c.staging.is_not(None))
            ).scalars())
        self.staging.remove_unreferenced(pipeline, referenced)

    def _job(self, job_id: str) -> Any:
        with t.reading(self.engine) as conn:
            job = conn.execute(sa.select(t.jobs).where(t.jobs.c.id == job_id)).first()
        if job is None:
            raise NotFound(f"job {job_id} vanished while running", hint="run again")
        return job

    def _spec_of(self, job: Any) -> dict[str, Any]:
        with t.reading(self.engine) as conn:
            spec = conn.execute(sa.select(t.pipelines.c.spec)
                                .where(t.pipelines.c.name == job.pipeline)).scalar_one_or_none()
        if spec is None:
            raise NotFound(f"pipeline {job.pipeline} of job {job.id} was deleted",
                           hint="delete the job's pipeline jobs or recreate the pipeline")
        return dict(spec)

    def _set_job(self, job_id: str, current: JobState, new: JobState, **values: Any) -> None:
        with self.engine.begin() as conn:
            move_job(conn, job_id, new, current=current, **values)

    def _reset_running(self, job_id: str) -> None:
        with self.engine.begin() as conn:  # the runner died mid-datum
            move_datums(conn, job_id, DatumState.PENDING, current=DatumState.RUNNING)

    def _pending(self, job_id: str) -> list[Any]:
        with t.reading(self.engine) as conn:
            return list(conn.execute(
                sa.select(t.datums.c.datum_id, t.datums.c.datum_hash, t.datums.c.parts)
                .where(t.datums.c.job_id == job_id, t.datums.c.state == DatumState.PENDING.value)
                .order_by(t.datums.c.datum_id)).all())

    def _dispatch(self, job: Any, spec: PipelineSpec, pending: list[Any], executor: Executor,
                  report: RunReport) -> None:
        env = dict(spec.transform.env)
        secret_env = self.secrets.environment(spec.transform.secrets)
        self._secret_values = list(secret_env.values())  # masked in logs and errors
        env.update(secret_env)
        transform = {"python": spec.transform.python, "cmd": list(spec.transform.cmd),
                     "stdin": list(spec.transform.stdin),
                     "accept_return_code": list(spec.transform.accept_return_code),
                     "err_cmd": list(spec.transform.err_cmd),
                     "err_stdin": list(spec.transform.err_stdin),
                     "on_error": spec.transform.on_error}
        self._task_parts = {(job.id, row.datum_id): row.parts for row in pending}
        carried = failures.earlier_permanent_failures(self.engine, job, spec, pending)
        if carried:
            self._record(job, spec, carried, report)
            known = {result.datum_id for result in carried}
            pending = [row for row in pending if row.datum_id not in known]
            if not pending:
                return
        heads = {(repo, branch): commit for repo, branch, commit in job.input_commits}
        input_commits = {p.input_name: heads[(p.repo, p.branch)] for p in spec.pfs_inputs()}
        tasks = [DatumTask(job.id, job.pipeline, row.datum_id, row.datum_hash, row.parts,
                           transform, env, spec.datum_tries, spec.datum_timeout, input_commits)
                 for row in pending]
        size = batch_size_for(len(tasks), executor.workers)
        batches = self._marked_batches(job.id, tasks, size)
        limit = spec.parallelism or 0
        try:
            for results in executor.run(self.settings, batches, max_in_flight=limit):
                self._record(job, spec, results, report)
        except BrokenExecutor as exc:
            executor.close()
            raise BackendUnavailable(
                f"a worker process of job {job.id} died: {exc}",
                hint="a transform may crash its process (segfault, os._exit, out of memory); "
                     "fix it, then `crowdline run` resumes the job") from exc

    def _marked_batches(self, job_id: str, tasks: list[DatumTask], size: int
                        ) -> Iterator[list[DatumTask]]:
        for start in range(0, len(tasks), size):
            batch = tasks[start : start + size]
            with self.engine.begin() as conn:
                move_datums(conn, job_id, DatumState.RUNNING, current=DatumState.PENDING,
                            datum_ids=[task.datum_id for task in batch])
                conn.execute(t.jobs.update().where(t.jobs.c.id == job_id)
                             .values(heartbeat_at=utcnow()))
            yield batch

    def _record(self, job: Any, spec: PipelineSpec, results: list[DatumResult],
                report: RunReport) -> None:
        """Outputs to disk first, then the datum rows (one transaction per batch).

        Under ``on_datum_failure: skip_datum`` a failed datum's output is its report
        (``/rejected/<input path>.json``), committed with the other datums' outputs."""
        for result in results:  # a transform that prints its token leaves *** in the log
            result.log = mask(result.log, self._secret_values)
            result.error = mask(result.error, self._secret_values)
        skip = spec.on_datum_failure == "skip_datum"
        if skip:
            for result in results:
                if result.state == DatumState.FAILED:
                    result.outputs = [failures.report_file(job, result, self._parts(job, result))]
        finished = {r.datum_id: r.outputs for r in results
                    if r.state == DatumState.SUCCESS or (skip and r.state == DatumState.FAILED)}
        staging_name = self.staging.write(job.pipeline, finished) if finished else None
        now = utcnow()
        rows = []
        for result in results:
            state = DatumState(result.state)
            staged = result.datum_id in finished
            waiting = state == DatumState.WAITING
            rows.append({
                "b_job": job.id, "b_datum": result.datum_id, "state": state.value,
                "tries": result.tries, "log": result.log, "error": result.error or None,
                "duration": result.duration,
                "outputs": [path for path, _ in result.outputs] if staged else None,
                "staging": staging_name if staged else None,
                "wait_condition": result.wait_condition if waiting else None,
                "wait_params": result.wait_params if waiting else None,
                "finished_at": None if waiting else now,
                "permanent": result.permanent,
            })
            report.datums_processed += state == DatumState.SUCCESS
            report.datums_failed += state == DatumState.FAILED
            report.datums_recovered += state == DatumState.RECOVERED
            report.warnings += [{"pipeline": job.pipeline, "job_id": job.id,
                                 "datum_id": result.datum_id, "message": message}
                                for message in result.warnings]
            if state in (DatumState.FAILED, DatumState.RECOVERED):
                report.failures.append(failures.failure_summary(
                    job, result, self._parts(job, result), skipped=skip))
        with self.engine.begin() as conn:
            record_datum_results(conn, rows)
            conn.execute(t.jobs.update().where(t.jobs.c.id == job.id).values(heartbeat_at=now))

    def _parts(self, job: Any, result: DatumResult) -> list[dict[str, Any]]:
        """The input parts of a datum (from the task that ran it, or its row)."""
        parts = self._task_parts.get((job.id, result.datum_id))
        if parts is None:
            with t.reading(self.engine) as conn:
                parts = conn.execute(sa.select(t.datums.c.parts).where(
                    t.datums.c.job_id == job.id,
                    t.datums.c.datum_id == result.datum_id)).scalar() or []
        return list(parts)

    # -- finishing ----------------------------------------------------------------------------

    def _finish_if_settled(self, job_id: str, spec: PipelineSpec, report: RunReport) -> None:
        with t.reading(self.engine) as conn:
            counts = dict(conn.execute(
                sa.select(t.datums.c.state, sa.func.count()).where(t.datums.c.job_id == job_id)
                .group_by(t.datums.c.state)).all())
            if any(counts.get(s.value) for s in (DatumState.PENDING, DatumState.RUNNING,
                                                 DatumState.WAITING)):
                return
            failed = counts.get(DatumState.FAILED.value, 0)
            first_error = None
            if failed:
                first = conn.execute(sa.select(t.datums.c.datum_id, t.datums.c.error).where(
                    t.datums.c.job_id == job_id, t.datums.c.state == DatumState.FAILED.value)
                    .order_by(t.datums.c.datum_id).limit(1)).first()
                first_error = f"datum {first.datum_id}: {first.error}" if first else None
        if failed and spec.on_datum_failure != "skip_datum":
            self._set_job(job_id, JobState.RUNNING, JobState.FAILED, finished_at=utcnow(),
                          error=f"{failed} datum(s) failed; first: {first_error} "
                          f"(see `crowdline job logs {job_id}`)")
            report.jobs_failed.append(job_id)
            return
        self._commit_output(self._job(job_id), spec)
        report.jobs_succeeded.append(job_id)

    def _commit_output(self, job: Any, spec: PipelineSpec) -> None:
        store = self.workspace.store
        with t.reading(self.engine) as conn:
            rows = conn.execute(sa.select(
                t.datums.c.datum_id, t.datums.c.datum_hash, t.datums.c.state,
                t.datums.c.outputs, t.datums.c.staging).where(t.datums.c.job_id == job.id)).all()
            # skip_datum: a failed datum's staged output is its report
            fresh = [r for r in rows if r.state == DatumState.SUCCESS
                     or (r.state == DatumState.FAILED and r.staging)]
            recovered = {r.datum_id for r in rows if r.state == DatumState.RECOVERED}
            # Only the committed outputs this job replaces or removes are read: O(change).
            touched = sorted(set(job.removed or ()) | {r.datum_id for r in fresh} | recovered)
            committed: dict[str, Any] = {}
            for start in range(0, len(touched), 500):
                committed.update((r.datum_id, r) for r in conn.execute(
                    sa.select(t.outputs).where(t.outputs.c.pipeline == job.pipeline,
                                               t.outputs.c.datum_id.in_(
                                                   touched[start : start + 500]))))
            dropped = set(job.removed or ()) | {r.datum_id for r in fresh
                                                if r.datum_id in committed}
            dropped |= recovered & set(committed)  # changed, then recovered: no output now
            fresh_paths = {p for r in fresh for p in (r.outputs or [])}
            gone = {p for d in dropped if d in committed for p in committed[d].paths}
            gone -= fresh_paths
            if gone:  # a path another kept datum also wrote stays
                for other in conn.execute(sa.select(t.outputs.c.datum_id, t.outputs.c.paths)
                                          .where(t.outputs.c.pipeline == job.pipeline)):
                    if other.datum_id not in dropped:
                        gone -= set(other.paths)
        to_delete = sorted(gone)
        commit_id = self._adopt_commit(job)
        if commit_id is None:
            self._abort_stale_commits(job)
            commit_id = self._write_commit(job, fresh, to_delete, store)
        with self.engine.begin() as conn:
            if dropped:
                conn.execute(t.outputs.delete().where(t.outputs.c.pipeline == job.pipeline,
                                                      t.outputs.c.datum_id.in_(sorted(dropped))))
            new_rows = [{"pipeline": job.pipeline, "datum_id": r.datum_id,
                         "datum_hash": r.datum_hash, "paths": list(r.outputs or []),
                         "failed": r.state == DatumState.FAILED}
                        for r in fresh]
            for start in range(0, len(new_rows), 2000):
                conn.execute(t.outputs.insert(), new_rows[start : start + 2000])
            if not move_job(conn, job.id, JobState.SUCCESS, current=JobState.RUNNING,
                            output_commit=commit_id, finished_at=utcnow()):
                raise InvalidTransition(f"job {job.id} stopped running while it committed",
                                        hint="it was killed meanwhile; run again")
        self.staging.remove(job.pipeline, {r.staging for r in fresh if r.staging})

    def _adopt_commit(self, job: Any) -> str | None:
        """The output commit this job already made before a crash, if any."""
        try:
            head = self.workspace.store.inspect_commit(job.pipeline, "master")
        except NotFound:
            return None
        if (head.metadata or {}).get("job_id") == job.id:
            return str(head.id)
        return None

    def _abort_stale_commits(self, job: Any) -> None:
        """Open output commits of this pipeline's jobs that no live runner is writing: one
        of this job (its runner was killed mid-commit; we hold the job now) or of a job
        that has ended. They are invisible, but would otherwise stay for ever."""
        store = self.workspace.store
        stale = []
        for commit in store.list_open_commits(job.pipeline):
            owner_job = (commit.metadata or {}).get("job_id")
            if owner_job == job.id:
                stale.append(commit.id)
            elif owner_job:
                with t.reading(self.engine) as conn:
                    state = conn.execute(sa.select(t.jobs.c.state)
                                         .where(t.jobs.c.id == owner_job)).scalar()
                if state is None or JobState(state) in (JobState.SUCCESS, JobState.FAILED,
                                                        JobState.KILLED):
                    stale.append(commit.id)
        for commit_id in stale:
            with contextlib.suppress(NotFound, Conflict):
                store.abort_commit(job.pipeline, commit_id)

    def _write_commit(self, job: Any, fresh: list[Any], to_delete: list[str], store: Any) -> str:
        provenance = [(repo, commit) for repo, _branch, commit in job.input_commits if commit]
        metadata = {"pipeline": job.pipeline, "pipeline_version": job.pipeline_version,
                    "job_id": job.id}
        wanted: dict[str, set[str]] = {}
        for row in fresh:
            wanted.setdefault(row.staging, set()).add(row.datum_id)
        with store.commit(job.pipeline, "master", message=f"job {job.id}", origin="auto",
                          provenance=provenance, metadata=metadata,
                          commit_set=job.commit_set) as writer:
            for path in to_delete:
                with contextlib.suppress(FileNotFound):  # already gone is fine
                    writer.delete_file(path)
            for name in sorted(n for n in wanted if n):
                files = self.staging.files(job.pipeline, name)
                manifest = self.staging.manifest(job.pipeline, name)
                if set(manifest) <= wanted[name]:
                    if any(manifest.values()):
                        writer.put_local(files, "/")  # the whole batch, in bulk
                    continue
                for datum_id in sorted(wanted[name] & set(manifest)):
                    for path in manifest[datum_id]:
                        writer.put_local(files / path.lstrip("/"), path)
        return str(writer.id)

    # -- waiting -------------------------------------------------------------------------------

    def wake_waiting(self, report: RunReport) -> int:
        """Check each distinct wake condition once; woken datums go back to pending."""
        with t.reading(self.engine) as conn:
            rows = conn.execute(
                sa.select(t.datums.c.job_id, t.datums.c.datum_id, t.datums.c.wait_condition,
                          t.datums.c.wait_params)
                .join(t.jobs, t.jobs.c.id == t.datums.c.job_id)
                .where(t.datums.c.state == DatumState.WAITING.value,
                       t.jobs.c.state == JobState.RUNNING.value)).all()
        groups: dict[tuple[str, str], list[Any]] = {}
        for row in rows:
            key = (row.wait_condition or "", _stable(row.wait_params))
            groups.setdefault(key, []).append(row)
        woken = 0
        still: dict[str, int] = {}
        for (condition, _), members in groups.items():
            if self._condition_holds(condition, members[0].wait_params or {}):
                by_job: dict[str, list[str]] = {}
                for row in members:
                    by_job.setdefault(row.job_id, []).append(row.datum_id)
                with self.engine.begin() as conn:
                    for job_id, datum_ids in by_job.items():
                        woken += move_datums(conn, job_id, DatumState.PENDING,
                                             current=DatumState.WAITING, datum_ids=datum_ids,
                                             wait_condition=None, wait_params=None)
            else:
                still[condition] = still.get(condition, 0) + len(members)
        report.datums_woken += woken
        report.waiting = still
        return woken

    def _condition_holds(self, condition: str, params: dict[str, Any]) -> bool:
        try:
            return bool(load_callable(condition)(self.workspace, params))
        except Exception:  # noqa: BLE001 - a broken checker must not stop other jobs
            return False


def _stable(value: Any) -> str:
    import json

    return json.dumps(value, sort_keys=True, default=str)

