"""Starting jobs: a created job whose inputs are ready gets its datums planned and runs.

Which jobs exist is decided by the triggers (``triggers.py``: one job per pipeline per commit
set); this module starts them. Planning costs O(change): a job diffs each input branch from
the commit the pipeline's last successful job read to the one it reads now, and forms only
the datums those changes touch (the others keep their committed output, counted as
skipped). Cross, join and group inputs, a new pipeline version or a first job plan from the
full file lists instead.

A job starts in one SQL transaction (its datum rows + the guarded move to ``running``), so a
crash leaves it either created or started with every datum. Datums whose (id, hash) are in
the current output are skipped; outputs and waits of an earlier unfinished job with the same
hash are reused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from crowdline.errors import FileNotFound, NotFound
from crowdline.pipelines import tables as t
from crowdline.pipelines.datums import (
    Datum,
    DatumPart,
    DatumPlan,
    InputCommit,
    InputFile,
    form_datums,
    plan_datums,
)
from crowdline.pipelines.globs import datum_root
from crowdline.pipelines.spec import CombinedInput, InputNode, PfsInput, PipelineSpec, parse_spec
from crowdline.pipelines.staging import Staging
from crowdline.pipelines.states import DatumState, JobState, move_job
from crowdline.pipelines.triggers import Readiness, Triggers
from crowdline.store import FileChange

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
        self.triggers = Triggers(engine, store)

    def create_jobs(self) -> list[str]:
        """Created jobs for new commit sets and new or updated pipelines."""
        return self.triggers.create_jobs()

    def start_ready_jobs(self) -> tuple[list[str], list[str]]:
        """Start every created job whose inputs are ready, in commit-set order; end those an
        upstream failure made unrunnable. Returns (started, ended)."""
        started: list[str] = []
        ended: list[str] = []
        with t.reading(self.engine) as conn:
            created = conn.execute(sa.select(t.jobs).where(
                t.jobs.c.state == JobState.CREATED.value)
                .order_by(t.jobs.c.set_seq, t.jobs.c.created_at, t.jobs.c.id)).all()
        set_commits: dict[str, dict[tuple[str, str], str]] = {}
        for job in created:
            if job.commit_set is None:  # made before commit sets: planned at creation
                with self.engine.begin() as conn:
                    if move_job(conn, job.id, JobState.RUNNING, current=JobState.CREATED,
                                started_at=utcnow()):
                        started.append(job.id)
                continue
            with t.reading(self.engine) as conn:
                row = conn.execute(sa.select(t.pipelines).where(
                    t.pipelines.c.name == job.pipeline)).first()
                if row is None:
                    continue
                spec = parse_spec(row.spec)
                if job.commit_set not in set_commits:
                    set_commits[job.commit_set] = self._set_commits(job.commit_set)
                ready = self.triggers.readiness(conn, job, spec, set_commits[job.commit_set])
            if ready.action == "start":
                if self._start(job, row, spec, ready):
                    started.append(job.id)
            elif ready.action in ("unrunnable", "killed"):
                state = JobState.UNRUNNABLE if ready.action == "unrunnable" else JobState.KILLED
                with self.engine.begin() as conn:
                    if move_job(conn, job.id, state, current=JobState.CREATED,
                                finished_at=utcnow(), error=ready.reason, reason=None):
                        ended.append(job.id)
            elif ready.reason != job.reason:
                with self.engine.begin() as conn:
                    conn.execute(t.jobs.update().where(t.jobs.c.id == job.id,
                                                       t.jobs.c.state == JobState.CREATED.value)
                                 .values(reason=ready.reason))
        return started, ended

    def _set_commits(self, set_id: str) -> dict[tuple[str, str], str]:
        try:
            info = self.store.inspect_commit_set(set_id)
        except NotFound:
            return {}
        return {(c.repo, c.branch): c.id for c in info.commits}

    # -- planning ------------------------------------------------------------------------------

    def _start(self, job: Any, row: Any, spec: PipelineSpec, ready: Readiness) -> bool:
        inputs = ready.inputs
        with t.reading(self.engine) as conn:
            base = conn.execute(sa.select(t.jobs).where(
                t.jobs.c.pipeline == job.pipeline, t.jobs.c.state == JobState.SUCCESS.value)
                .order_by(t.jobs.c.finished_at.desc(), t.jobs.c.id).limit(1)).first()
        planned = None
        if spec.reprocess_spec != "every_job":
            planned = self._incremental_plan(row, spec, inputs, base)
        if planned is None:
            full = self._full_plan(row, spec, inputs)
            if spec.reprocess_spec == "every_job":  # never skip: external side effects
                full = DatumPlan(full.to_process + full.skipped, [], full.removed)
            planned = (full, len(full.skipped))
        plan, skipped = planned
        with t.reading(self.engine) as conn:
            reusable = self._reusable(conn, row.name, ready.superseded)
        rows = []
        for datum, digest in plan.to_process:
            earlier = reusable.get((datum.id, digest))
            new = _datum_row(job.id, datum, digest, DatumState.PENDING)
            if earlier is not None and earlier.state == DatumState.SUCCESS:
                new.update(state=DatumState.SUCCESS.value, outputs=earlier.outputs,
                           staging=earlier.staging, log=earlier.log, tries=earlier.tries,
                           duration=earlier.duration, finished_at=earlier.finished_at)
            elif earlier is not None and earlier.state == DatumState.WAITING:
                new.update(state=DatumState.WAITING.value, wait_condition=earlier.wait_condition,
                           wait_params=earlier.wait_params, log=earlier.log, tries=earlier.tries)
            rows.append(new)
        now = utcnow()
        with self.engine.begin() as conn:
            if not move_job(conn, job.id, JobState.RUNNING, current=JobState.CREATED,
                            started_at=now, input_commits=inputs, skipped=skipped,
                            removed=plan.removed, reason=None, pipeline_version=row.version,
                            salt=row.salt):
                conn.rollback()  # another runner started (or someone killed) it first
                return False
            if ready.superseded is not None:
                move_job(conn, ready.superseded, JobState.KILLED, current=JobState.RUNNING,
                         finished_at=now, owner=None, error=f"superseded by job {job.id}")
            for chunk in _chunks(rows, INSERT_CHUNK):
                conn.execute(t.datums.insert(), chunk)
        return True

    def _full_plan(self, row: Any, spec: PipelineSpec, inputs: list[list[Any]]) -> DatumPlan:
        datums = form_datums(spec.input, self._list_inputs(inputs))
        with t.reading(self.engine) as conn:
            committed = dict(conn.execute(
                sa.select(t.outputs.c.datum_id, t.outputs.c.datum_hash)
                .where(t.outputs.c.pipeline == row.name)).all())
        return plan_datums(datums, row.salt, committed)

    def _list_inputs(self, inputs: list[list[Any]]) -> dict[tuple[str, str], InputCommit]:
        commits = {}
        for repo, branch, commit in inputs:
            files: tuple[InputFile, ...] = ()
            if commit:
                files = tuple(
                    InputFile(info.path, info.hash, info.size)
                    for info in self.store.walk_files(repo, commit)
                    if str(getattr(info.type, "value", info.type)).lower() == "file")
            commits[(repo, branch)] = InputCommit(repo, branch, commit or "", files)
        return commits

    def _incremental_plan(self, row: Any, spec: PipelineSpec, inputs: list[list[Any]],
                          base: Any) -> tuple[DatumPlan, int] | None:
        """Plan from the changes since the last successful job, or None (plan in full).
        Returns the plan (its ``skipped`` lists only touched datums) and the skipped count."""
        if base is None or base.salt != row.salt or base.pipeline_version != row.version:
            return None
        leaves = _plain_leaves(spec.input)
        if leaves is None:
            return None
        with t.reading(self.engine) as conn:  # `datum retry` un-committed some: look again
            retried = conn.execute(sa.select(t.outputs.c.datum_id).where(
                t.outputs.c.pipeline == row.name, t.outputs.c.datum_hash == "").limit(1)).first()
        if retried is not None:
            return None
        before = {(r, b): c for r, b, c in base.input_commits}
        now = {(r, b): c for r, b, c in inputs}
        if set(before) != set(now):
            return None
        affected: dict[str, tuple[PfsInput, str | None]] = {}  # datum id -> (input, root)
        datums: dict[str, Datum] = {}
        for leaf in leaves:
            key = (leaf.repo, leaf.branch)
            old, new = before[key], now[key]
            if old == new:
                continue
            if not new:
                return None
            if old:
                changes = self.store.diff(leaf.repo, new, old)
            else:  # the branch had no commit then: all of it is new
                changes = [FileChange(i.path, "added", None, i.size, None, i.hash)
                           for i in self.store.walk_files(leaf.repo, new) if i.type == "file"]
            for change in changes:
                root = datum_root(leaf.glob, change.path)
                if root is None:
                    continue
                part_id = _part_id(leaf, root)
                if part_id in affected:
                    continue
                affected[part_id] = (leaf, root)
                if root == change.path and change.status != "deleted":
                    files: tuple[InputFile, ...] = (
                        InputFile(change.path, change.new_hash or "", int(change.new_size or 0)),)
                else:
                    files = self._files_under(leaf.repo, new, root)
                if files:
                    datums[part_id] = Datum((DatumPart(leaf.input_name, leaf.repo, leaf.branch,
                                                       new, root, files),))
        with t.reading(self.engine) as conn:
            committed: dict[str, str] = {}
            ids = sorted(affected)
            for start in range(0, len(ids), 500):
                committed.update(conn.execute(
                    sa.select(t.outputs.c.datum_id, t.outputs.c.datum_hash).where(
                        t.outputs.c.pipeline == row.name,
                        t.outputs.c.datum_id.in_(ids[start : start + 500]))).all())
            total = conn.execute(sa.select(sa.func.count()).select_from(t.outputs)
                                 .where(t.outputs.c.pipeline == row.name)).scalar_one()
        to_process = []
        for identity, datum in datums.items():
            digest = datum.hash(row.salt)
            if committed.get(identity) != digest:
                to_process.append((datum, digest))
        removed = sorted(i for i in affected if i not in datums and i in committed)
        untouched = int(total) - len(committed)
        skipped = untouched + (len(datums) - len(to_process))
        return DatumPlan(to_process, [], removed), skipped

    def _files_under(self, repo: str, commit: str, root: str) -> tuple[InputFile, ...]:
        try:
            return tuple(InputFile(i.path, i.hash or "", i.size)
                         for i in self.store.walk_files(repo, commit, root) if i.type == "file")
        except FileNotFound:
            return ()

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


def _plain_leaves(node: InputNode) -> list[PfsInput] | None:
    """The pfs inputs of a plain input (one pfs, or a union of them), whose datums each
    come from one path of one input; None for cross, join and group."""
    if isinstance(node, PfsInput):
        return [node]
    assert isinstance(node, CombinedInput)
    if node.kind != "union":
        return None
    leaves: list[PfsInput] = []
    for child in node.children:
        found = _plain_leaves(child)
        if found is None:
            return None
        leaves += found
    return leaves


def _part_id(leaf: PfsInput, root: str) -> str:
    from crowdline.pipelines.datums import datum_id

    return datum_id([DatumPart(leaf.input_name, leaf.repo, leaf.branch, "", root, ())])


def _chunks(items: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
