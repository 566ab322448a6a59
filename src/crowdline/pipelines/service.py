"""The ``Pipelines`` facade: specs in, jobs out, and the loop that runs them."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from crowdline.database.ids import expand_prefix
from crowdline.errors import (
    Conflict,
    JobNotFound,
    NotFound,
    PipelineAlreadyExists,
    PipelineNotFound,
)
from crowdline.keys import workspace_key
from crowdline.pipelines import failures
from crowdline.pipelines import tables as t
from crowdline.pipelines.executors import Executor, make_executor
from crowdline.pipelines.lineage import LineageNode, trace
from crowdline.pipelines.models import (
    CommitSetStatus,
    DatumInfo,
    DatumLog,
    JobInfo,
    PipelineInfo,
    RunReport,
)
from crowdline.pipelines.planner import Planner, utcnow
from crowdline.pipelines.runner import JobRunner
from crowdline.pipelines.secret_store import SecretStore
from crowdline.pipelines.spec import PfsInput, PipelineSpec, iter_pfs, parse_spec
from crowdline.pipelines.staging import Staging
from crowdline.pipelines.states import JOB_ACTIVE, DatumState, JobState, move_jobs
from crowdline.pipelines.triggers import OUTPUT_BRANCH

log = logging.getLogger(__name__)


class Pipelines:
    """Data-driven pipelines over the store's repos.

        ws.pipelines.create_pipeline("tasks.yaml")
        report = ws.pipelines.run()          # process every pending job, then return
    """

    def __init__(self, *, workspace: Any) -> None:
        self.workspace = workspace
        self.engine: sa.Engine = workspace.engine
        self.staging = Staging(Path(workspace.settings.home) / "pipelines" / "staging")
        self.secrets = SecretStore(self.engine, key=lambda: workspace_key(workspace.settings))
        self._executor: Executor | None = None

    @property
    def store(self) -> Any:
        return self.workspace.store

    # -- pipelines ----------------------------------------------------------------------------

    def create_pipeline(self, spec: dict[str, Any] | str | Path) -> PipelineInfo:
        """Create a pipeline from a crowdline or Pachyderm spec (dict, YAML/JSON text or file)."""
        parsed = parse_spec(spec)
        if self._row(parsed.name) is not None:
            raise PipelineAlreadyExists(f"pipeline {parsed.name!r} already exists",
                                        hint="use update_pipeline / `crowdline pipeline update`")
        self._check_inputs(parsed)
        try:
            self.store.inspect_repo(parsed.name)
        except NotFound:
            self.store.create_repo(parsed.name, description=f"output of pipeline {parsed.name}")
        self.store.create_branch(parsed.name, OUTPUT_BRANCH)  # exists (empty) from the start
        now = utcnow()
        begins = self.store.create_commit_set()  # the set its first job belongs to
        with self.engine.begin() as conn:
            conn.execute(t.pipelines.insert().values(
                name=parsed.name, version=1, salt=uuid.uuid4().hex, spec=parsed.raw,
                description=parsed.description, needs_job=True, created_at=now, updated_at=now,
                trigger_set=begins.id, trigger_seq=begins.seq))
        return self.inspect_pipeline(parsed.name)

    def update_pipeline(self, spec: dict[str, Any] | str | Path, *, reprocess: bool = False
                        ) -> PipelineInfo:
        """New version of a pipeline. Datums already processed are kept (as in Pachyderm)
        unless ``reprocess``, which gives the pipeline a new salt so every datum runs again."""
        parsed = parse_spec(spec)
        row = self._require(parsed.name)
        self._check_inputs(parsed)
        begins = self.store.create_commit_set()
        values: dict[str, Any] = {"version": row.version + 1, "spec": parsed.raw,
                                  "description": parsed.description, "needs_job": True,
                                  "updated_at": utcnow(), "trigger_set": begins.id,
                                  "trigger_seq": begins.seq}
        if reprocess:
            values["salt"] = uuid.uuid4().hex
        with self.engine.begin() as conn:
            conn.execute(t.pipelines.update().where(t.pipelines.c.name == parsed.name)
                         .values(**values))
            failures.forget_reports(conn, parsed.name)  # rejected datums get another go
            # As in Pachyderm, an update stops the unfinished jobs (those no live runner
            # holds); the next job reuses their finished datums when the hashes match.
            idle = conn.execute(sa.select(t.jobs.c.id).where(
                t.jobs.c.pipeline == parsed.name, t.jobs.c.owner.is_(None),
                t.jobs.c.state.in_([s.value for s in JOB_ACTIVE]))).scalars().all()
            move_jobs(conn, idle, JobState.KILLED, current=[s.value for s in JOB_ACTIVE],
                      finished_at=utcnow(), error=f"pipeline updated to version {row.version + 1}")
        return self.inspect_pipeline(parsed.name)

    def list_pipelines(self) -> list[PipelineInfo]:
        with t.reading(self.engine) as conn:
            names = conn.execute(sa.select(t.pipelines.c.name)
                                 .order_by(t.pipelines.c.created_at)).scalars().all()
        return [self.inspect_pipeline(name) for name in names]

    def inspect_pipeline(self, name: str) -> PipelineInfo:
        row = self._require(name)
        spec = parse_spec(row.spec)
        with t.reading(self.engine) as conn:
            last = conn.execute(sa.select(t.jobs.c.id, t.jobs.c.state)
                                .where(t.jobs.c.pipeline == name)
                                .order_by(t.jobs.c.created_at.desc()).limit(1)).first()
        return PipelineInfo(
            name=row.name, version=row.version, description=row.description,
            inputs=[f"{p.repo}@{p.branch}:{p.glob}" for p in spec.pfs_inputs()],
            transform=spec.transform.python or " ".join(spec.transform.cmd),
            created_at=_aware(row.created_at), updated_at=_aware(row.updated_at),
            last_job=last.id if last else None, last_job_state=last.state if last else None,
            spec=dict(row.spec))

    def delete_pipeline(self, name: str) -> None:
        """Delete a pipeline, its jobs and staged outputs (its output repo is kept)."""
        self._require(name)
        readers = [p.name for p in self.list_pipelines()
                   if p.name != name and any(i.startswith(f"{name}@") for i in p.inputs)]
        if readers:
            raise Conflict(f"pipeline(s) {', '.join(readers)} read the output of {name!r}",
                           hint="delete those first")
        with self.engine.begin() as conn:
            job_ids = sa.select(t.jobs.c.id).where(t.jobs.c.pipeline == name)
            conn.execute(t.datums.delete().where(t.datums.c.job_id.in_(job_ids)))
            conn.execute(t.jobs.delete().where(t.jobs.c.pipeline == name))
            conn.execute(t.outputs.delete().where(t.outputs.c.pipeline == name))
            conn.execute(t.pipelines.delete().where(t.pipelines.c.name == name))
        self.staging.drop_pipeline(name)

    def _row(self, name: str) -> Any:
        with t.reading(self.engine) as conn:
            return conn.execute(sa.select(t.pipelines).where(t.pipelines.c.name == name)).first()

    def _require(self, name: str) -> Any:
        row = self._row(name)
        if row is None:
            raise PipelineNotFound(f"no pipeline named {name!r}",
                                   hint="see `crowdline pipeline list`")
        return row

    def _check_inputs(self, spec: PipelineSpec) -> None:
        for pfs in spec.pfs_inputs():
            if pfs.repo == spec.name:
                raise Conflict(f"pipeline {spec.name!r} cannot read its own output repo",
                               hint="read another repo")
            try:
                self.store.inspect_repo(pfs.repo)
            except NotFound as exc:
                raise NotFound(f"input repo {pfs.repo!r} of pipeline {spec.name!r} does not exist",
                               hint=f"create it first: crowdline repo create {pfs.repo}") from exc
        upstream = self._upstream_pipelines(spec.name, [p.repo for p in spec.pfs_inputs()])
        if spec.name in upstream:
            raise Conflict(f"pipeline {spec.name!r} would form a cycle through its inputs",
                           hint="pipelines must form a DAG")

    def _upstream_pipelines(self, name: str, repos: list[str]) -> set[str]:
        with t.reading(self.engine) as conn:
            specs = {r.name: r.spec for r in conn.execute(sa.select(t.pipelines)) if r.name != name}
        seen: set[str] = set()
        frontier = list(repos)
        while frontier:
            repo = frontier.pop()
            if repo in seen:
                continue
            seen.add(repo)
            if repo in specs:
                frontier += [p.repo for p in iter_pfs(parse_spec(specs[repo]).input)
                             if isinstance(p, PfsInput)]
        return seen

    # -- running ------------------------------------------------------------------------------

    def _executor_factory(self) -> Executor:
        if self._executor is None:
            settings = self.workspace.settings
            self._executor = make_executor(settings.executor_url, settings.parallelism)
        return self._executor

    def close(self) -> None:
        if self._executor is not None:
            self._executor.close()
            self._executor = None

    def run_once(self, runner: JobRunner | None = None) -> tuple[bool, RunReport]:
        """One round: create jobs for moved inputs, run runnable jobs, wake waiting datums."""
        runner = runner or JobRunner(self.workspace, self.staging, self.secrets)
        planner = Planner(self.engine, self.store, self.staging)
        report = RunReport()
        report.jobs_created += planner.create_jobs()
        started, ended = planner.start_ready_jobs()
        report.jobs_unrunnable += ended
        progressed = bool(report.jobs_created or started or ended)
        for job_id in runner.runnable_jobs():
            progressed |= runner.process(job_id, self._executor_factory, report)
        if runner.wake_waiting(report):
            progressed = True
        return progressed, report

    def run(self, *, until_quiet: bool = True, timeout: float | None = None) -> RunReport:
        """Process every pending job (and woken waiting datum) until nothing can progress."""
        runner = JobRunner(self.workspace, self.staging, self.secrets)
        deadline = None if timeout is None else time.monotonic() + timeout
        total = RunReport()
        wake_only_rounds = 0
        try:
            while True:
                progressed, report = self.run_once(runner)
                total.merge(report)
                if not progressed or not until_quiet:
                    break
                # A checker that says "ready" while the transform waits again would loop
                # forever: stop after a few rounds in which only wakes happened.
                wake_only_rounds = 0 if report.finished_something() else wake_only_rounds + 1
                if wake_only_rounds > 3:
                    break
                if deadline is not None and time.monotonic() > deadline:
                    total.timed_out = True
                    break
        finally:
            self.close()
        return total

    def serve_forever(self, stop: threading.Event, poll_interval: float = 1.0) -> None:
        """Trigger loop for a daemon thread: run rounds until ``stop`` is set."""
        runner = JobRunner(self.workspace, self.staging, self.secrets)
        try:
            while not stop.is_set():
                try:
                    progressed, report = self.run_once(runner)
                except Exception:  # a daemon keeps serving; the error is in the log
                    log.exception("pipelines round failed; retrying in %.1f s", poll_interval)
                    self.close()
                    progressed, report = False, RunReport()
                if not progressed or not report.finished_something():
                    stop.wait(poll_interval)
        finally:
            self.close()

    # -- jobs and datums ----------------------------------------------------------------------

    def list_jobs(self, pipeline: str | None = None, commit_set: str | None = None
                  ) -> list[JobInfo]:
        """Jobs, newest first; of one pipeline and/or of one commit set."""
        query = sa.select(t.jobs.c.id).order_by(t.jobs.c.created_at.desc(), t.jobs.c.id)
        if pipeline is not None:
            self._require(pipeline)
            query = query.where(t.jobs.c.pipeline == pipeline)
        if commit_set is not None:
            query = query.where(t.jobs.c.commit_set == commit_set)
        with t.reading(self.engine) as conn:
            ids = conn.execute(query).scalars().all()
        return [self.inspect_job(job_id) for job_id in ids]

    def resolve_job(self, job_id: str) -> str:
        """The full id of a job given by its id or a unique prefix of it (4+ characters)."""
        with t.reading(self.engine) as conn:
            found = expand_prefix(conn, t.jobs.c.id, job_id, what="job")
        if found is None:
            raise JobNotFound(f"no job {job_id!r}", hint="see `crowdline job list`")
        return found

    def inspect_job(self, job_id: str) -> JobInfo:
        job_id = self.resolve_job(job_id)
        with t.reading(self.engine) as conn:
            job = conn.execute(sa.select(t.jobs).where(t.jobs.c.id == job_id)).first()
            if job is None:
                raise JobNotFound(f"no job {job_id!r}", hint="see `crowdline job list`")
            counts = {DatumState.SKIPPED.value: job.skipped} if job.skipped else {}
            counts |= dict(conn.execute(
                sa.select(t.datums.c.state, sa.func.count()).where(t.datums.c.job_id == job_id)
                .group_by(t.datums.c.state)).all())
            waits = dict(conn.execute(
                sa.select(t.datums.c.wait_condition, sa.func.count())
                .where(t.datums.c.job_id == job_id,
                       t.datums.c.state == DatumState.WAITING.value)
                .group_by(t.datums.c.wait_condition)).all())
        return JobInfo(
            id=job.id, pipeline=job.pipeline, pipeline_version=job.pipeline_version,
            state=job.state,
            input_commits=[{"repo": r, "branch": b, "commit": c} for r, b, c in job.input_commits],
            output_commit=job.output_commit, error=job.error, created_at=_aware(job.created_at),
            started_at=_aware(job.started_at), finished_at=_aware(job.finished_at), datums=counts,
            waiting_on={str(k): v for k, v in waits.items()}, commit_set=job.commit_set,
            reason=job.reason)

    def inspect_commit_set(self, set_id: str) -> CommitSetStatus:
        """The jobs of a commit set and, once every one has ended, how the set ended:
        ``success``, else ``failed`` / ``unrunnable`` / ``killed`` (the worst one)."""
        info = self.store.inspect_commit_set(set_id)  # CommitNotFound for an unknown id
        jobs = sorted(self.list_jobs(commit_set=set_id), key=lambda j: (j.created_at, j.id))
        with t.reading(self.engine) as conn:
            cursor = conn.execute(sa.select(t.trigger.c.set_seq)
                                  .where(t.trigger.c.id == 1)).scalar()
            pending_pipeline = conn.execute(sa.select(t.pipelines.c.name).where(
                t.pipelines.c.needs_job.is_(True))).first()
        planned = bool(jobs) or (cursor is not None and cursor >= info.seq
                                 and pending_pipeline is None)
        states = {job.state for job in jobs}
        if not planned or states & {s.value for s in JOB_ACTIVE}:
            return CommitSetStatus(set_id, jobs, None)
        for state in (JobState.FAILED, JobState.UNRUNNABLE, JobState.KILLED):
            if state.value in states:
                return CommitSetStatus(set_id, jobs, state.value)
        return CommitSetStatus(set_id, jobs, JobState.SUCCESS.value)

    def wait_commit_set(self, set_id: str, *, timeout: float | None = None,
                        poll_interval: float = 0.5,
                        on_change: Any = None) -> CommitSetStatus:
        """Block until every job of the commit set has ended (another process runs them:
        `crowdline serve` or `crowdline run`). ``on_change(status)`` is called whenever a
        job's state or wait reason changes; on timeout the unfinished status is returned."""
        deadline = None if timeout is None else time.monotonic() + timeout
        seen = None
        while True:
            status = self.inspect_commit_set(set_id)
            fingerprint = [(j.id, j.state, j.reason) for j in status.jobs]
            if fingerprint != seen and on_change is not None:
                on_change(status)
            seen = fingerprint
            if status.done or (deadline is not None and time.monotonic() >= deadline):
                return status
            time.sleep(poll_interval)

    def list_datums(self, job_id: str) -> list[DatumInfo]:
        """The datums a job processed (skipped ones are only counted: see inspect_job)."""
        job_id = self.resolve_job(job_id)
        with t.reading(self.engine) as conn:
            rows = conn.execute(sa.select(t.datums).where(t.datums.c.job_id == job_id)
                                .order_by(t.datums.c.datum_id)).all()
        return [DatumInfo(
            job_id=r.job_id, datum_id=r.datum_id, datum_hash=r.datum_hash, state=r.state,
            paths=[f"{p['name']}:{p['path']}" for p in r.parts], tries=r.tries, error=r.error,
            wait_condition=r.wait_condition, wait_params=r.wait_params, outputs=r.outputs,
            duration=r.duration) for r in rows]

    def job_logs(self, job_id: str, datum_id: str | None = None) -> list[DatumLog]:
        """Per-datum logs (stdout, stderr and tracebacks of every try)."""
        job_id = self.resolve_job(job_id)
        query = sa.select(t.datums.c.datum_id, t.datums.c.state, t.datums.c.log,
                          t.datums.c.error).where(t.datums.c.job_id == job_id,
                                                  t.datums.c.log.is_not(None))
        with t.reading(self.engine) as conn:
            if datum_id is not None:
                datum_id = expand_prefix(conn, t.datums.c.datum_id, datum_id, what="datum",
                                         where=t.datums.c.job_id == job_id) or datum_id
                query = query.where(t.datums.c.datum_id == datum_id)
            rows = conn.execute(query.order_by(t.datums.c.datum_id)).all()
        if datum_id is not None and not rows:
            from crowdline.errors import DatumNotFound

            raise DatumNotFound(f"job {job_id} has no logs for datum {datum_id!r}",
                                hint=f"see `crowdline datum list {job_id}`")
        return [DatumLog(r.datum_id, r.state, r.log or "", r.error) for r in rows]

    def trace(self, repo: str, ref: str, path: str, *, row: str | None = None,
              id_column: str = "id", hook: str | None = None) -> LineageNode:
        """Which datum of which job wrote ``repo@ref:path``, from which input files, back to
        the files people committed; with ``row``, that row in every CSV on the way."""
        return trace(self.workspace, repo, ref, path, row=row, id_column=id_column, hook=hook)

    def retry_datums(self, job_id: str, datum_ids: list[str] | None = None) -> list[str]:
        """Run a job's failed (or recovered) datums again in the pipeline's next job, even if
        their input did not change (``crowdline datum retry`` / ``job restart``)."""
        return failures.retry(self.engine, job_id, datum_ids)

    # -- secrets ------------------------------------------------------------------------------

    def create_secret(self, name: str, values: dict[str, str]) -> None:
        self.secrets.create(name, values)

    def list_secrets(self) -> list[dict[str, Any]]:
        return self.secrets.list()

    def delete_secret(self, name: str) -> None:
        self.secrets.delete(name)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands back naive datetimes; every time we store is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value
