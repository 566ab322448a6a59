"""Request and response models of crowdline's own API, split by direction (for OpenAPI)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class NextSuiteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pool_id: str | None = Field(None, description="only this pool; any open pool when left out")


class Solution(BaseModel):
    output_values: dict[str, Any]


class SubmitRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    solutions: list[Solution] = Field(..., description="one per task, in the suite's task order")
    idempotency_key: str | None = Field(
        None, max_length=200, description="a retried submit with the same key is accepted once")
    captcha_answer: str | None = Field(
        None, max_length=100, description="the answer to the suite's captcha question, if any")


class LabelPublic(BaseModel):
    value: str
    title: str
    key: str


class TaskPublic(BaseModel):
    id: str
    input_values: dict[str, Any]


class AnnotatorAssignmentPublic(BaseModel):
    """A task suite as an annotator sees it: never a known solution or a hint."""

    id: str
    pool_id: str
    project_id: str
    public_name: str
    instructions_html: str
    output_spec: dict[str, Any]
    labels: list[LabelPublic]
    is_training: bool
    expires_at: str | None
    tasks: list[TaskPublic]
    captcha: dict[str, str] | None = Field(
        None, description="an attention check ({question}) to answer with the submit")


class SubmitResultPublic(BaseModel):
    assignment_id: str
    status: str
    training_feedback: list[dict[str, Any]] = []


class AssignmentStatusPublic(BaseModel):
    id: str
    status: str


class InviteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(..., min_length=1, max_length=200, description="the annotator's name")
    profile: dict[str, Any] | None = Field(
        None, description="Toloka profile / computed filter fields, e.g. "
                          '{"languages": ["EN"], "country": "GB", "adult_allowed": true}')


class ReplyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: dict[str, str] = Field(..., description='{"EN": "your reply"}')


class ProfileRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    profile: dict[str, Any] = Field(..., description="languages, country, adult_allowed...")


class InvitePublic(BaseModel):
    worker: dict[str, Any]
    token: str = Field(..., description="shown once; stored hashed")
    invite_url: str


class ExportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    repo: str
    branch: str = "master"
