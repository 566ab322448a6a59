"""The one validation layer for crowd configs: projects, pools, quality control, filters, mixers.

Every config the SDK, the REST API and the Toloka-compatible API accept goes through the typed
models here (pydantic, strict types, a range per number), so a config that would fail later, at
submit time, is refused when it is created. Errors name the field path and what is allowed:

    >>> check_pool_shape({"project_id": "1", "quality_control": {"configs": [{
    ...     "collector_config": {"type": "GOLDEN_SET", "parameters": {"history_size": "abc"}}}]}})
    InvalidInput: quality_control.configs[0].collector_config.parameters.history_size 'abc' is
    not valid: Input should be a valid integer

A field crowdline does not implement raises ``Unsupported`` naming it (never dropped silently).
To add a field, add it to the model it belongs to, with its type and range.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from crowdline.errors import InvalidInput, Unsupported

M = TypeVar("M", bound=BaseModel)

# Bounds that keep every later computation finite (timedelta, LIMIT, suite size).
MAX_SUITE_TASKS = 1_000
MAX_OVERLAP = 10_000
MAX_HISTORY = 10_000
MAX_DURATION_SECONDS = 366 * 86_400  # a year
MAX_DAYS = 36_500

Id = str | int  # an id crowdline returned; whether it exists is checked where it is used
Count = Annotated[int, Field(ge=0, le=MAX_SUITE_TASKS)]
Text = Annotated[str, Field(max_length=100_000)]
Number = float  # strict: an int is a float too, a bool or "5" is not


class Strict(BaseModel):
    """Unknown fields are refused (Unsupported), and no value is coerced ("5" is not 5)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Loose(BaseModel):
    """Typed where crowdline reads a field; other fields are kept as given (Toloka's view
    and field specs carry many presentation settings crowdline stores but does not read)."""

    model_config = ConfigDict(extra="allow", strict=True)


class ReadOnly(Strict):
    """Fields Toloka returns and clients echo back; ignored on the way in."""

    id: Any = None
    created: Any = None
    status: Any = None
    owner: Any = None


# -- projects -------------------------------------------------------------------------------


InputType = Literal["string", "url", "integer", "float", "boolean", "json"]
OutputType = Literal["string", "array_string", "boolean", "integer"]
Scalar = str | int | float | bool


class InputField(Loose):
    type: InputType
    required: bool = True
    hidden: bool = False
    min_length: Annotated[int, Field(ge=0)] | None = None
    max_length: Annotated[int, Field(ge=0)] | None = None
    allowed_values: list[Scalar] | None = None


class OutputField(Loose):
    type: OutputType
    required: bool = True
    allowed_values: Annotated[list[Scalar], Field(max_length=1_000)] | None = None


class Label(Loose):
    value: Scalar
    title: Text | None = None
    key: Annotated[str, Field(max_length=20)] | None = None


class ViewSpec(Loose):
    type: str | None = None
    interface: Literal["text", "image"] = "text"
    labels: Annotated[list[Label], Field(max_length=1_000)] | None = None


class TaskSpec(Strict):
    input_spec: Annotated[dict[str, InputField], Field(min_length=1)]
    output_spec: Annotated[dict[str, OutputField], Field(min_length=1)]
    view_spec: ViewSpec | None = None


class ProjectConfig(ReadOnly):
    public_name: Annotated[str, Field(min_length=1, max_length=1_000)]
    public_description: Text = ""
    public_instructions: Annotated[str, Field(max_length=1_000_000)] = ""
    private_comment: Text = ""
    task_spec: TaskSpec
    assignments_issuing_type: Literal["AUTOMATED"] = "AUTOMATED"
    metadata: dict[str, Any] | None = None
    assignments_automerge_enabled: bool | None = None
    max_active_assignments_count: Annotated[int, Field(ge=1, le=MAX_SUITE_TASKS)] | None = None


# -- pools ----------------------------------------------------------------------------------


class MixerConfig(Strict):
    real_tasks_count: Count = 1
    golden_tasks_count: Count = 0
    training_tasks_count: Count = 0
    min_real_tasks_count: Count | None = None
    min_golden_tasks_count: Count | None = None
    min_training_tasks_count: Count | None = None
    force_last_assignment: bool | None = None
    force_last_assignment_delay_seconds: Annotated[
        int, Field(ge=0, le=MAX_DURATION_SECONDS)] | None = None
    mix_tasks_in_creation_order: bool | None = None
    shuffle_tasks_in_task_suite: bool | None = None


