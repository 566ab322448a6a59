"""The crowd part's objects as plain dataclasses; ``to_dict()`` gives Toloka's JSON shape."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


def iso(value: dt.datetime | None) -> str | None:
    """Toloka's timestamp format: UTC, no offset, milliseconds."""
    if value is None:
        return None
    if value.tzinfo is None:  # a naive time is UTC (the time columns hand back aware ones)
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="milliseconds")


def utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Requester:
    id: str
    name: str


@dataclass
class Project:
    id: str
    public_name: str
    public_description: str
    public_instructions: str
    task_spec: dict[str, Any]
    status: str
    created: dt.datetime
    private_comment: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def output_field(self) -> str:
        """The name of the (first) output field: the label the crowd gives."""
        return next(iter(self.task_spec.get("output_spec", {})), "label")

    @property
    def allowed_values(self) -> list[str]:
        from crowdline.crowd.projects import label_values

        if not self.task_spec.get("output_spec"):
            return []
        return [str(v) for v in label_values(self.task_spec)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "public_name": self.public_name,
            "public_description": self.public_description,
            "public_instructions": self.public_instructions,
            "private_comment": self.private_comment,
            "task_spec": self.task_spec,
            "assignments_issuing_type": "AUTOMATED",
            "status": self.status,
            "created": iso(self.created),
            **self.extra,
        }


@dataclass
class Pool:
    id: str
    project_id: str
    private_name: str
    status: str
    type: str
    reward_per_assignment: float
    assignment_max_duration_seconds: int
    defaults: dict[str, Any]
    mixer_config: dict[str, Any]
    quality_control: dict[str, Any]
    auto_accept_solutions: bool
    priority: int
    created: dt.datetime
    filter: dict[str, Any] | None = None
    dynamic_overlap_config: dict[str, Any] | None = None
    last_started: dt.datetime | None = None
    last_stopped: dt.datetime | None = None
    public_description: str = ""
    private_comment: str = ""
    will_expire: dt.datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    grouping: str | None = None  # SUITES: requester-made task suites (crowd/suites.py)

    @property
    def default_overlap(self) -> int:
        return int(self.defaults.get("default_overlap_for_new_tasks")
                   or self.defaults.get("default_overlap_for_new_task_suites") or 1)

    @property
    def training_requirement(self) -> dict[str, Any] | None:
        return self.quality_control.get("training_requirement")

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "project_id": self.project_id,
            "private_name": self.private_name,
            "private_comment": self.private_comment,
            "public_description": self.public_description,
            "status": self.status,
            "type": self.type,
            "may_contain_adult_content": False,
            "reward_per_assignment": self.reward_per_assignment,
            "assignment_max_duration_seconds": self.assignment_max_duration_seconds,
            "defaults": self.defaults,
            "mixer_config": self.mixer_config,
            "quality_control": self.quality_control,
            "auto_accept_solutions": self.auto_accept_solutions,
            "priority": self.priority,
            "created": iso(self.created),
            "last_started": iso(self.last_started),
            "last_stopped": iso(self.last_stopped),
            "will_expire": iso(self.will_expire),
            **self.extra,
        }
        if self.filter is not None:
            data["filter"] = self.filter
        if self.dynamic_overlap_config is not None:
            data["dynamic_overlap_config"] = self.dynamic_overlap_config
        return {k: v for k, v in data.items() if v is not None}


@dataclass
class Task:
    id: str
    pool_id: str
    input_values: dict[str, Any]
    known_solutions: list[dict[str, Any]] | None
    message_on_unknown_solution: str | None
    overlap: int | None
    infinite_overlap: bool
    created: dt.datetime
    # Toloka's preliminary answers ({output_values, confidence_weight}): dynamic overlap
    # counts them as voters (a model's label and probability); annotators never see them
    baseline_solutions: list[dict[str, Any]] | None = None

    @property
    def is_golden(self) -> bool:
        return bool(self.known_solutions)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "pool_id": self.pool_id,
            "input_values": self.input_values,
            "overlap": self.overlap,
            "infinite_overlap": self.infinite_overlap,
            "created": iso(self.created),
        }
        if self.known_solutions:
            data["known_solutions"] = self.known_solutions
        if self.message_on_unknown_solution:
            data["message_on_unknown_solution"] = self.message_on_unknown_solution
        if self.baseline_solutions:
            data["baseline_solutions"] = self.baseline_solutions
        return data


@dataclass
class TaskSuite:
    """A requester-made task suite: its tasks go to one worker together, to at most
    ``overlap`` workers (None: infinite), never twice to the same worker."""

    id: str
    pool_id: str
    tasks: list[dict[str, Any]]  # {id, input_values, known_solutions?, hint?}, in order
    overlap: int | None
    issued: int
    issuing_order_override: float
    created: dt.datetime

    @property
    def remaining_overlap(self) -> int | None:
        return None if self.overlap is None else max(0, self.overlap - self.issued)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "pool_id": self.pool_id,
            "tasks": self.tasks,
            "overlap": self.overlap,
            "infinite_overlap": self.overlap is None,
            "remaining_overlap": self.remaining_overlap,
            "issuing_order_override": self.issuing_order_override,
            "mixed": False,
            "automerged": False,
            "reserved_for": [],
            "unavailable_for": [],
            "created": iso(self.created),
        }
        return {k: v for k, v in data.items() if v is not None}


