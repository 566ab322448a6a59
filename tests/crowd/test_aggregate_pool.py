"""Crowd.aggregate_pool: one verb for the Toloka route, the flow and the exports, with one
skill-weighted posterior shared with dynamic overlap."""

from __future__ import annotations

import pytest
from test_interchange import label_studio_export

from crowdline.aggregate.dynamic_overlap import task_posterior
from crowdline.crowd.aggregation import skill_accuracy
from crowdline.errors import InvalidInput
from crowdline.workspace import Workspace


def test_skill_accuracy_is_clamped() -> None:
    assert skill_accuracy(None) == 0.5
    assert skill_accuracy(100) == 0.99
    assert skill_accuracy(0) == 0.01
    assert skill_accuracy(80) == pytest.approx(0.8)


def test_methods_agree_on_clear_tasks(workspace: Workspace) -> None:
    crowd = workspace.crowd
    report = crowd.import_label_studio(label_studio_export(tasks=9), name="reviews")
    ds = crowd.aggregate_pool(report.pool_id)
    mv = crowd.aggregate_pool(report.pool_id, method="MAJORITY_VOTE")
    assert list(ds.columns) == ["task", "label", "confidence", "answers"]
    assert len(ds) == len(mv) == 9
    assert ds["confidence"].between(0, 1).all()
    assert (ds["answers"] >= 1).all()

    skill = crowd.create_skill("accuracy")
    workers = {w.name: w.id for w in crowd.list_workers()}
    crowd.set_worker_skill(workers["label-studio annotator 1"], skill.id, 100)
    crowd.set_worker_skill(workers["label-studio annotator 2"], skill.id, 60)
    weighted = crowd.aggregate_pool(report.pool_id, method="WEIGHTED_DYNAMIC_OVERLAP",
                                    skill_id=skill.id)
    answers = crowd.answers_frame(report.pool_id)
    first = weighted.iloc[0]
    given = answers[answers["task"] == first["task"]]
    value = {workers["label-studio annotator 1"]: 100, workers["label-studio annotator 2"]: 60}
    posterior = task_posterior(list(given["label"]),
                               [skill_accuracy(value.get(w)) for w in given["worker"]],
                               ["Positive", "Negative", "Neutral"])
    assert first["confidence"] == pytest.approx(max(posterior.values()))
    with pytest.raises(InvalidInput, match="needs a skill"):
        crowd.aggregate_pool(report.pool_id, method="WEIGHTED_DYNAMIC_OVERLAP")
    with pytest.raises(InvalidInput, match="not one of"):
        crowd.aggregate_pool(report.pool_id, method="GLAD?")
