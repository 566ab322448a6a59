"""Configs and tasks the crowd tests share (Toloka-shaped)."""

from __future__ import annotations

from typing import Any

LABELS = ["clickbait", "notclickbait"]


def project_config(**overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "public_name": "Is this headline clickbait?",
        "public_description": "Read a news headline and say whether it is clickbait.",
        "public_instructions": "# Clickbait\nA headline that **withholds** the point.",
        "task_spec": {
            "input_spec": {"headline": {"type": "string", "required": True}},
            "output_spec": {"category": {"type": "string", "allowed_values": LABELS}},
            "view_spec": {"type": "classification", "interface": "text"},
        },
    }
    config.update(overrides)
    return config


def pool_config(project_id: str, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "project_id": project_id,
        "private_name": "headlines",
        "reward_per_assignment": 0.05,
        "assignment_max_duration_seconds": 120,
        "defaults": {"default_overlap_for_new_tasks": 3,
                     "default_overlap_for_new_task_suites": 3},
        "mixer_config": {"real_tasks_count": 2, "golden_tasks_count": 0,
                         "training_tasks_count": 0},
    }
    config.update(overrides)
    return config


def real_tasks(pool_id: str, count: int, overlap: int | None = None) -> list[dict[str, Any]]:
    tasks = []
    for i in range(count):
        task: dict[str, Any] = {"pool_id": pool_id, "input_values": {"headline": f"headline {i}"}}
        if overlap is not None:
            task["overlap"] = overlap
        tasks.append(task)
    return tasks


def golden_tasks(pool_id: str, count: int) -> list[dict[str, Any]]:
    return [{"pool_id": pool_id, "input_values": {"headline": f"golden {i}"},
             "known_solutions": [{"output_values": {"category": LABELS[i % 2]}}]}
            for i in range(count)]


def answer(label: str) -> dict[str, Any]:
    return {"output_values": {"category": label}}