Overlap = Annotated[int, Field(ge=1, le=MAX_OVERLAP)]


class Defaults(Strict):
    default_overlap_for_new_tasks: Overlap | None = None
    # 0 is Toloka's "no suite-level overlap": the tasks' own overlap applies
    default_overlap_for_new_task_suites: Annotated[int, Field(ge=0, le=MAX_OVERLAP)] | None = None


class DynamicOverlapConfig(Strict):
    type: Literal["BASIC"] = "BASIC"
    max_overlap: Overlap
    min_confidence: Annotated[Number, Field(ge=0, le=1)]
    answer_weight_skill_id: Id | None = None
    fields: list[dict[str, Any]] | None = None


class SkillFilter(Strict):
    category: Literal["skill"]
    key: Id
    operator: Literal["EQ", "NE", "GT", "GTE", "LT", "LTE"]
    value: Annotated[Number, Field(ge=0, le=100)] | None


FilterOperator = Literal["EQ", "NE", "GT", "GTE", "LT", "LTE", "IN", "NOT_IN"]
FilterValue = str | int | float | bool | list[str] | list[int] | None


class ProfileFilter(Strict):
    """Toloka's ``profile`` filters, evaluated against the worker's profile
    (``crowdline.crowd.filters``)."""

    category: Literal["profile"]
    key: Literal["languages", "country", "citizenship", "city", "gender", "education",
                 "adult_allowed", "date_of_birth", "verified"]
    operator: FilterOperator
    value: FilterValue


class ComputedFilter(Strict):
    category: Literal["computed"]
    key: Literal["client_type", "region_by_phone", "region_by_ip", "device_category",
                 "os_family", "os_version", "user_agent_type", "rating"]
    operator: FilterOperator
    value: FilterValue


class TrainingRequirement(Strict):
    training_pool_id: Id | None = None
    training_passing_skill_value: Annotated[Number, Field(ge=0, le=100)] | None = None


class PoolConfig(ReadOnly):
    project_id: Id
    private_name: Annotated[str, Field(max_length=1_000)] | None = None
    private_comment: Text | None = None
    public_description: Text | None = None
    public_instructions: Annotated[str, Field(max_length=1_000_000)] | None = None
    type: Literal["REGULAR", "TRAINING"] | None = None
    may_contain_adult_content: bool | None = None
    will_expire: str | None = None
    reward_per_assignment: Annotated[Number, Field(ge=0, le=1_000_000)] = 0
    assignment_max_duration_seconds: Annotated[int, Field(ge=1, le=MAX_DURATION_SECONDS)] = 600
    auto_accept_solutions: bool = True
    auto_accept_period_day: Annotated[int, Field(ge=0, le=MAX_DAYS)] | None = None
    auto_close_after_complete_delay_seconds: Annotated[
        int, Field(ge=0, le=MAX_DURATION_SECONDS)] | None = None
    defaults: Defaults | None = None
    mixer_config: MixerConfig | None = None
    quality_control: dict[str, Any] | None = None  # checked by check_quality_control
    filter: dict[str, Any] | None = None  # checked by check_filter
    dynamic_overlap_config: DynamicOverlapConfig | None = None
    priority: Annotated[int, Field(ge=-100, le=100)] = 0
    metadata: dict[str, Any] | None = None
    last_started: Any = None
    last_stopped: Any = None
    last_close_reason: Any = None
    assignments_issuing_config: dict[str, Any] | None = None
    # Toloka's training objects
    training_tasks_in_task_suite_count: Annotated[
        int, Field(ge=1, le=MAX_SUITE_TASKS)] | None = None
    task_suites_required_to_pass: Annotated[int, Field(ge=1, le=MAX_SUITE_TASKS)] | None = None
    retry_training_after_days: Annotated[int, Field(ge=0, le=MAX_DAYS)] | None = None
    mix_tasks_in_creation_order: bool | None = None
    shuffle_tasks_in_task_suite: bool | None = None
    inherited_instructions: bool | None = None
    training_config: Any = None


# -- quality control ------------------------------------------------------------------------


History = Annotated[int, Field(ge=1, le=MAX_HISTORY)]


class QualityControlShape(Strict):
    configs: list[dict[str, Any]] = []
    training_requirement: TrainingRequirement | None = None
    captcha_frequency: Literal["LOW", "MEDIUM", "HIGH"] | None = None


class CollectorShape(Strict):
    type: str
    parameters: dict[str, Any] | None = None
    uuid: str | None = None


class RuleShape(Strict):
    conditions: list[dict[str, Any]] = []
    action: dict[str, Any]


