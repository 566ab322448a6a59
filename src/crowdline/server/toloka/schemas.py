"""Request bodies of the Toloka-compatible API (incoming direction only).

Responses are the crowd objects' own ``to_dict()`` (already Toloka's shape). Every request
model forbids extra fields, so a field crowdline does not implement is refused by name
instead of being silently dropped. Project and pool configs are passed to the crowd facade,
which validates them field by field.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class KnownSolutionIn(Strict):
    output_values: dict[str, Any]
    correctness_weight: float | None = None


class BaselineSolutionIn(Strict):
    """A preliminary answer (e.g. a model's), counted as a voter by dynamic overlap."""

    output_values: dict[str, Any]
    confidence_weight: float = Field(ge=0.0, le=1.0)


class TaskIn(Strict):
    """One task of ``POST /tasks``; ``__item_idx`` is toloka-kit's own bookkeeping key."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    pool_id: str
    input_values: dict[str, Any]
    known_solutions: list[KnownSolutionIn] | None = None
    baseline_solutions: list[BaselineSolutionIn] | None = None
    message_on_unknown_solution: str | None = None
    overlap: int | None = Field(default=None, ge=1)
    infinite_overlap: bool | None = None
    item_idx: str | None = Field(default=None, alias="__item_idx")

    def to_crowd(self) -> dict[str, Any]:
        data = self.model_dump(exclude_none=True, exclude={"item_idx"})
        if self.known_solutions is not None:
            data["known_solutions"] = [
                {"output_values": s.output_values} for s in self.known_solutions
            ]
        return data


class TaskSuiteIn(Strict):
    """One task suite of ``POST /task-suites``. The tasks, the overlap and the settings
    crowdline lacks are checked by the crowd (``crowd/suites.py``), which names each
    problem by its path (``tasks[2].input_values.text``)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    pool_id: str
    tasks: list[Any]
    overlap: int | None = None
    infinite_overlap: bool | None = None
    issuing_order_override: float | None = None
    mixed: bool | None = None
    reserved_for: list[str] | None = None
    unavailable_for: list[str] | None = None
    traits_all_of: list[str] | None = None
    traits_any_of: list[str] | None = None
    traits_none_of_any: list[str] | None = None
    longitude: float | None = None
    latitude: float | None = None
    # read-only fields a client may echo back; they are not settings
    id: str | None = None
    remaining_overlap: int | None = None
    automerged: bool | None = None
    created: str | None = None
    item_idx: str | None = Field(default=None, alias="__item_idx")

    def to_crowd(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True, exclude={"item_idx"})


class TaskSuiteOverlapPatch(Strict):
    overlap: int


class OverlapPatch(Strict):
    overlap: int | None = Field(default=None, ge=0)
    infinite_overlap: bool | None = None


class AssignmentPatch(Strict):
    status: Literal["ACCEPTED", "REJECTED"]
    public_comment: str = ""


class UserRestrictionIn(Strict):
    scope: Literal["POOL", "PROJECT", "ALL_PROJECTS"]
    user_id: str
    pool_id: str | None = None
    project_id: str | None = None
    private_comment: str = ""
    will_expire: dt.datetime | None = None


class SkillIn(Strict):
    name: str = Field(min_length=1)
    private_comment: str = ""
    hidden: bool | None = None  # crowdline never shows skills to annotators: accepted as-is
    public_name: dict[str, str] | None = None
    public_requester_description: dict[str, str] | None = None


class SetUserSkillIn(Strict):
    skill_id: str
    user_id: str
    value: Decimal = Field(ge=0, le=100)


class AggregationField(Strict):
    name: str


class AggregateByPoolIn(Strict):
    type: Literal["DAWID_SKENE", "WEIGHTED_DYNAMIC_OVERLAP"]
    pool_id: str
    answer_weight_skill_id: str | None = None
    fields: list[AggregationField] = Field(min_length=1)


class AggregateByTaskIn(Strict):
    type: Literal["WEIGHTED_DYNAMIC_OVERLAP"]
    pool_id: str
    task_id: str
    answer_weight_skill_id: str
    fields: list[AggregationField] = Field(min_length=1)


class PoolPatchIn(Strict):
    priority: int = Field(ge=-100, le=100)
