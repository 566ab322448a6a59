"""The config validation layer (crowd/configs.py): what could fail at submit time is refused
at create time, with the field path and what is allowed; nothing is created."""

from __future__ import annotations

from typing import Any

import pytest
from crowd_helpers import LABELS, answer, golden_tasks, pool_config, project_config, real_tasks

from crowdline.crowd import Crowd
from crowdline.errors import InvalidInput, Unsupported

BAN = {"type": "RESTRICTION_V2", "parameters": {"scope": "POOL", "duration_unit": "PERMANENT"}}


def _qc(collector: str, parameters: dict[str, Any], conditions: list[dict[str, Any]],
        action: dict[str, Any] = BAN) -> dict[str, Any]:
    return {"configs": [{"collector_config": {"type": collector, "parameters": parameters},
                         "rules": [{"conditions": conditions, "action": action}]}]}


GOLDEN_LOW = [{"key": "golden_set_correct_answers_rate", "operator": "LT", "value": 50}]


@pytest.mark.parametrize(("qc", "path", "allowed"), [
    (_qc("GOLDEN_SET", {"history_size": "abc"}, GOLDEN_LOW),
     "configs[0].collector_config.parameters.history_size", "integer"),
    (_qc("GOLDEN_SET", {"history_size": -1}, GOLDEN_LOW),
     "configs[0].collector_config.parameters.history_size", "greater than or equal to 1"),
    (_qc("MAJORITY_VOTE", {"answer_threshold": 2.5}, []),
     "collector_config.parameters.answer_threshold", "integer"),
    (_qc("ASSIGNMENT_SUBMIT_TIME", {"fast_submit_threshold_seconds": "7"}, []),
     "fast_submit_threshold_seconds", "number"),
    (_qc("GOLDEN_SET", {}, [{"key": "golden_set_correct_answers_rate", "operator": "LT",
                             "value": "abc"}]),
     "rules[0].conditions[0].value", "number"),
    (_qc("GOLDEN_SET", {}, [{"key": "golden_set_correct_answers_rate", "operator": "LT",
                             "value": 150}]),
     "rules[0].conditions[0].value", "less than or equal to 100"),
    (_qc("ASSIGNMENTS_ASSESSMENT", {}, [{"key": "assessment_event", "operator": "EQ",
                                         "value": "accept"}]),
     "conditions[0].value", "'ACCEPT' or 'REJECT'"),
    (_qc("ASSIGNMENTS_ASSESSMENT", {}, [{"key": "assessment_event", "operator": "GT",
                                         "value": "ACCEPT"}]),
     "conditions[0].operator", "EQ or NE"),
    (_qc("GOLDEN_SET", {}, GOLDEN_LOW, {"type": "RESTRICTION", "parameters": {
        "duration_days": 10**12}}), "action.parameters.duration_days", "36500"),
    (_qc("GOLDEN_SET", {}, GOLDEN_LOW, {"type": "RESTRICTION_V2", "parameters": {
        "duration_unit": "DAYS"}}), "action.parameters.duration", "required"),
    (_qc("GOLDEN_SET", {}, GOLDEN_LOW, {"type": "SET_SKILL", "parameters": {
        "skill_id": "1", "skill_value": "high"}}), "action.parameters.skill_value", "number"),
    (_qc("GOLDEN_SET", {}, GOLDEN_LOW, {"type": "CHANGE_OVERLAP", "parameters": {
        "delta": "1"}}), "action.parameters.delta", "integer"),
])
def test_bad_quality_control_is_refused_at_create_time_naming_the_field(
        crowd: Crowd, qc: dict[str, Any], path: str, allowed: str) -> None:
    project = crowd.create_project(project_config())
    with pytest.raises(InvalidInput) as error:
        crowd.create_pool(pool_config(project.id, quality_control=qc))
    assert f"quality_control.{path}" in error.value.message or path in error.value.message
    assert allowed in str(error.value)  # the message or its hint says what is allowed
    assert crowd.list_pools() == []


