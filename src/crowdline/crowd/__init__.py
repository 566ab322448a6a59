"""The crowd part: a self-hosted, Toloka-shaped labeling service (see README.md here).

    crowd = Crowd(engine=engine, store=store)      # or ws.crowd
    project = crowd.create_project({...Toloka project JSON...})
    pool = crowd.create_pool({"project_id": project.id, ...Toloka pool JSON...})
    crowd.import_task_file(pool.id, "tasks.tsv"); crowd.open_pool(pool.id)
    worker, token = crowd.invite_worker("ann")
    suite = crowd.request_assignment(worker.id)
    crowd.submit_assignment(worker.id, suite.id, [{"output_values": {"label": "x"}}, ...])
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import sqlalchemy as sa

from crowdline.crowd import (
    amend,
    analytics,
    importing,
    insights,
    issuing,
    pools,
    projects,
    quality,
    results,
    standing,
    tables,
    workers,
)
from crowdline.crowd import search as search_module
from crowdline.crowd import suites as suites_module
from crowdline.crowd import tasks as tasks_module
from crowdline.crowd.facts import FactsCache
from crowdline.crowd.models import (
    AnnotatorAssignment,
    Assignment,
    Pool,
    Project,
    QcAction,
    Requester,
    Restriction,
    Skill,
    SubmitResult,
    SuiteImportReport,
    Task,
    TaskImportReport,
    TaskSuite,
    Worker,
    WorkerSkill,
    now,
)
from crowdline.crowd.outreach import OutreachMixin
from crowdline.crowd.search import Search
from crowdline.crowd.transactions import key, read, write, write_async
from crowdline.crowd.uploads import UploadLimits
from crowdline.errors import TaskNotFound, WorkerNotFound

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "AnnotatorAssignment",
    "Assignment",
    "Crowd",
    "Pool",
    "Project",
    "QcAction",
    "Requester",
    "Restriction",
    "Skill",
    "SubmitResult",
    "Task",
    "TaskImportReport",
    "TaskSuite",
    "Worker",
    "WorkerSkill",
]


class Crowd(OutreachMixin):
    """Facade over the crowd tables: every public operation of the labeling service."""

    def __init__(self, engine: sa.Engine, store: Any = None, *,
                 clock: Callable[[], dt.datetime] | None = None) -> None:
        """``clock`` (UTC now) is for simulations and tests that need time to pass faster."""
        self.engine = engine
        self.store = store
        self.clock = clock or now
        self.cache = FactsCache()  # per-worker facts and parsed pools (crowd/facts.py)

    # -- requesters ------------------------------------------------------------------------
    def create_requester_token(self, name: str = "default") -> str:
        return write(self.engine, lambda c: workers.create_requester_token(c, name))

    def authenticate_requester(self, token: str) -> Requester:
        return read(self.engine, lambda c: workers.authenticate_requester(c, token))

    # -- projects --------------------------------------------------------------------------
    def create_project(self, config: dict[str, Any]) -> Project:
        return write(self.engine, lambda c: projects.create_project(c, config))

    def get_project(self, project_id: str) -> Project:
        return read(self.engine, lambda c: projects.get_project(c, project_id))

    def list_projects(self, status: str | None = None) -> list[Project]:
        return read(self.engine, lambda c: projects.list_projects(c, status))

    def archive_project(self, project_id: str) -> Project:
        """ACTIVE -> ARCHIVED; refused while one of its pools is open."""
        return write(self.engine, lambda c: projects.archive_project(c, project_id))

    def update_project(self, project_id: str, config: dict[str, Any]) -> Project:
        return write(self.engine, lambda c: projects.update_project(
            c, project_id, config))

    # -- pools -----------------------------------------------------------------------------
    def create_pool(self, config: dict[str, Any], *, ignore: Iterable[str] = ()) -> Pool:
        """A CLOSED pool from Toloka's pool JSON; ``ignore`` names fields to drop (e.g.
        ``["filter"]``) instead of failing on them as Unsupported."""
        return write(self.engine, lambda c: pools.create_pool(c, config, ignore))

    def get_pool(self, pool_id: str) -> Pool:
        return read(self.engine, lambda c: pools.get_pool(c, pool_id))

    def list_pools(self, project_id: str | None = None, status: str | None = None) -> list[Pool]:
        return read(self.engine, lambda c: pools.list_pools(c, project_id, status))

    def update_pool(self, pool_id: str, config: dict[str, Any], *,
                    ignore: Iterable[str] = ()) -> Pool:
        return write(self.engine, lambda c: pools.update_pool(
            c, pool_id, config, ignore))

    def open_pool(self, pool_id: str) -> Pool:
        return write(self.engine, lambda c: pools.change_status(c, pool_id, "OPEN"))

    def close_pool(self, pool_id: str) -> Pool:
        return write(self.engine, lambda c: pools.change_status(c, pool_id, "CLOSED"))

    def archive_pool(self, pool_id: str) -> Pool:
        return write(self.engine, lambda c: pools.change_status(c, pool_id, "ARCHIVED"))

    def clone_pool(self, pool_id: str) -> Pool:
        return write(self.engine, lambda c: pools.clone_pool(c, pool_id))

    def pool_stats(self, pool_id: str) -> dict[str, Any]:
        return read(self.engine, lambda c: results.pool_stats(c, pool_id))

    def pool_analytics(self, pool_id: str, name: str, *,
                       interval_hours: int | None = None) -> Any:
        """One of Toloka's pool analytics (``crowdline.crowd.analytics.SUBJECTS``), e.g.
        ``completion_percentage``, ``approved_assignments_count``, ``estimated_end``."""
        return read(self.engine, lambda c: analytics.pool_analytics(
            c, pool_id, name, self.clock(), interval_hours=interval_hours))

    def is_pool_complete(self, pool_id: str) -> bool:
        return read(self.engine, lambda c: results.is_pool_complete(
            c, pool_id))

    # -- tasks -----------------------------------------------------------------------------
    def create_tasks(self, tasks: list[dict[str, Any]], *, allow_defaults: bool = True,
                     skip_invalid_items: bool = False, open_pool: bool = False,
                     report_items: bool = True) -> TaskImportReport:
        """Tasks in Toloka's dict shape (``pool_id``, ``input_values``, ``known_solutions``...);
        ``report_items=False`` skips building the created Task objects (huge uploads)."""
        return write(self.engine, lambda c: tasks_module.create_tasks(
            c, tasks, allow_defaults=allow_defaults, skip_invalid_items=skip_invalid_items,
            open_pool=open_pool, report_items=report_items))

    def import_task_file(self, pool_id: str, data: bytes | str | Path | IO[bytes], *,
                         format: str | None = None,
                         limits: UploadLimits | None = None) -> TaskImportReport:
        """A task file (path, open binary file, bytes or text) into the pool, in one
        transaction, read as a stream in batches; rows refused by validation are reported by
        row (0 = first data row); a file over ``limits`` (see ``crowd/uploads.py``) changes
        nothing and says where it failed."""
        def work(conn: sa.Connection) -> TaskImportReport:
            if hasattr(data, "seek"):
                data.seek(0)  # a retried transaction reads the file again
            pool = pools.get_pool(conn, pool_id)
            project = projects.get_project(conn, pool.project_id)
            items = importing.parse_task_file(data, pool.id, project, format=format,
                                              limits=limits)
            report = TaskImportReport()
            for offset, batch in _batches(items, IMPORT_BATCH):
                part = tasks_module.create_tasks(conn, batch, skip_invalid_items=True)
                report.items.update({offset + i: task for i, task in part.items.items()})
                report.validation_errors.update(
                    {offset + i: e for i, e in part.validation_errors.items()})
            return report

        return write(self.engine, work)

    def get_task(self, task_id: str) -> Task:
        return read(self.engine, lambda c: tasks_module.get_task(c, task_id))

    def search_tasks(self, search: Search) -> tuple[list[Task], bool]:
        """A page of tasks filtered, sorted and paged in SQL, and whether more follow."""
        def work(conn: sa.Connection) -> tuple[list[Task], bool]:
            rows, more = search_module.search_rows(conn, tables.tasks,
                                                   search_module.TASK_FIELDS, search)
            return [tasks_module.task_of_row(r) for r in rows], more

        return read(self.engine, work)

    def search_assignments(self, search: Search, *, task_id: str | None = None
                           ) -> tuple[list[Assignment], bool]:
        """A page of assignments (task suites) filtered, sorted and paged in SQL."""
        def work(conn: sa.Connection) -> tuple[list[Assignment], bool]:
            where = None
            if task_id is not None:
                answers = tables.answers.c
                where = tables.assignments.c.id.in_(sa.select(answers.assignment_id).where(
                    answers.task_id == key(task_id, TaskNotFound, "task")))
            rows, more = search_module.search_rows(conn, tables.assignments,
                                                   search_module.ASSIGNMENT_FIELDS, search,
                                                   where)
            return issuing.assignments_of_rows(conn, rows), more

        return read(self.engine, work)

    def list_tasks(self, pool_id: str, *, limit: int | None = None,
                   after_id: str | None = None) -> list[Task]:
        return read(self.engine, lambda c: tasks_module.list_tasks(
            c, pool_id, limit=limit, after_id=after_id))

    def count_tasks(self, pool_id: str) -> int:
        """All tasks of a pool (real, control and training)."""
        return read(self.engine, lambda c: tasks_module.count_tasks(c, pool_id))

    def patch_task(self, task_id: str, patch: dict[str, Any]) -> Task:
        """Toloka's ``PATCH /tasks/{id}``: overlap, infinite_overlap, known_solutions,
        message_on_unknown_solution."""
        return write(self.engine, lambda c: tasks_module.patch_task(c, task_id, patch))

    def set_task_overlap(self, task_id: str, overlap: int | None = None,
                         infinite_overlap: bool | None = None) -> Task:
        return write(self.engine, lambda c: tasks_module.set_task_overlap(
            c, task_id, overlap, infinite_overlap))

    # -- requester-made task suites (crowd/suites.py) ----------------------------------------
    def create_task_suites(self, suites: list[dict[str, Any]], *, allow_defaults: bool = False,
                           skip_invalid_items: bool = False,
                           open_pool: bool = False) -> SuiteImportReport:
        """Task suites in Toloka's dict shape (``pool_id``, ``tasks``, ``overlap``...), each
        issued as a unit; a pool takes either these or tasks for the mixer, as on Toloka."""
        return write(self.engine, lambda c: suites_module.create_suites(
            c, suites, allow_defaults=allow_defaults, skip_invalid_items=skip_invalid_items,
            open_pool=open_pool))

    def get_task_suite(self, suite_id: str) -> TaskSuite:
        return read(self.engine, lambda c: suites_module.get_suite(c, suite_id))

    def search_task_suites(self, search: Search, *, task_id: str | None = None
                           ) -> tuple[list[TaskSuite], bool]:
        """A page of task suites filtered, sorted and paged in SQL."""
        return read(self.engine, lambda c: suites_module.search_suites(c, search,
                                                                       task_id=task_id))

    def patch_task_suite(self, suite_id: str, patch: dict[str, Any], *,
                         open_pool: bool = False) -> TaskSuite:
        """overlap / infinite_overlap and issuing_order_override."""
        return write(self.engine, lambda c: suites_module.patch_suite(
            c, suite_id, patch, open_pool=open_pool))

    def set_task_suite_overlap_or_min(self, suite_id: str, overlap: int, *,
                                      open_pool: bool = False) -> TaskSuite:
        """The overlap becomes ``overlap``, or as low as the copies issued allow (0 stops)."""
        return write(self.engine, lambda c: suites_module.set_overlap_or_min(
            c, suite_id, overlap, open_pool=open_pool))

    # -- workers ---------------------------------------------------------------------------
    def invite_worker(self, name: str, *,
                      profile: dict[str, Any] | None = None) -> tuple[Worker, str]:
        """A new annotator and their token (shown once); ``profile`` holds Toloka's profile
        and computed filter fields, e.g. ``{"languages": ["EN"], "country": "GB"}``."""
        return write(self.engine, lambda c: workers.invite_worker(c, name, profile))

    def set_worker_profile(self, worker_id: str, profile: dict[str, Any], *,
                           once: bool = False) -> Worker:
        return write(self.engine, lambda c: workers.set_worker_profile(
            c, worker_id, profile, once=once))

    def authenticate_worker(self, token: str) -> Worker:
        return read(self.engine, lambda c: workers.authenticate_worker(c, token))

    def get_worker(self, worker_id: str) -> Worker:
        return read(self.engine, lambda c: workers.get_worker(c, worker_id))

    def list_workers(self) -> list[Worker]:
        return read(self.engine, workers.list_workers)

    # -- issuing and answering -------------------------------------------------------------
    def worker_overview(self) -> list[dict[str, Any]]:
        """Every worker with status (active or their bans), answers, honeypot accuracy and
        training results: what `crowdline worker list` and the dashboard show."""
        from crowdline.crowd.worker_overview import worker_overview

        return read(self.engine, worker_overview)

    def lift_restrictions(self, worker_id: str, *, pool_id: str | None = None,
                          project_id: str | None = None) -> list[str]:
        """Unban: delete the worker's restrictions (only those of a pool or project when
        given). Returns the ids deleted; an unknown worker raises NotFound."""
        self.get_worker(worker_id)
        lifted = []
        for restriction in self.list_restrictions(worker_id=worker_id):
            if pool_id is not None and restriction.pool_id != str(pool_id):
                continue
            if project_id is not None and restriction.project_id != str(project_id):
                continue
            self.delete_restriction(restriction.id)
            lifted.append(restriction.id)
        return lifted

    def request_assignment(self, worker_id: str,
                           pool_id: str | None = None) -> AnnotatorAssignment | None:
        worker_key = key(worker_id, WorkerNotFound, "worker")
        return write(self.engine, lambda c: issuing.request_assignment(
            c, worker_key, pool_id, self.clock(), self.cache))

    def submit_assignment(self, worker_id: str, assignment_id: str,
                          solutions: list[dict[str, Any]], *,
                          idempotency_key: str | None = None,
                          captcha_answer: str | None = None) -> SubmitResult:
        """``captcha_answer``: the answer to the suite's attention check, if it had one."""
        worker_key = key(worker_id, WorkerNotFound, "worker")
        return write(self.engine, lambda c: issuing.submit(
            c, worker_key, assignment_id, solutions, idempotency_key, self.clock(), self.cache,
            captcha_answer))

    async def request_assignment_async(self, worker_id: str, pool_id: str | None = None
                                       ) -> AnnotatorAssignment | None:
        """``request_assignment`` for an event loop (the server): on SQLite it waits for the
        group-committing writer without holding a thread."""
        worker_key = key(worker_id, WorkerNotFound, "worker")
        return await write_async(self.engine, lambda c: issuing.request_assignment(
            c, worker_key, pool_id, self.clock(), self.cache))

    async def submit_assignment_async(self, worker_id: str, assignment_id: str,
                                      solutions: list[dict[str, Any]], *,
                                      idempotency_key: str | None = None,
                                      captcha_answer: str | None = None) -> SubmitResult:
        """``submit_assignment`` for an event loop; returns after the answer is committed."""
        worker_key = key(worker_id, WorkerNotFound, "worker")
        return await write_async(self.engine, lambda c: issuing.submit(
            c, worker_key, assignment_id, solutions, idempotency_key, self.clock(), self.cache,
            captcha_answer))

    def skip_assignment(self, worker_id: str, assignment_id: str) -> Assignment:
        worker_key = key(worker_id, WorkerNotFound, "worker")
        write(self.engine, lambda c: issuing.skip(c, worker_key, assignment_id, self.clock()))
        return self.get_assignment(assignment_id)

    def worker_standing(self, worker_id: str, pool_id: str) -> dict[str, Any]:
        """Why ``request_assignment`` gives this worker nothing from the pool (see
        ``crowd/standing.py``): training first, training result, unavailable, finished, later."""
        worker_key = key(worker_id, WorkerNotFound, "worker")
        return read(self.engine, lambda c: standing.standing(c, worker_key, pool_id,
                                                             self.clock()))

    def worker_progress(self, worker_id: str, pool_id: str) -> dict[str, Any]:
        """``{"done": suites submitted, "left": tasks still to hand out, "capped", "training"}``."""
        worker_key = key(worker_id, WorkerNotFound, "worker")
        return read(self.engine, lambda c: standing.progress(c, worker_key, pool_id))

    def undo_window(self, worker_id: str, assignment_id: str) -> dict[str, Any] | None:
        """``{"id", "pool_id", "until"}`` while the worker may undo that submitted suite."""
        worker_key = key(worker_id, WorkerNotFound, "worker")
        return read(self.engine, lambda c: amend.undo_window(c, worker_key, assignment_id,
                                                             self.clock()))

    def undo_submission(self, worker_id: str, assignment_id: str) -> dict[str, Any]:
        """Take back a suite submitted moments ago (see ``crowd/amend.py``): it is ACTIVE
        again and its answers no longer count; returns ``{"pool_id", "solutions"}``."""
        worker_key = key(worker_id, WorkerNotFound, "worker")
        return write(self.engine, lambda c: amend.undo_submit(c, worker_key, assignment_id,
                                                              self.clock()))

    def skip_tasks(self, worker_id: str, assignment_id: str, task_ids: Sequence[str]) -> int:
        """Skip single tasks of an ACTIVE suite ("unsure"); returns how many are left."""
        worker_key = key(worker_id, WorkerNotFound, "worker")
        return write(self.engine, lambda c: amend.skip_tasks(c, worker_key, assignment_id,
                                                             task_ids, self.clock()))

    def expire_overdue(self, now: dt.datetime | None = None) -> int:
        return write(self.engine, lambda c: issuing.expire_overdue(
            c, now or self.clock()))

    def get_assignment(self, assignment_id: str) -> Assignment:
        return read(self.engine, lambda c: issuing.get_assignment(c, assignment_id))

    def list_assignments(self, *, pool_id: str | None = None, status: str | None = None,
                         worker_id: str | None = None, task_id: str | None = None,
                         limit: int | None = None,
                         after_id: str | None = None) -> list[Assignment]:
        return read(self.engine, lambda c: issuing.list_assignments(
            c, pool_id=pool_id, status=status, worker_id=worker_id, task_id=task_id,
            limit=limit, after_id=after_id))

    def accept_assignment(self, assignment_id: str, public_comment: str = "") -> Assignment:
        write(self.engine, lambda c: issuing.review(
            c, assignment_id, True, public_comment, self.clock()))
        return self.get_assignment(assignment_id)

    def reject_assignment(self, assignment_id: str, public_comment: str) -> Assignment:
        write(self.engine, lambda c: issuing.review(
            c, assignment_id, False, public_comment, self.clock()))
        return self.get_assignment(assignment_id)

    # -- restrictions and skills -----------------------------------------------------------
    def set_restriction(self, worker_id: str, scope: str, *, pool_id: str | None = None,
                        project_id: str | None = None, duration_seconds: int | None = None,
                        private_comment: str = "") -> Restriction:
        def work(conn: sa.Connection) -> Restriction:
            restriction = workers.set_restriction(
                conn, worker_id, scope, pool_id=pool_id, project_id=project_id,
                duration_seconds=duration_seconds, private_comment=private_comment)
            issuing.after_restriction(conn, restriction, self.clock())
            return restriction

        return write(self.engine, work)

    def list_restrictions(self, *, worker_id: str | None = None, pool_id: str | None = None,
                          project_id: str | None = None) -> list[Restriction]:
        return read(self.engine, lambda c: workers.list_restrictions(
            c, worker_id=worker_id, pool_id=pool_id, project_id=project_id))

    def delete_restriction(self, restriction_id: str) -> None:
        write(self.engine, lambda c: workers.delete_restriction(c, restriction_id))

    def create_skill(self, name: str, private_comment: str = "") -> Skill:
        return write(self.engine, lambda c: workers.create_skill(
            c, name, private_comment))

    def list_skills(self) -> list[Skill]:
        return read(self.engine, workers.list_skills)

    def get_skill(self, skill_id: str) -> Skill:
        return read(self.engine, lambda c: workers.get_skill(c, skill_id))

    def set_worker_skill(self, worker_id: str, skill_id: str, value: float) -> WorkerSkill:
        return write(self.engine, lambda c: workers.set_worker_skill(
            c, worker_id, skill_id, value))

    def get_worker_skills(self, worker_id: str | None = None,
                          skill_id: str | None = None) -> list[WorkerSkill]:
        return read(self.engine, lambda c: workers.get_worker_skills(
            c, worker_id, skill_id))

    # -- quality control and results -------------------------------------------------------
    def list_qc_actions(self, *, pool_id: str | None = None,
                        worker_id: str | None = None) -> list[QcAction]:
        return read(self.engine, lambda c: quality.list_actions(
            c, pool_id=pool_id, worker_id=worker_id))

    def answers_frame(self, pool_id: str, *, include_golden: bool = False,
                      include_banned: bool = True,
                      statuses: Sequence[str] = ("SUBMITTED", "ACCEPTED")) -> pd.DataFrame:
        return read(self.engine, lambda c: results.answers_frame(
            c, pool_id, include_golden=include_golden, include_banned=include_banned,
            statuses=statuses))

    # -- the requester's dashboard (crowd/insights.py) -------------------------------------
    def pool_progress(self, pool_id: str) -> dict[str, Any]:
        """Answers collected / needed, tasks complete, rate and ETA (cheap at any size)."""
        return read(self.engine, lambda c: insights.pool_progress(c, pool_id, self.clock()))

    def pool_timeline(self, pool_id: str, buckets: int = 24) -> list[dict[str, Any]]:
        """Answers and honeypot accuracy per time bucket."""
        return read(self.engine, lambda c: insights.timeline(c, pool_id, buckets))

    def pool_agreement(self, pool_id: str) -> dict[str, Any]:
        return read(self.engine, lambda c: insights.agreement(c, pool_id))

    def browse_tasks(self, pool_id: str, **options: Any) -> dict[str, Any]:
        """A page of tasks with answers, majority label and confidence (see insights)."""
        return read(self.engine, lambda c: insights.tasks_table(c, pool_id, **options))

    def worker_record(self, worker_id: str) -> dict[str, Any]:
        return read(self.engine, lambda c: insights.worker_record(c, worker_id, self.clock()))

    def aggregate_pool(self, pool_id: str, *, method: str = "DAWID_SKENE",
                       skill_id: str | None = None, field: str | None = None) -> pd.DataFrame:
        """One label per answered real task (task, label, confidence, answers):
        DAWID_SKENE, MAJORITY_VOTE, or WEIGHTED_DYNAMIC_OVERLAP by a skill's values."""
        from crowdline.crowd.aggregation import aggregate_pool

        return aggregate_pool(self, pool_id, method=method, skill_id=skill_id, field=field)

    def export_answers(self, pool_id: str, fmt: str = "csv") -> bytes:
        """Every answer of the pool (honeypots flagged) as csv, jsonl or parquet."""
        from crowdline.crowd.interchange import frame_bytes

        return frame_bytes(self.answers_frame(pool_id, include_golden=True), fmt)

    def export_labels(self, pool_id: str, fmt: str = "csv") -> bytes:
        """One aggregated label per task, with confidence, as csv, jsonl or parquet."""
        from crowdline.crowd.interchange import frame_bytes, labels_frame

        return frame_bytes(labels_frame(self, pool_id), fmt)

    def export_label_studio(self, pool_id: str) -> list[dict[str, Any]]:
        """The pool's tasks and answers in Label Studio's JSON export format."""
        from crowdline.crowd.interchange import to_label_studio

        return read(self.engine, lambda c: to_label_studio(c, pool_id))

    def import_label_studio(self, tasks: Any, *, name: str = "Label Studio import") -> Any:
        """A project, a closed pool, its tasks and the annotators' answers from a Label
        Studio JSON export (classification). Returns what was created."""
        from crowdline.crowd.interchange import import_label_studio

        return import_label_studio(self, tasks, name=name)

    def export_pool(self, pool_id: str, repo: str, branch: str = "master") -> Any:
        return read(self.engine, lambda c: results.export_pool(
            c, self.store, pool_id, repo, branch))


IMPORT_BATCH = 5_000


def _batches(items: Iterable[Any], size: int) -> Iterable[tuple[int, list[Any]]]:
    """(offset, up to ``size`` items) of a stream of items."""
    batch: list[Any] = []
    offset = 0
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield offset, batch
            offset, batch = offset + size, []
    if batch:
        yield offset, batch
