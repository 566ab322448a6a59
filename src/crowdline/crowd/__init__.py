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

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

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
    Task,
    TaskImportReport,
    Worker,
    WorkerSkill,
)

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
    "Worker",
    "WorkerSkill",
]


class Crowd:
    """Facade over the crowd tables: every public operation of the labeling service."""

    def __init__(self, engine: sa.Engine, store: Any = None) -> None:
        self.engine = engine
        self.store = store

    # -- requesters ------------------------------------------------------------------------
    def create_requester_token(self, name: str = "default") -> str:
        raise NotImplementedError

    def authenticate_requester(self, token: str) -> Requester:
        raise NotImplementedError

    # -- projects --------------------------------------------------------------------------
    def create_project(self, config: dict[str, Any]) -> Project:
        raise NotImplementedError

    def get_project(self, project_id: str) -> Project:
        raise NotImplementedError

    def list_projects(self, status: str | None = None) -> list[Project]:
        raise NotImplementedError

    def update_project(self, project_id: str, config: dict[str, Any]) -> Project:
        raise NotImplementedError

    # -- pools -----------------------------------------------------------------------------
    def create_pool(self, config: dict[str, Any]) -> Pool:
        raise NotImplementedError

    def get_pool(self, pool_id: str) -> Pool:
        raise NotImplementedError

    def list_pools(self, project_id: str | None = None, status: str | None = None) -> list[Pool]:
        raise NotImplementedError

    def update_pool(self, pool_id: str, config: dict[str, Any]) -> Pool:
        raise NotImplementedError

    def open_pool(self, pool_id: str) -> Pool:
        raise NotImplementedError

    def close_pool(self, pool_id: str) -> Pool:
        raise NotImplementedError

    def archive_pool(self, pool_id: str) -> Pool:
        raise NotImplementedError

    def clone_pool(self, pool_id: str) -> Pool:
        raise NotImplementedError

    def pool_stats(self, pool_id: str) -> dict[str, Any]:
        raise NotImplementedError

    def is_pool_complete(self, pool_id: str) -> bool:
        raise NotImplementedError

    # -- tasks -----------------------------------------------------------------------------
    def create_tasks(self, tasks: list[dict[str, Any]], *, allow_defaults: bool = True,
                     skip_invalid_items: bool = False,
                     open_pool: bool = False) -> TaskImportReport:
        raise NotImplementedError

    def import_task_file(self, pool_id: str, data: bytes | str | Path, *,
                         format: str | None = None) -> TaskImportReport:
        raise NotImplementedError

    def get_task(self, task_id: str) -> Task:
        raise NotImplementedError

    def list_tasks(self, pool_id: str, *, limit: int | None = None,
                   after_id: str | None = None) -> list[Task]:
        raise NotImplementedError

    def set_task_overlap(self, task_id: str, overlap: int | None = None,
                         infinite_overlap: bool | None = None) -> Task:
        raise NotImplementedError

    # -- workers ---------------------------------------------------------------------------
    def invite_worker(self, name: str) -> tuple[Worker, str]:
        raise NotImplementedError

    def authenticate_worker(self, token: str) -> Worker:
        raise NotImplementedError

    def get_worker(self, worker_id: str) -> Worker:
        raise NotImplementedError

    def list_workers(self) -> list[Worker]:
        raise NotImplementedError

    # -- issuing and answering -------------------------------------------------------------
    def request_assignment(self, worker_id: str,
                           pool_id: str | None = None) -> AnnotatorAssignment | None:
        raise NotImplementedError

    def submit_assignment(self, worker_id: str, assignment_id: str,
                          solutions: list[dict[str, Any]], *,
                          idempotency_key: str | None = None) -> SubmitResult:
        raise NotImplementedError

    def skip_assignment(self, worker_id: str, assignment_id: str) -> Assignment:
        raise NotImplementedError

    def expire_overdue(self, now: Any = None) -> int:
        raise NotImplementedError

    def get_assignment(self, assignment_id: str) -> Assignment:
        raise NotImplementedError

    def list_assignments(self, *, pool_id: str | None = None, status: str | None = None,
                         worker_id: str | None = None, task_id: str | None = None,
                         limit: int | None = None,
                         after_id: str | None = None) -> list[Assignment]:
        raise NotImplementedError

    def accept_assignment(self, assignment_id: str, public_comment: str = "") -> Assignment:
        raise NotImplementedError

    def reject_assignment(self, assignment_id: str, public_comment: str) -> Assignment:
        raise NotImplementedError

    # -- restrictions and skills -----------------------------------------------------------
    def set_restriction(self, worker_id: str, scope: str, *, pool_id: str | None = None,
                        project_id: str | None = None, duration_seconds: int | None = None,
                        private_comment: str = "") -> Restriction:
        raise NotImplementedError

    def list_restrictions(self, *, worker_id: str | None = None, pool_id: str | None = None,
                          project_id: str | None = None) -> list[Restriction]:
        raise NotImplementedError

    def delete_restriction(self, restriction_id: str) -> None:
        raise NotImplementedError

    def create_skill(self, name: str, private_comment: str = "") -> Skill:
        raise NotImplementedError

    def list_skills(self) -> list[Skill]:
        raise NotImplementedError

    def get_skill(self, skill_id: str) -> Skill:
        raise NotImplementedError

    def set_worker_skill(self, worker_id: str, skill_id: str, value: float) -> WorkerSkill:
        raise NotImplementedError

    def get_worker_skills(self, worker_id: str | None = None,
                          skill_id: str | None = None) -> list[WorkerSkill]:
        raise NotImplementedError

    # -- quality control and results -------------------------------------------------------
    def list_qc_actions(self, *, pool_id: str | None = None,
                        worker_id: str | None = None) -> list[QcAction]:
        raise NotImplementedError

    def answers_frame(self, pool_id: str, *, include_golden: bool = False,
                      include_banned: bool = True,
                      statuses: Sequence[str] = ("SUBMITTED", "ACCEPTED")) -> pd.DataFrame:
        raise NotImplementedError

    def export_pool(self, pool_id: str, repo: str, branch: str = "master") -> Any:
        raise NotImplementedError
