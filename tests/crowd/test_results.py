"""Pool statistics, completion (the pipelines' wake condition), answers frame and export."""

from __future__ import annotations

import io

import pandas as pd
from crowd_helpers import LABELS, answer, golden_tasks, pool_config, project_config, real_tasks

from crowdline.crowd import Crowd
from crowdline.crowd.conditions import pool_complete
from crowdline.workspace import Workspace


def test_stats_completion_and_answers_frame(crowd: Crowd) -> None:
    project = crowd.create_project(project_config())
    pool = crowd.create_pool(pool_config(project.id, mixer_config={
        "real_tasks_count": 2, "golden_tasks_count": 1}, defaults={
        "default_overlap_for_new_tasks": 2}))
    crowd.create_tasks(real_tasks(pool.id, 2) + golden_tasks(pool.id, 2), open_pool=True)
    assert not crowd.is_pool_complete(pool.id)
    workers = [crowd.invite_worker(n)[0] for n in ("a", "b")]
    for worker in workers:
        suite = crowd.request_assignment(worker.id, pool.id)
        assert not crowd.is_pool_complete(pool.id)  # a suite is still ACTIVE
        crowd.submit_assignment(worker.id, suite.id, [answer(LABELS[0])] * 3)
    assert crowd.is_pool_complete(pool.id)
    stats = crowd.pool_stats(pool.id)
    assert stats["tasks"] == 2
    assert stats["control_tasks"] == 2
    assert stats["assignments"] == {"ACCEPTED": 2}
    assert stats["answers_per_worker"] == {workers[0].id: 2, workers[1].id: 2}
    assert stats["label_distribution"] == {LABELS[0]: 4}
    assert stats["completion"] == {"tasks_complete": 2, "tasks_total": 2, "ratio": 1.0}
    assert stats["workers"] == {workers[0].id: "a", workers[1].id: "b"}
    for accuracy in stats["golden_accuracy"].values():
        assert accuracy["answers"] == 1
    frame = crowd.answers_frame(pool.id)
    assert len(frame) == 4
    assert set(frame["label"]) == {LABELS[0]}
    with_golden = crowd.answers_frame(pool.id, include_golden=True)
    golden_rows = with_golden[with_golden["is_golden"]]
    assert len(golden_rows) == 2
    assert set(golden_rows["golden_label"]) <= set(LABELS)
    assert with_golden[~with_golden["is_golden"]]["golden_label"].isna().all()


def test_an_empty_pool_is_complete_and_json_shapes_are_tolokas(crowd: Crowd) -> None:
    project = crowd.create_project(project_config())
    pool = crowd.create_pool(pool_config(project.id))
    assert crowd.is_pool_complete(pool.id)
    assert set(project.to_dict()) >= {"id", "public_name", "public_description",
                                      "public_instructions", "task_spec", "status", "created"}
    assert set(pool.to_dict()) >= {
        "id", "project_id", "private_name", "status", "type", "reward_per_assignment",
        "assignment_max_duration_seconds", "defaults", "mixer_config", "quality_control",
        "auto_accept_solutions", "priority", "created"}
    clone = crowd.clone_pool(pool.id)
    assert clone.id != pool.id
    assert clone.mixer_config == pool.mixer_config


def test_pool_complete_condition_and_export_through_the_workspace(workspace: Workspace) -> None:
    crowd = workspace.crowd
    project = crowd.create_project(project_config())
    pool = crowd.create_pool(pool_config(project.id, defaults={
        "default_overlap_for_new_tasks": 1}))
    crowd.create_tasks(real_tasks(pool.id, 2), open_pool=True)
    assert pool_complete(workspace, {"pool_id": pool.id}) is False
    worker, _ = crowd.invite_worker("a")
    suite = crowd.request_assignment(worker.id)
    crowd.submit_assignment(worker.id, suite.id, [answer(LABELS[1])] * 2)
    assert pool_complete(workspace, {"pool_id": pool.id}) is True
    info = crowd.export_pool(pool.id, "labels")
    data = workspace.store.get_file("labels", info.id, f"/pool-{pool.id}/answers.csv")
    exported = pd.read_csv(io.BytesIO(data))
    assert list(exported["label"]) == [LABELS[1]] * 2
    assert set(exported["worker"].astype(str)) == {worker.id}