class QcConfigShape(Strict):
    collector_config: dict[str, Any]
    rules: list[dict[str, Any]] = []


class NoParameters(Strict):
    pass


class GoldenSetParameters(Strict):
    history_size: History | None = None


class MajorityVoteParameters(Strict):
    answer_threshold: Annotated[int, Field(ge=1, le=MAX_OVERLAP)] | None = None
    history_size: History | None = None


class SubmitTimeParameters(Strict):
    fast_submit_threshold_seconds: Annotated[Number, Field(gt=0, le=MAX_DURATION_SECONDS)]
    history_size: History | None = None


Rate = Annotated[Number, Field(ge=0, le=100)]
Amount = Annotated[Number, Field(ge=0, le=2**53)]
# What a condition on each figure compares with: its value type and range, and operators.
_ORDERED = ("EQ", "NE", "GT", "GTE", "LT", "LTE")
FIGURES: dict[str, tuple[Any, tuple[str, ...]]] = {
    "total_answers_count": (Amount, _ORDERED),
    "correct_answers_rate": (Rate, _ORDERED),
    "incorrect_answers_rate": (Rate, _ORDERED),
    "golden_set_answers_count": (Amount, _ORDERED),
    "golden_set_correct_answers_rate": (Rate, _ORDERED),
    "golden_set_incorrect_answers_rate": (Rate, _ORDERED),
    "total_submitted_count": (Amount, _ORDERED),
    "stored_results_count": (Amount, _ORDERED),
    "success_rate": (Rate, _ORDERED),
    "fail_rate": (Rate, _ORDERED),
    "fast_submitted_count": (Amount, _ORDERED),
    "skipped_in_row_count": (Amount, _ORDERED),
    "assignments_accepted_count": (Amount, _ORDERED),
    "pending_assignments_count": (Amount, _ORDERED),
    "accepted_assignments_count": (Amount, _ORDERED),
    "rejected_assignments_count": (Amount, _ORDERED),
    "assessment_event": (Literal["ACCEPT", "REJECT"], ("EQ", "NE")),
    "pool_access_revoked_reason": (Literal["RESTRICTION"], ("EQ", "NE")),
}
# collector type -> (parameters model, the figures its conditions may name)
COLLECTORS: dict[str, tuple[type[BaseModel], frozenset[str]]] = {
    "GOLDEN_SET": (GoldenSetParameters, frozenset({
        "total_answers_count", "correct_answers_rate", "incorrect_answers_rate",
        "golden_set_answers_count", "golden_set_correct_answers_rate",
        "golden_set_incorrect_answers_rate"})),
    "MAJORITY_VOTE": (MajorityVoteParameters, frozenset({
        "total_answers_count", "correct_answers_rate", "incorrect_answers_rate"})),
    "ASSIGNMENT_SUBMIT_TIME": (SubmitTimeParameters, frozenset({
        "total_submitted_count", "fast_submitted_count"})),
    "SKIPPED_IN_ROW_ASSIGNMENTS": (NoParameters, frozenset({"skipped_in_row_count"})),
    "ANSWER_COUNT": (NoParameters, frozenset({"assignments_accepted_count"})),
    "ASSIGNMENTS_ASSESSMENT": (NoParameters, frozenset({
        "pending_assignments_count", "accepted_assignments_count",
        "rejected_assignments_count", "assessment_event"})),
    "USERS_ASSESSMENT": (NoParameters, frozenset({"pool_access_revoked_reason"})),
    "CAPTCHA": (GoldenSetParameters, frozenset({
        "stored_results_count", "success_rate", "fail_rate"})),
}


class Condition(Strict):
    key: str
    operator: Literal["EQ", "NE", "GT", "GTE", "LT", "LTE"]
    value: Any


Scope = Literal["POOL", "PROJECT", "ALL_PROJECTS"]


class RestrictionParameters(Strict):
    scope: Scope = "POOL"
    duration_days: Annotated[int, Field(ge=1, le=MAX_DAYS)] | None = None
    private_comment: Text | None = None


class RestrictionV2Parameters(Strict):
    scope: Scope = "POOL"
    duration: Annotated[int, Field(ge=1, le=MAX_DURATION_SECONDS)] | None = None
    duration_unit: Literal["MINUTES", "HOURS", "DAYS", "PERMANENT"] = "PERMANENT"
    private_comment: Text | None = None


class SetSkillParameters(Strict):
    skill_id: Id
    skill_value: Annotated[Number, Field(ge=0, le=100)]


