"""Triggers: commit sets become jobs, and a created job learns when it may start.

Pachyderm's global ids, made for crowdline. An origin commit (a user's put, or several repos
committed in one ``store.transaction()``) opens a *commit set*; the planner gives every
pipeline downstream of it (transitively) one job in that set, all at once, and each output
commit a job makes joins the set too. So one data commit causes exactly one job per
pipeline, never a join of new data with an upstream output of an older commit.

A created job starts when its inputs form a consistent snapshot (:func:`readiness`):

* an input written by an upstream job of the *same* set: that job's output, once it
  succeeded (while it runs the job waits, "waiting for upstream job X"; when it failed, the
  job is ``unrunnable`` and names it);
* any other input: the branch as the set saw it (the newest commit of a set that began
  before this one), after every earlier job of the pipeline writing it has finished;
* and the pipeline's own earlier jobs run first (jobs of a pipeline run in set order); one
  that only waits for humans is superseded (the new job takes its waits over).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from crowdline.errors import NotFound
from crowdline.pipelines import tables as t
from crowdline.pipelines.spec import PipelineSpec, parse_spec
from crowdline.pipelines.states import JOB_ACTIVE, DatumState, JobState

OUTPUT_BRANCH = "master"
ACTIVE = [s.value for s in JOB_ACTIVE]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Readiness:
    """What a created job should do now."""

    action: str  # "wait" | "start" | "unrunnable" | "killed"
    reason: str = ""
    inputs: list[list[Any]] = field(default_factory=list)  # [[repo, branch, commit|None]]
    superseded: str | None = None  # an earlier job of the pipeline whose waits it takes over


def load_specs(conn: sa.Connection) -> dict[str, tuple[Any, PipelineSpec]]:
    """Every pipeline's row and parsed spec, by name."""
    return {row.name: (row, parse_spec(row.spec))
            for row in conn.execute(sa.select(t.pipelines)).all()}


def downstream(specs: dict[str, tuple[Any, PipelineSpec]], repos: set[tuple[str, str]],
               pipelines: set[str], set_seq: int | None = None) -> list[str]:
    """Pipelines that read any of ``repos`` (repo, branch) or the output of ``pipelines``,
    directly or through other pipelines, in an order where upstream comes first. With
    ``set_seq``, pipelines (versions) that began after that commit set are left out: the
    set their own first job belongs to covers it."""
    found: list[str] = [p for p in sorted(pipelines) if p in specs]
    frontier = set(repos) | {(p, OUTPUT_BRANCH) for p in found}
    changed = True
    while changed:
        changed = False
        for name in sorted(specs):
            if name in found:
                continue
            began = specs[name][0].trigger_seq
            if set_seq is not None and began is not None and began > set_seq:
                continue
            if any(branch in frontier for branch in specs[name][1].input_branches()):
                found.append(name)
                frontier.add((name, OUTPUT_BRANCH))
                changed = True
    return found