@pytest.mark.parametrize(("field", "value", "allowed"), [
    ("mixer_config", {"real_tasks_count": "2"}, "mixer_config.real_tasks_count"),
    ("mixer_config", {"real_tasks_count": 10**9}, "less than or equal to 1000"),
    ("defaults", {"default_overlap_for_new_tasks": 0}, "greater than or equal to 1"),
    ("assignment_max_duration_seconds", 10**15, "assignment_max_duration_seconds"),
    ("assignment_max_duration_seconds", "600", "valid integer"),
    ("reward_per_assignment", "0.05", "valid number"),
    ("priority", True, "valid integer"),
    ("auto_accept_solutions", "yes", "valid boolean"),
    ("dynamic_overlap_config", {"type": "BASIC", "max_overlap": 5, "min_confidence": 2},
     "min_confidence"),
    ("filter", {"category": "skill", "key": "1", "operator": "GTE", "value": "80"},
     "filter.value"),
    ("filter", {"and": [{"category": "skill", "key": "1", "operator": "ABOUT", "value": 1}]},
     "filter.and[0].operator"),
])
def test_bad_pool_fields_are_refused_naming_the_path_and_what_is_allowed(
        crowd: Crowd, field: str, value: Any, allowed: str) -> None:
    project = crowd.create_project(project_config())
    with pytest.raises(InvalidInput, match=allowed.replace("[", r"\[").replace("]", r"\]")):
        crowd.create_pool(pool_config(project.id, **{field: value}))
    assert crowd.list_pools() == []


def test_errors_list_every_bad_field_in_the_payload(crowd: Crowd) -> None:
    project = crowd.create_project(project_config())
    with pytest.raises(Unsupported) as error:
        crowd.create_pool(pool_config(project.id, priority="high", reward_per_assignment=-1,
                                      speed_quality_balance={}))
    assert error.value.message.startswith("field 'speed_quality_balance' is not supported")
    assert set(error.value.payload) == {"priority", "reward_per_assignment",
                                        "speed_quality_balance"}


def test_project_fields_are_typed(crowd: Crowd) -> None:
    with pytest.raises(InvalidInput, match="public_name"):
        crowd.create_project(project_config(public_name=5))
    with pytest.raises(InvalidInput, match=r"task_spec.output_spec.category.allowed_values"):
        crowd.create_project(project_config(task_spec={
            "input_spec": {"headline": {"type": "string"}},
            "output_spec": {"category": {"type": "string", "allowed_values": "a,b"}}}))
    with pytest.raises(Unsupported, match=r"task_spec.view_spec.interface"):
        crowd.create_project(project_config(task_spec={
            "input_spec": {"headline": {"type": "string"}},
            "output_spec": {"category": {"type": "string", "allowed_values": ["a"]}},
            "view_spec": {"interface": "audio"}}))
    assert crowd.list_projects() == []


def test_an_update_is_validated_like_a_create_and_changes_nothing(crowd: Crowd) -> None:
    project = crowd.create_project(project_config())
    pool = crowd.create_pool(pool_config(project.id))
    with pytest.raises(InvalidInput, match="history_size"):
        crowd.update_pool(pool.id, pool_config(
            project.id, quality_control=_qc("GOLDEN_SET", {"history_size": -1}, GOLDEN_LOW)))
    assert crowd.get_pool(pool.id) == pool


def test_a_valid_golden_set_rule_still_bans_after_validation(crowd: Crowd) -> None:
    """The rule whose condition value was once accepted as "abc" and never fired: with a
    number it fires, and the worker is banned."""
    project = crowd.create_project(project_config())
    pool = crowd.create_pool(pool_config(
        project.id, mixer_config={"real_tasks_count": 1, "golden_tasks_count": 1},
        defaults={"default_overlap_for_new_tasks": 1},
        quality_control=_qc("GOLDEN_SET", {"history_size": 5}, [
            {"key": "golden_set_correct_answers_rate", "operator": "LT", "value": 50},
            {"key": "golden_set_answers_count", "operator": "GTE", "value": 1}])))
    crowd.create_tasks(real_tasks(pool.id, 4) + golden_tasks(pool.id, 4), open_pool=True)
    worker, _ = crowd.invite_worker("careless")
    suite = crowd.request_assignment(worker.id, pool.id)
    assert suite is not None
    wrong = []
    for task in suite.tasks:
        headline = task["input_values"]["headline"]
        index = int(headline.split()[1]) if headline.startswith("golden ") else 0
        wrong.append(answer(LABELS[(index + 1) % 2]))  # every control task answered wrongly
    crowd.submit_assignment(worker.id, suite.id, wrong)
    actions = crowd.list_qc_actions(pool_id=pool.id)
    assert [a.collector for a in actions] == ["GOLDEN_SET"]
    assert crowd.request_assignment(worker.id, pool.id) is None