class SkillFromFieldParameters(Strict):
    skill_id: Id
    from_field: str


class RejectAllParameters(Strict):
    public_comment: Text | None = None


class ChangeOverlapParameters(Strict):
    delta: Annotated[int, Field(ge=1, le=MAX_OVERLAP)] = 1
    open_pool: bool = False


ACTIONS: dict[str, type[BaseModel]] = {
    "RESTRICTION": RestrictionParameters,
    "RESTRICTION_V2": RestrictionV2Parameters,
    "SET_SKILL": SetSkillParameters,
    "SET_SKILL_FROM_OUTPUT_FIELD": SkillFromFieldParameters,
    "REJECT_ALL_ASSIGNMENTS": RejectAllParameters,
    "APPROVE_ALL_ASSIGNMENTS": NoParameters,
    "CHANGE_OVERLAP": ChangeOverlapParameters,
}
_UNIT_SECONDS = {"MINUTES": 60, "HOURS": 3600, "DAYS": 86400}


# -- checking -------------------------------------------------------------------------------

# A literal error on these names means "a kind crowdline does not implement".
_KIND_FIELDS = {"type", "assignments_issuing_type", "interface", "scope", "category"}


_TYPE_TAGS = {"str", "int", "float", "bool", "list", "dict", "none", "is-instance"}


def _is_tag(part: Any) -> bool:
    """Union members pydantic adds to an error's location ('int', 'constrained-str'...)."""
    return isinstance(part, str) and (part in _TYPE_TAGS or "[" in part
                                      or part.startswith("constrained-"))


def _path(where: str, loc: tuple[Any, ...]) -> str:
    text = where
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _value_of(data: Any, loc: tuple[Any, ...]) -> Any:
    node = data
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _raise(exc: ValidationError, data: Any, where: str) -> None:
    problems: dict[str, str] = {}
    unsupported = False
    for error in exc.errors(include_url=False):
        loc = tuple(p for p in error["loc"] if not _is_tag(p))
        path = _path(where, loc)
        if error["type"] == "extra_forbidden":
            unsupported = True
            problems[path] = f"field {path!r} is not supported by crowdline"
            continue
        if error["type"] == "literal_error" and loc and loc[-1] in _KIND_FIELDS:
            unsupported = True
        if error["type"] == "missing":
            problems[path] = f"{path} is required"
            continue
        value = _value_of(data, loc)
        if path in problems:
            problems[path] += f" or {error['msg'][0].lower()}{error['msg'][1:]}"
        else:
            problems[path] = f"{path} {_short(value)} is not valid: {error['msg']}"
    first = sorted(problems, key=lambda p: "not supported" not in problems[p])
    message = "; ".join(problems[p] for p in first[:3])
    if len(problems) > 3:
        message += f" (and {len(problems) - 3} more)"
    if unsupported:
        raise Unsupported(message, hint="remove the field or use a supported value; crowdline "
                                        "would otherwise ignore it", payload=problems) from exc
    raise InvalidInput(message, hint="fix the named field; the message says what is allowed",
                       payload=problems) from exc


def check(model: type[M], data: Any, where: str = "") -> M:
    """``model`` validated from ``data``; InvalidInput / Unsupported naming each bad field."""
    if not isinstance(data, Mapping):
        raise InvalidInput(f"{where or 'the config'} must be a JSON object, not "
                           f"{type(data).__name__}")
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        _raise(exc, data, where)
        raise AssertionError("unreachable") from exc


def check_value(kind: Any, data: Any, where: str) -> Any:
    try:
        return TypeAdapter(kind).validate_python(data, strict=True)
    except ValidationError as exc:
        _raise(exc, data, where)
        raise AssertionError("unreachable") from exc


def check_project(config: Any) -> ProjectConfig:
    """Types and ranges of a project config (whether its output field has labels, from
    ``allowed_values`` or the view, is ``projects.check_labels``)."""
    project = check(ProjectConfig, config)
    if not project.public_name.strip():
        raise InvalidInput("project public_name is missing",
                           hint="give the name annotators see, e.g. 'Is this clickbait?'")
    return project