class Triggers:
    def __init__(self, engine: sa.Engine, store: Any) -> None:
        self.engine = engine
        self.store = store

    # -- commit sets -> created jobs -------------------------------------------------------

    def create_jobs(self) -> list[str]:
        """Jobs for every new commit set, and for pipelines created or updated since."""
        created: list[str] = []
        with t.reading(self.engine) as conn:
            specs = load_specs(conn)
            cursor = conn.execute(sa.select(t.trigger.c.set_seq)
                                  .where(t.trigger.c.id == 1)).scalar()
        if not specs:
            return created
        covered: set[str] = set()
        cursor = cursor or 0
        for commit_set in self.store.list_commit_sets(since_seq=cursor):
            origin = {(c.repo, c.branch) for c in commit_set.commits}
            names = downstream(specs, origin, set(), commit_set.seq)
            made = self._insert_jobs(specs, names, commit_set.id, commit_set.seq,
                                     cursor_from=cursor)
            if made is None:
                break  # another runner handled this set: start again next round
            created += made
            covered.update(names)
            cursor = commit_set.seq
        waiting = sorted((row.trigger_seq or 0, name) for name, (row, _) in specs.items()
                         if row.needs_job)
        for _, name in waiting:
            spec = specs[name][1]
            if name in covered:  # a job of a newer commit set already reads it as it is now
                self._clear_needs_job(name)
            else:
                created += self._jobs_for_new_pipeline(specs, name, spec)
        return created

    def _clear_needs_job(self, name: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(t.pipelines.update().where(t.pipelines.c.name == name)
                         .values(needs_job=False))

    def _jobs_for_new_pipeline(self, specs: dict[str, tuple[Any, PipelineSpec]], name: str,
                               spec: PipelineSpec) -> list[str]:
        """A created or updated pipeline gets a commit set of its own (its inputs as they
        are now), shared by the jobs downstream of it, as Pachyderm does."""
        with t.reading(self.engine) as conn:  # an upstream pipeline's job will write some
            upstream_busy = conn.execute(sa.select(t.jobs.c.id).where(
                t.jobs.c.pipeline.in_([repo for repo, branch in spec.input_branches()
                                       if branch == OUTPUT_BRANCH]),
                t.jobs.c.state.in_(ACTIVE)).limit(1)).first() is not None
        has_data = upstream_busy or any(
            self.store.branch_head(repo, branch) for repo, branch in spec.input_branches()
            if self._repo_exists(repo))
        if not has_data:  # the first input commit will trigger it
            self._clear_needs_job(name)
            return []
        row = specs[name][0]
        with t.reading(self.engine) as conn:
            used = row.trigger_set is None or conn.execute(sa.select(t.jobs.c.id).where(
                t.jobs.c.pipeline == name, t.jobs.c.commit_set == row.trigger_set)).first()
        if not used:
            set_id, set_seq = row.trigger_set, int(row.trigger_seq)
        else:  # asked again (`datum retry`), or a pipeline made before commit sets
            made_now = self.store.create_commit_set()
            set_id, set_seq = made_now.id, made_now.seq
        made = self._insert_jobs(specs, downstream(specs, set(), {name}, set_seq), set_id,
                                 set_seq, needs_job=name)
        return made or []

    def _repo_exists(self, repo: str) -> bool:
        try:
            self.store.inspect_repo(repo)
        except NotFound:
            return False
        return True

    def _insert_jobs(self, specs: dict[str, tuple[Any, PipelineSpec]], names: list[str],
                     set_id: str, set_seq: int, *, cursor_from: int | None = None,
                     needs_job: str | None = None) -> list[str] | None:
        """Created jobs for ``names`` in one transaction, guarded by the trigger cursor (or
        the pipeline's ``needs_job`` flag) so two runners never both create them."""
        now = utcnow()
        rows = []
        for name in names:
            row, _spec = specs[name]
            rows.append({"id": uuid.uuid4().hex, "pipeline": name,
                         "pipeline_version": row.version, "salt": row.salt,
                         "state": JobState.CREATED.value, "input_commits": [],
                         "created_at": now, "commit_set": set_id, "set_seq": set_seq,
                         "skipped": 0, "reason": "waiting to start"})
        with self.engine.begin() as conn:
            if cursor_from is not None:
                moved = conn.execute(t.trigger.update().where(
                    t.trigger.c.id == 1, t.trigger.c.set_seq == cursor_from)
                    .values(set_seq=set_seq)).rowcount
            else:
                moved = conn.execute(t.pipelines.update().where(
                    t.pipelines.c.name == needs_job, t.pipelines.c.needs_job.is_(True))
                    .values(needs_job=False)).rowcount
            if moved != 1:
                conn.rollback()
                return None
            taken = set(conn.execute(sa.select(t.jobs.c.pipeline).where(
                t.jobs.c.commit_set == set_id)).scalars())
            rows = [r for r in rows if r["pipeline"] not in taken]
            if rows:
                conn.execute(t.jobs.insert(), rows)
        return [r["id"] for r in rows]

    # -- created job -> start? -------------------------------------------------------------

    def readiness(self, conn: sa.Connection, job: Any, spec: PipelineSpec,
                  set_commits: dict[tuple[str, str], str]) -> Readiness:
        """Whether ``job`` (created, in commit set ``job.commit_set``) can start now, and on
        which input commits. ``set_commits``: (repo, branch) -> commit of the set."""
        earlier = conn.execute(sa.select(t.jobs).where(
            t.jobs.c.pipeline == job.pipeline, t.jobs.c.id != job.id,
            t.jobs.c.state.in_(ACTIVE),
            sa.or_(t.jobs.c.set_seq.is_(None), t.jobs.c.set_seq < job.set_seq))
            .order_by(t.jobs.c.set_seq)).all()
        superseded = None
        for other in earlier:
            if other.state == JobState.CREATED or _has_runnable(conn, other.id):
                return Readiness("wait", f"waiting for job {other.id} of pipeline "
                                 f"{job.pipeline} (an earlier commit set) to finish")
            superseded = other.id  # only waiting datums left: this job takes them over
        inputs: list[list[Any]] = []
        for repo, branch in spec.input_branches():
            found = self._input_commit(conn, job, repo, branch, set_commits)
            if isinstance(found, Readiness):
                return found
            inputs.append([repo, branch, found])
        return Readiness("start", inputs=inputs, superseded=superseded)

    def _input_commit(self, conn: sa.Connection, job: Any, repo: str, branch: str,
                      set_commits: dict[tuple[str, str], str]) -> str | None | Readiness:
        is_output = branch == OUTPUT_BRANCH and conn.execute(
            sa.select(t.pipelines.c.name).where(t.pipelines.c.name == repo)).first() is not None
        if is_output:
            upstream = conn.execute(sa.select(t.jobs).where(
                t.jobs.c.pipeline == repo, t.jobs.c.commit_set == job.commit_set)).first()
            if upstream is not None:
                return _from_upstream(upstream)
        if (repo, branch) in set_commits:
            return set_commits[(repo, branch)]
        if is_output:
            pending = conn.execute(sa.select(t.jobs.c.id).where(
                t.jobs.c.pipeline == repo, t.jobs.c.state.in_(ACTIVE),
                sa.or_(t.jobs.c.set_seq.is_(None), t.jobs.c.set_seq < job.set_seq))
                .order_by(t.jobs.c.set_seq).limit(1)).scalar()
            if pending is not None:
                return Readiness("wait", f"waiting for upstream job {pending} of pipeline "
                                 f"{repo} (an earlier commit set) to finish")
        try:
            return self.store.head_as_of(repo, branch, job.set_seq)
        except NotFound:
            return None


def _from_upstream(upstream: Any) -> str | None | Readiness:
    state = JobState(upstream.state)
    if state == JobState.SUCCESS:
        return str(upstream.output_commit) if upstream.output_commit else None
    if state in JOB_ACTIVE:
        return Readiness("wait", f"waiting for upstream job {upstream.id} of pipeline "
                         f"{upstream.pipeline}")
    if state == JobState.KILLED:
        return Readiness("killed", f"upstream job {upstream.id} of pipeline "
                         f"{upstream.pipeline} was killed ({upstream.error or 'no reason'})")
    if state == JobState.UNRUNNABLE:
        return Readiness("unrunnable", upstream.error or f"upstream job {upstream.id} of "
                         f"pipeline {upstream.pipeline} is unrunnable")
    return Readiness("unrunnable", f"upstream job {upstream.id} of pipeline "
                     f"{upstream.pipeline} failed: {upstream.error or 'see its logs'}")


def _has_runnable(conn: sa.Connection, job_id: str) -> bool:
    found = conn.execute(sa.select(t.datums.c.datum_id).where(
        t.datums.c.job_id == job_id,
        t.datums.c.state.in_([DatumState.PENDING.value, DatumState.RUNNING.value]),
    ).limit(1)).first()
    return found is not None
