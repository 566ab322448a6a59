"""The Toloka crowd back-end, with a crowdline server standing in for Toloka."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from toloka_crowd_sim import LABELS, label_everything_in

from crowdline.crowd.toloka_backend import TolokaBackend, pool_complete
from crowdline.errors import BackendUnavailable, ConfigError, InvalidInput

PROJECT = {
    "public_name": "Clickbait (via Toloka)",
    "public_description": "Is this headline clickbait?",
    "public_instructions": "Clickbait teases instead of informing.",
    "task_spec": {
        "input_spec": {"headline": {"type": "string", "required": True}},
        "output_spec": {"category": {"type": "string", "required": True,
                                     "allowed_values": LABELS}},
        "view_spec": {"type": "tb", "config": "{\"view\": {\"type\": \"view.text\", "
                                              "\"content\": {\"type\": \"data.input\", "
                                              "\"path\": \"headline\"}}}",
                      "lock": {"core": "1.0.0", "view.text": "1.0.0"}},
    },
}
POOL = {
    "private_name": "clickbait batch 7",
    "may_contain_adult_content": False,
    "reward_per_assignment": 0.02,
    "assignment_max_duration_seconds": 300,
    "auto_accept_solutions": True,
    "defaults": {"default_overlap_for_new_task_suites": 3, "default_overlap_for_new_tasks": 3},
    "mixer_config": {"real_tasks_count": 3, "golden_tasks_count": 1, "training_tasks_count": 0},
    "quality_control": {"configs": [{
        "collector_config": {"type": "GOLDEN_SET", "parameters": {"history_size": 10}},
        "rules": [{
            "conditions": [{"key": "golden_set_answers_count", "operator": "GTE", "value": 2},
                           {"key": "golden_set_correct_answers_rate", "operator": "LT",
                            "value": 50}],
            "action": {"type": "RESTRICTION_V2",
                       "parameters": {"scope": "PROJECT", "duration_unit": "PERMANENT",
                                      "private_comment": "failed control tasks"}},
        }],
    }]},
}
REAL = {f"Headline {i}: {'you will not believe it' if i % 3 == 0 else 'rates unchanged'}":
        "clickbait" if i % 3 == 0 else "notclickbait" for i in range(9)}
GOLDEN = {f"Control {i}: minister resigns": "notclickbait" for i in range(6)}


@pytest.mark.slow
def test_backend_runs_the_labeling_step_against_a_toloka_compatible_server(
        toloka_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOLOKA_URL", toloka_server.url)
    monkeypatch.setenv("TOLOKA_TOKEN", toloka_server.token)
    backend = TolokaBackend.from_config()

    project_id = backend.ensure_project(PROJECT)
    assert backend.ensure_project(PROJECT) == project_id  # found by name on a rerun
    pool_id = backend.ensure_pool(project_id, POOL)
    assert backend.ensure_pool(project_id, POOL) == pool_id
    tasks = [{"input_values": {"headline": h}} for h in REAL]
    vote = [{"output_values": {"category": "clickbait"}, "confidence_weight": 0.8}]
    tasks[0]["baseline_solutions"] = vote  # a model's vote travels as Toloka's field
    honeypots = [{"input_values": {"headline": h},
                  "known_solutions": [{"output_values": {"category": label}}]}
                 for h, label in GOLDEN.items()]
    assert backend.upload_tasks(pool_id, tasks, honeypots) == len(REAL) + len(GOLDEN)
    assert backend.upload_tasks(pool_id, tasks, honeypots) == 0  # a retried datum adds none
    stored = {t.input_values["headline"]: t.baseline_solutions
              for t in toloka_server.workspace.crowd.list_tasks(pool_id)}
    assert stored[next(iter(REAL))] == vote
    assert sum(1 for b in stored.values() if b) == 1
    backend.open_pool(pool_id)
    backend.open_pool(pool_id)  # already open: no error

    # The waiting datum's wake condition: not yet...
    assert not pool_complete(toloka_server.workspace, {"pool_id": pool_id})
    ids = label_everything_in(toloka_server.workspace.crowd, {**REAL, **GOLDEN})
    # ... and now every real task has its three answers.
    assert pool_complete(toloka_server.workspace, {"pool_id": pool_id})

    bans = backend.bans(pool_id)
    assert list(bans["worker"]) == [ids["spammer"]]
    assert bans.loc[0, "scope"] == "PROJECT"
    assert bans.loc[0, "reason"] == "failed control tasks"

    answers = backend.answers_frame(pool_id)
    assert list(answers.columns[:5]) == ["task", "worker", "label", "assignment", "submitted"]
    assert answers["task"].nunique() == len(REAL)
    assert answers.groupby("task").size().min() >= 3
    assert set(answers["input:headline"]) == set(REAL)
    clean = backend.answers_frame(pool_id, include_banned=False, include_golden=True)
    assert ids["spammer"] not in set(clean["worker"])
    assert clean["is_golden"].any()
    assert set(clean.loc[clean["is_golden"], "golden_label"]) == {"notclickbait"}
    majority = clean[~clean["is_golden"]].groupby("input:headline")["label"] \
        .agg(lambda s: s.mode().iloc[0])
    assert (majority == majority.index.map(REAL)).mean() >= 0.85

    backend.close_pool(pool_id)
    assert toloka_server.workspace.crowd.get_pool(pool_id).status == "CLOSED"


def test_backend_config_and_errors(toloka_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOLOKA_URL", raising=False)
    monkeypatch.delenv("TOLOKA_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="TOLOKA_URL"):
        TolokaBackend.from_config()
    backend = TolokaBackend.from_config(params={"toloka_url": toloka_server.url,
                                                "toloka_token": toloka_server.token})
    with pytest.raises(InvalidInput, match="public_name"):
        backend.ensure_project({"public_description": "no name"})
    project_id = backend.ensure_project(PROJECT)
    bad_pool = copy.deepcopy(POOL)
    bad_pool["mixer_config"]["real_tasks_count"] = -1
    with pytest.raises(InvalidInput, match="Toloka refused create the pool"):
        backend.ensure_pool(project_id, bad_pool)
    wrong_token = TolokaBackend(toloka_server.url, "wrong-token")
    with pytest.raises(BackendUnavailable, match="AUTHENTICATION_ERROR"):
        wrong_token.ensure_project(PROJECT)
    with pytest.raises(InvalidInput, match="pool_id"):
        pool_complete(None, {})

    # The pipelines' secret store, as a wake condition (which runs outside the datum) reads it.
    workspace = toloka_server.workspace
    workspace.pipelines.create_secret("toloka", {"url": toloka_server.url,
                                                 "token": toloka_server.token})
    from_secret = TolokaBackend.from_config(workspace)
    assert from_secret.ensure_project(PROJECT) == project_id
    workspace.pipelines.create_secret("other-toloka", {"url": toloka_server.url,
                                                       "token": "wrong"})
    with pytest.raises(BackendUnavailable, match="AUTHENTICATION_ERROR"):
        TolokaBackend.from_config(workspace, {"toloka_secret": "other-toloka"}) \
            .ensure_project(PROJECT)