@dataclass
class SuiteImportReport:
    """What ``create_task_suites`` made (by input position) and what it refused."""

    items: dict[int, TaskSuite] = field(default_factory=dict)
    validation_errors: dict[int, dict[str, str]] = field(default_factory=dict)


@dataclass
class TaskImportReport:
    """What ``create_tasks`` made (by input position) and what it refused (by position)."""

    items: dict[int, Task] = field(default_factory=dict)
    validation_errors: dict[int, dict[str, str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "items": {str(i): t.to_dict() for i, t in self.items.items()},
            "validation_errors": {str(i): e for i, e in self.validation_errors.items()},
        }


@dataclass
class Assignment:
    id: str
    task_suite_id: str
    pool_id: str
    user_id: str
    status: str
    reward: float
    tasks: list[dict[str, Any]]
    solutions: list[dict[str, Any]] | None
    mixed: bool
    automerged: bool
    created: dt.datetime
    submitted: dt.datetime | None = None
    accepted: dt.datetime | None = None
    rejected: dt.datetime | None = None
    skipped: dt.datetime | None = None
    expired: dt.datetime | None = None
    public_comment: str | None = None
    expires_at: dt.datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "task_suite_id": self.task_suite_id,
            "pool_id": self.pool_id,
            "user_id": self.user_id,
            "status": self.status,
            "reward": self.reward,
            "tasks": self.tasks,
            "solutions": self.solutions,
            "mixed": self.mixed,
            "automerged": self.automerged,
            "created": iso(self.created),
            "submitted": iso(self.submitted),
            "accepted": iso(self.accepted),
            "rejected": iso(self.rejected),
            "skipped": iso(self.skipped),
            "expired": iso(self.expired),
            "public_comment": self.public_comment,
        }
        return {k: v for k, v in data.items() if v is not None}


@dataclass
class AnnotatorAssignment:
    """What an annotator sees of a task suite: never a known solution or a hint."""

    id: str
    pool_id: str
    project_id: str
    public_name: str
    instructions_html: str
    output_spec: dict[str, Any]
    labels: list[tuple[str, str, str]]
    is_training: bool
    expires_at: dt.datetime
    tasks: list[dict[str, Any]]
    captcha: dict[str, str] | None = None  # {"question"}: an attention check to answer
    # a copy of a requester-made suite: its tasks are answered together (no per-task skip)
    whole_suite: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "captcha": self.captcha,
            "id": self.id,
            "pool_id": self.pool_id,
            "project_id": self.project_id,
            "public_name": self.public_name,
            "instructions_html": self.instructions_html,
            "output_spec": self.output_spec,
            "labels": [{"value": v, "title": t, "key": k} for v, t, k in self.labels],
            "is_training": self.is_training,
            "whole_suite": self.whole_suite,
            "expires_at": iso(self.expires_at),
            "tasks": self.tasks,
        }


@dataclass
class SubmitResult:
    assignment_id: str
    status: str
    training_feedback: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"assignment_id": self.assignment_id, "status": self.status,
                "training_feedback": self.training_feedback}


@dataclass
class Worker:
    id: str
    name: str
    created: dt.datetime
    profile: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "created": iso(self.created),
                "profile": dict(self.profile)}


@dataclass
class Restriction:
    id: str
    user_id: str
    scope: str
    pool_id: str | None
    project_id: str | None
    private_comment: str
    will_expire: dt.datetime | None
    created: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        data = {
            "id": self.id,
            "user_id": self.user_id,
            "scope": self.scope,
            "pool_id": self.pool_id,
            "project_id": self.project_id,
            "private_comment": self.private_comment,
            "will_expire": iso(self.will_expire),
            "created": iso(self.created),
        }
        return {k: v for k, v in data.items() if v is not None}


@dataclass
class Skill:
    id: str
    name: str
    private_comment: str
    created: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "private_comment": self.private_comment,
                "created": iso(self.created)}


@dataclass
class WorkerSkill:
    id: str
    skill_id: str
    user_id: str
    value: int
    exact_value: float
    created: dt.datetime
    modified: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "skill_id": self.skill_id, "user_id": self.user_id,
                "value": self.value, "exact_value": self.exact_value,
                "created": iso(self.created), "modified": iso(self.modified)}


@dataclass
class QcAction:
    """One quality-control action taken: which rule fired, on what figures, doing what."""

    id: str
    pool_id: str
    worker_id: str
    rule: dict[str, Any]
    collector: str
    figures: dict[str, Any]
    action: dict[str, Any]
    created: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "pool_id": self.pool_id, "worker_id": self.worker_id,
                "rule": self.rule, "collector": self.collector, "figures": self.figures,
                "action": self.action, "created": iso(self.created)}
