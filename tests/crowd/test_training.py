"""Training pools: hints after a wrong training answer, and a pass level that gates the pool."""

from __future__ import annotations

from typing import Any

import pytest
from crowd_helpers import LABELS, answer, pool_config, project_config, real_tasks

from crowdline.crowd import Crowd
from crowdline.crowd.simulate import SimulatedClock
from crowdline.errors import InvalidInput, PoolNotFound


def _training_pool(crowd: Crowd, project_id: str) -> str:
    training = crowd.create_pool({
        "project_id": project_id, "private_name": "training",
        "training_tasks_in_task_suite_count": 2, "assignment_max_duration_seconds": 300,
        "public_instructions": "Learn from the hints.",
    })
    crowd.create_tasks([
        {"pool_id": training.id, "input_values": {"headline": f"train {i}"},
         "known_solutions": [{"output_values": {"category": LABELS[i % 2]}}],
         "message_on_unknown_solution": f"hint {i}: it is {LABELS[i % 2]}"}
        for i in range(4)], open_pool=True)
    return training.id


def _do_training(crowd: Crowd, worker_id: str, pool_id: str, *, right: bool) -> list[dict]:
    feedback = []
    while (suite := crowd.request_assignment(worker_id, pool_id)) is not None:
        assert suite.is_training
        labels = []
        for task in suite.tasks:
            truth = LABELS[int(task["input_values"]["headline"].split()[1]) % 2]
            labels.append(truth if right else LABELS[1 - LABELS.index(truth)])
        result = crowd.submit_assignment(worker_id, suite.id, [answer(x) for x in labels])
        feedback += result.training_feedback
    return feedback


def test_training_gives_hints_and_gates_the_main_pool(crowd: Crowd) -> None:
    project = crowd.create_project(project_config())
    training_id = _training_pool(crowd, project.id)
    assert crowd.get_pool(training_id).type == "TRAINING"
    main = crowd.create_pool(pool_config(project.id, quality_control={
        "configs": [], "training_requirement": {"training_pool_id": training_id,
                                                "training_passing_skill_value": 75}}))
    crowd.create_tasks(real_tasks(main.id, 6), open_pool=True)
    learner, _ = crowd.invite_worker("learner")
    failer, _ = crowd.invite_worker("failer")
    # before training: the main pool says no; the training pool is offered instead
    assert crowd.request_assignment(learner.id, main.id) is None
    assert crowd.request_assignment(learner.id).pool_id == training_id

    good = _do_training(crowd, learner.id, training_id, right=True)
    assert [f["correct"] for f in good] == [True] * 4
    assert all(f["hint"] is None for f in good)
    bad = _do_training(crowd, failer.id, training_id, right=False)
    assert [f["correct"] for f in bad] == [False] * 4
    assert {f["hint"] for f in bad} == {f"hint {i}: it is {LABELS[i % 2]}" for i in range(4)}

    suite = crowd.request_assignment(learner.id)
    assert suite.pool_id == main.id
    assert not suite.is_training
    assert crowd.request_assignment(failer.id) is None  # failed, and no training left
    # training answers are not the pool's answers, and the training suites cost nothing
    assert crowd.answers_frame(main.id).empty
    assert {a.reward for a in crowd.list_assignments(pool_id=training_id)} == {0.0}


def test_a_finished_training_is_not_offered_again(crowd: Crowd) -> None:
    project = crowd.create_project(project_config())
    training = crowd.create_pool({
        "project_id": project.id, "training_tasks_in_task_suite_count": 2,
        "task_suites_required_to_pass": 1, "priority": 50})
    crowd.create_tasks([
        {"pool_id": training.id, "input_values": {"headline": f"train {i}"},
         "known_solutions": [{"output_values": {"category": LABELS[0]}}]}
        for i in range(6)], open_pool=True)
    main = crowd.create_pool(pool_config(project.id, quality_control={
        "training_requirement": {"training_pool_id": training.id,
                                 "training_passing_skill_value": 50}}))
    crowd.create_tasks(real_tasks(main.id, 4), open_pool=True)
    worker, _ = crowd.invite_worker("quick")
    suite = crowd.request_assignment(worker.id)
    assert suite.pool_id == training.id
    crowd.submit_assignment(worker.id, suite.id, [answer(LABELS[0])] * 2)
    # one suite was required; the training pool ranks first but is done for this worker
    assert crowd.request_assignment(worker.id).pool_id == main.id


def test_a_training_requirement_must_name_a_training_pool(crowd: Crowd) -> None:
    project = crowd.create_project(project_config())
    regular = crowd.create_pool(pool_config(project.id))
    with pytest.raises(InvalidInput, match="not a training pool"):
        crowd.create_pool(pool_config(project.id, quality_control={
            "training_requirement": {"training_pool_id": regular.id}}))
    with pytest.raises(PoolNotFound):
        crowd.create_pool(pool_config(project.id, quality_control={
            "training_requirement": {"training_pool_id": "x"}}))


def test_retry_training_after_days_lets_a_failed_worker_try_again(engine: Any) -> None:
    clock = SimulatedClock()
    crowd = Crowd(engine=engine, clock=clock)
    project = crowd.create_project(project_config())
    training = crowd.create_pool({
        "project_id": project.id, "training_tasks_in_task_suite_count": 2,
        "retry_training_after_days": 3})
    crowd.create_tasks([
        {"pool_id": training.id, "input_values": {"headline": f"train {i}"},
         "known_solutions": [{"output_values": {"category": LABELS[i % 2]}}]}
        for i in range(4)], open_pool=True)
    main = crowd.create_pool(pool_config(project.id, quality_control={
        "training_requirement": {"training_pool_id": training.id,
                                 "training_passing_skill_value": 75}}))
    crowd.create_tasks(real_tasks(main.id, 4), open_pool=True)
    failer, _ = crowd.invite_worker("failer")
    passer, _ = crowd.invite_worker("passer")
    assert len(_do_training(crowd, failer.id, training.id, right=False)) == 4
    assert len(_do_training(crowd, passer.id, training.id, right=True)) == 4
    clock.advance(2 * 86_400)  # not yet: 2 of 3 days
    assert crowd.request_assignment(failer.id) is None
    clock.advance(86_400 + 1)
    assert crowd.request_assignment(passer.id).pool_id == main.id  # passed: no retry
    retry = _do_training(crowd, failer.id, training.id, right=True)
    assert [f["correct"] for f in retry] == [True] * 4  # every training task again
    assert crowd.request_assignment(failer.id, main.id) is not None  # the new score counts
    solutions = [a.solutions for a in crowd.list_assignments(
        pool_id=training.id, worker_id=failer.id)]
    assert len(solutions) == 4  # the first attempt's answers are kept in its assignments
