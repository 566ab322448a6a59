"""Projects: text and image classification, label keys, multi-label output, updates."""

from __future__ import annotations

import pytest
from crowd_helpers import pool_config, project_config

from crowdline.crowd import Crowd
from crowdline.errors import InvalidInput, ProjectNotFound, UnknownLabel, Unsupported

IMAGE_PROJECT = {
    "public_name": "Which dog breed?",
    "public_instructions": "Pick <b>every</b> breed you see.",
    "task_spec": {
        "input_spec": {"image": {"type": "url"}},
        "output_spec": {"breeds": {"type": "array_string",
                                   "allowed_values": ["husky", "corgi", "pug"]}},
        "view_spec": {"type": "classification", "interface": "image", "labels": [
            {"value": "husky", "title": "Husky", "key": "h"},
            {"value": "corgi", "title": "Corgi", "key": "c"}]},
    },
}


def test_image_multilabel_project_from_spec_to_answers(crowd: Crowd) -> None:
    project = crowd.create_project(IMAGE_PROJECT)
    pool = crowd.create_pool(pool_config(project.id, mixer_config={"real_tasks_count": 1},
                                         defaults={"default_overlap_for_new_tasks": 1}))
    crowd.create_tasks([{"pool_id": pool.id,
                         "input_values": {"image": "https://example.org/dog.jpg"}}],
                       open_pool=True)
    worker, _ = crowd.invite_worker("a")
    suite = crowd.request_assignment(worker.id)
    assert suite.labels == [("husky", "Husky", "h"), ("corgi", "Corgi", "c"),
                            ("pug", "pug", "3")]
    assert "<b>every</b>" in suite.instructions_html
    with pytest.raises(UnknownLabel):
        crowd.submit_assignment(worker.id, suite.id,
                                [{"output_values": {"breeds": ["husky", "poodle"]}}])
    crowd.submit_assignment(worker.id, suite.id,
                            [{"output_values": {"breeds": ["pug", "husky", "pug"]}}])
    assert list(crowd.answers_frame(pool.id)["label"]) == ["husky|pug"]
    assert crowd.get_assignment(suite.id).solutions == [
        {"output_values": {"breeds": ["husky", "pug"]}}]


def test_projects_are_validated_listed_and_updated(crowd: Crowd) -> None:
    with pytest.raises(InvalidInput, match="public_name"):
        crowd.create_project(project_config(public_name=""))
    with pytest.raises(Unsupported, match="coordinates"):
        crowd.create_project(project_config(task_spec={
            "input_spec": {"where": {"type": "coordinates"}},
            "output_spec": {"category": {"type": "string", "allowed_values": ["a"]}}}))
    with pytest.raises(Unsupported, match="MAP_SELECTOR"):
        crowd.create_project(project_config(assignments_issuing_type="MAP_SELECTOR"))
    project = crowd.create_project(project_config())
    updated = crowd.update_project(project.id, project_config(public_name="Renamed"))
    assert updated.public_name == "Renamed"
    assert updated.created == project.created
    assert [p.id for p in crowd.list_projects(status="ACTIVE")] == [project.id]
    with pytest.raises(ProjectNotFound):
        crowd.get_project("nope")
    pool = crowd.create_pool(pool_config(project.id))
    with pytest.raises(InvalidInput, match="input_values.headline"):
        crowd.create_tasks([{"pool_id": pool.id, "input_values": {"headline": 7}}])
