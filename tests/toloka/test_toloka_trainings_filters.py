"""Through the real toloka-kit client: trainings, profile filters, analytics, and the error body
of a route crowdline lacks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from toloka_crowd_sim import take_suites

from crowdline.crowd.toloka_backend import import_toloka

toloka = import_toloka()
from toloka.client import analytics_request as ar  # noqa: E402
from toloka.client import exceptions as toloka_errors  # noqa: E402
from toloka.client import filter as tf  # noqa: E402

VIEW = {"view": {"type": "view.list", "items": [
    {"type": "view.text", "content": {"type": "data.input", "path": "headline"}},
    {"type": "field.button-radio-group", "data": {"type": "data.output", "path": "category"},
     "options": [{"value": "clickbait", "label": "Clickbait"},
                 {"value": "notclickbait", "label": "Not clickbait"}]}]}}
TRUTH = {f"headline {i}": ("clickbait" if i % 2 else "notclickbait") for i in range(6)}


def project_json() -> str:
    """A project as Toloka exports it: the labels only in the view."""
    return json.dumps({
        "public_name": "Clickbait?", "public_description": "Say whether it is clickbait.",
        "assignments_issuing_type": "AUTOMATED",
        "task_spec": {"input_spec": {"headline": {"type": "string", "required": True}},
                      "output_spec": {"category": {"type": "string", "required": True}},
                      "view_spec": {"type": "tb", "config": json.dumps(VIEW),
                                    "lock": {"core": "1.0.0"}}}})


def work(server: Any, token: str, pool_id: str, answer: Any) -> int:
    """Label suites of one pool over the annotator API until none is left; suites done."""
    return len(take_suites(server.url, token, pool_id, lambda suite: {"solutions": [
        {"output_values": {"category": answer(t["input_values"]["headline"])}}
        for t in suite["tasks"]]}))


def test_training_gate_profile_filter_and_analytics(toloka_server: Any) -> None:
    client = toloka_server.client()
    crowd = toloka_server.workspace.crowd
    project = client.create_project(toloka.Project.from_json(project_json()))
    assert crowd.get_project(project.id).allowed_values == ["clickbait", "notclickbait"]

    training = client.create_training(toloka.Training(
        project_id=project.id, private_name="warm-up", assignment_max_duration_seconds=600,
        training_tasks_in_task_suite_count=2, task_suites_required_to_pass=2,
        retry_training_after_days=3, inherited_instructions=True,
        may_contain_adult_content=False))
    assert training.id
    assert training.status.value == "CLOSED"
    assert client.get_training(training.id).retry_training_after_days == 3
    assert [t.id for t in client.get_trainings(project_id=project.id)] == [training.id]
    client.create_tasks([toloka.Task(pool_id=training.id, input_values={"headline": h},
                                     known_solutions=[toloka.task.BaseTask.KnownSolution(
                                         output_values={"category": label})],
                                     message_on_unknown_solution=f"it is {label}")
                         for h, label in TRUTH.items()], allow_defaults=True)
    training.private_name = "warm-up v2"
    assert client.update_training(training.id, training).private_name == "warm-up v2"
    assert client.open_training(training.id).status.value == "OPEN"

    pool = toloka.Pool(
        project_id=project.id, private_name="batch", may_contain_adult_content=False,
        reward_per_assignment=0.01, assignment_max_duration_seconds=600,
        defaults=toloka.Pool.Defaults(default_overlap_for_new_task_suites=2,
                                      default_overlap_for_new_tasks=2),
        filter=(tf.Languages.in_("EN")
                & ((tf.ClientType == "TOLOKA_APP") | (tf.ClientType == "BROWSER"))))
    pool.set_mixer_config(real_tasks_count=2, golden_tasks_count=0, training_tasks_count=0)
    pool.quality_control.training_requirement = toloka.pool.QualityControl.TrainingRequirement(
        training_pool_id=training.id, training_passing_skill_value=75)
    pool = client.create_pool(pool)
    assert client.get_pool(pool.id).filter is not None
    assert [p.id for p in client.get_pools(project_id=project.id)] == [pool.id]
    client.create_tasks([toloka.Task(pool_id=pool.id, input_values={"headline": h})
                         for h in TRUTH], allow_defaults=True, open_pool=True)

    crowd_ids = {}
    for name, languages in (("ann", ["EN", "DE"]), ("bob", ["EN"]), ("dieter", ["DE"]),
                            ("flunk", ["EN"])):
        worker, token = crowd.invite_worker(name, profile={"languages": languages})
        crowd_ids[name] = (worker.id, token)
    assert crowd.get_worker(crowd_ids["ann"][0]).profile == {"languages": ["DE", "EN"]}

    # Before training nobody gets the pool.
    assert work(toloka_server, crowd_ids["ann"][1], pool.id, TRUTH.get) == 0
    for name in ("ann", "bob", "dieter"):
        assert work(toloka_server, crowd_ids[name][1], training.id, TRUTH.get) == 2
    wrong = {"clickbait": "notclickbait", "notclickbait": "clickbait"}
    assert work(toloka_server, crowd_ids["flunk"][1], training.id,
                lambda headline: wrong[TRUTH[headline]]) == 2  # all wrong: below 75 %
    assert work(toloka_server, crowd_ids["ann"][1], training.id, TRUTH.get) == 0  # done
    # every task of the training answered, read back as a pool: it stays open for newcomers
    assert client.get_pool(training.id).status.value == "OPEN"
    assert client.get_training(training.id).status.value == "OPEN"

    # German-only dieter is filtered out, flunk failed training; ann and bob share the pool.
    assert work(toloka_server, crowd_ids["dieter"][1], pool.id, TRUTH.get) == 0
    assert work(toloka_server, crowd_ids["flunk"][1], pool.id, TRUTH.get) == 0
    active = client.wait_operation(client.get_analytics([
        ar.ActiveWorkersByFilterCountPoolAnalytics(subject_id=pool.id, interval_hours=1)]))
    assert active.details["value"][0]["result"]["value"] == 2  # ann and bob
    half = client.wait_operation(client.get_analytics([
        ar.CompletionPercentagePoolAnalytics(subject_id=pool.id)]))
    assert half.details["value"][0]["result"]["value"] == 0
    assert work(toloka_server, crowd_ids["ann"][1], pool.id, TRUTH.get) == 3
    assert work(toloka_server, crowd_ids["bob"][1], pool.id, TRUTH.get) == 3

    op = client.wait_operation(client.get_analytics([
        ar.CompletionPercentagePoolAnalytics(subject_id=pool.id),
        ar.RealTasksCountPoolAnalytics(subject_id=pool.id),
        ar.SubmittedAssignmentsCountPoolAnalytics(subject_id=pool.id),
        ar.ApprovedAssignmentsCountPoolAnalytics(subject_id=pool.id),
        ar.RejectedAssignmentsCountPoolAnalytics(subject_id=pool.id),
        ar.UniqueSubmittersCountPoolAnalytics(subject_id=pool.id),
        ar.EstimatedAssignmentsCountPoolAnalytics(subject_id=pool.id),
    ]))
    values = [item["result"]["value"] for item in op.details["value"]]
    assert values == [100, 6, 6, 6, 0, 2, 6]
    assert client.get_pool(pool.id).is_closed()  # complete: closed by itself

    clone = client.clone_training(training.id)
    assert clone.id != training.id
    assert clone.project_id == project.id
    assert client.close_training(training.id).status.value == "CLOSED"
    assert client.archive_training(training.id).status.value == "ARCHIVED"
    with pytest.raises(toloka_errors.DoesNotExistApiError):
        client.get_training(pool.id)  # a regular pool is not a training


def test_unsupported_profile_key_and_unknown_route(toloka_server: Any, tmp_path: Path) -> None:
    client = toloka_server.client()
    project = client.create_project(toloka.Project.from_json(project_json()))
    pool = toloka.Pool(project_id=project.id, private_name="p", reward_per_assignment=0.01,
                       may_contain_adult_content=False, assignment_max_duration_seconds=60,
                       defaults=toloka.Pool.Defaults(default_overlap_for_new_tasks=1),
                       filter=tf.FilterCondition.structure(
                           {"category": "profile", "key": "shoe_size", "operator": "EQ",
                            "value": 42}))
    with pytest.raises(toloka_errors.ValidationApiError, match="shoe_size"):
        client.create_pool(pool)
    assert list(client.get_pools(project_id=project.id)) == []
    headers = {"Authorization": f"OAuth {toloka_server.token}"}
    for method, path in (("GET", "/api/v1/app/projects"), ("POST", "/api/nowhere/x"),
                         ("DELETE", "/api/v1/projects/1")):
        got = httpx.request(method, toloka_server.url + path, headers=headers, timeout=30)
        assert got.status_code == 404
        body = got.json()
        assert body["code"] == "DOES_NOT_EXIST"
        assert f"{method} {path}" in body["message"]