def check_filter(node: Any, where: str = "filter") -> None:
    """Skill, profile and computed filters, combined with ``and`` / ``or``; any other
    category or key is Unsupported, naming it."""
    if node is None:
        return
    if not isinstance(node, Mapping):
        raise InvalidInput(f"{where} must be an object")
    for combinator in ("and", "or"):
        if combinator in node:
            if set(node) != {combinator} or not isinstance(node[combinator], list):
                raise InvalidInput(f"{where}.{combinator} must be the only key, with a list",
                                   hint='e.g. {"and": [{"category": "skill", ...}]}')
            for i, child in enumerate(node[combinator]):
                check_filter(child, f"{where}.{combinator}[{i}]")
            return
    category = node.get("category")
    models: dict[Any, type[BaseModel]] = {"skill": SkillFilter, "profile": ProfileFilter,
                                          "computed": ComputedFilter}
    if category not in models:
        raise Unsupported(f"{where}: filter category {category!r} (key {node.get('key')!r}) "
                          "is not supported", hint="use skill, profile or computed filters; "
                          "remove it or pass ignore=['filter']")
    model = models[category]
    keys = model.model_fields["key"].annotation
    if category != "skill" and node.get("key") not in getattr(keys, "__args__", ()):
        raise Unsupported(f"{where}: {category} filter key {node.get('key')!r} is not "
                          "supported", hint=f"{category} keys: {', '.join(keys.__args__)}")
    check(model, node, where)


def check_quality_control(qc: Any, where: str = "quality_control") -> dict[str, Any]:
    """A pool's ``quality_control`` block, every collector, condition and action typed."""
    if qc is None:
        return {"configs": []}
    shape = check(QualityControlShape, qc, where)
    for i, config in enumerate(shape.configs):
        at = f"{where}.configs[{i}]"
        qc_config = check(QcConfigShape, config, at)
        collector = check(CollectorShape, qc_config.collector_config, f"{at}.collector_config")
        if collector.type not in COLLECTORS:
            raise Unsupported(f"{at}.collector_config.type {collector.type!r} is not supported",
                              hint=f"supported: {', '.join(COLLECTORS)}")
        params_model, keys = COLLECTORS[collector.type]
        check(params_model, collector.parameters or {}, f"{at}.collector_config.parameters")
        for j, rule in enumerate(qc_config.rules):
            _check_rule(rule, keys, f"{at}.rules[{j}]")
    return dict(qc)


def _check_rule(rule: Any, keys: frozenset[str], where: str) -> None:
    shape = check(RuleShape, rule, where)
    for k, raw in enumerate(shape.conditions):
        at = f"{where}.conditions[{k}]"
        if isinstance(raw, Mapping) and raw.get("key") not in keys:
            raise Unsupported(f"{at}.key {raw.get('key')!r} is not known to this collector",
                              hint=f"keys: {', '.join(sorted(keys))}")
        condition = check(Condition, raw, at)
        kind, operators = FIGURES[condition.key]
        if condition.operator not in operators:
            raise InvalidInput(f"{at}.operator {condition.operator!r} cannot compare "
                               f"{condition.key}", hint=f"use {' or '.join(operators)}")
        check_value(kind, condition.value, f"{at}.value")
    action = shape.action
    kind = action.get("type")
    if kind not in ACTIONS:
        raise Unsupported(f"{where}.action.type {kind!r} is not supported",
                          hint=f"supported: {', '.join(ACTIONS)}")
    extra = set(action) - {"type", "parameters"}
    if extra:
        raise Unsupported(f"field '{where}.action.{sorted(extra)[0]}' is not supported by "
                          "crowdline", hint="an action has a type and parameters")
    at = f"{where}.action.parameters"
    params = check(ACTIONS[kind], action.get("parameters") or {}, at)
    if isinstance(params, RestrictionV2Parameters) and params.duration_unit != "PERMANENT":
        if params.duration is None:
            raise InvalidInput(f"{at}.duration is required with duration_unit "
                               f"{params.duration_unit}", hint="give a positive integer "
                                                               "or duration_unit PERMANENT")
        if params.duration * _UNIT_SECONDS[params.duration_unit] > MAX_DAYS * 86_400:
            raise InvalidInput(f"{at}.duration {params.duration} {params.duration_unit} is "
                               "longer than 100 years", hint="use duration_unit PERMANENT")
    if isinstance(params, SkillFromFieldParameters) and params.from_field not in keys:
        raise InvalidInput(f"{at}.from_field {params.from_field!r} is not a figure of this "
                           f"collector ({', '.join(sorted(keys))})",
                           hint="name one of the collector's figures")


def check_will_expire(value: Any, where: str = "will_expire") -> dt.datetime | None:
    if value is None:
        return None
    try:
        when = dt.datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise InvalidInput(f"{where} {value!r} is not an ISO date-time",
                           hint="e.g. 2030-01-01T00:00:00 (UTC)") from exc
    return when
