"""What the server tests share: Toloka-shaped configs, a pool with honeypots, a live server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn
from fastapi import FastAPI

from crowdline.cli.serve import KEEP_ALIVE_SECONDS
from crowdline.crowd import Crowd, Pool
from crowdline.server import create_app
from crowdline.testing.ports import free_port, wait_for_port
from crowdline.workspace import Workspace

LABELS = ["clickbait", "notclickbait"]
HINT = "HINT-never-shown-before-a-wrong-answer"


def project_config(instructions: str = "# Clickbait\nA headline that **withholds** the point.",
                   ) -> dict[str, Any]:
    return {
        "public_name": "Is this headline clickbait?",
        "public_description": "Read a news headline and say whether it is clickbait.",
        "public_instructions": instructions,
        "task_spec": {
            "input_spec": {"headline": {"type": "string", "required": True}},
            "output_spec": {"category": {"type": "string", "allowed_values": LABELS}},
            "view_spec": {"type": "classification", "interface": "text"},
        },
    }


def golden_set_ban_rule(history: int = 10, below: int = 60, after: int = 3) -> dict[str, Any]:
    """Toloka's GOLDEN_SET rule: ban from the pool below ``below``% after ``after`` honeypots."""
    return {"configs": [{
        "collector_config": {"type": "GOLDEN_SET", "parameters": {"history_size": history}},
        "rules": [{"conditions": [
            {"key": "golden_set_correct_answers_rate", "operator": "LT", "value": below},
            {"key": "golden_set_answers_count", "operator": "GTE", "value": after}],
            "action": {"type": "RESTRICTION_V2", "parameters": {
                "scope": "POOL", "duration_unit": "PERMANENT",
                "private_comment": "failed honeypots"}}}]}]}


def pool_config(project_id: str, *, overlap: int = 3, real: int = 3, golden: int = 1,
                quality_control: dict[str, Any] | None = None) -> dict[str, Any]:
    config: dict[str, Any] = {
        "project_id": project_id, "private_name": "headlines", "reward_per_assignment": 0.05,
        "assignment_max_duration_seconds": 600,
        "defaults": {"default_overlap_for_new_tasks": overlap,
                     "default_overlap_for_new_task_suites": overlap},
        "mixer_config": {"real_tasks_count": real, "golden_tasks_count": golden,
                         "training_tasks_count": 0},
    }
    if quality_control is not None:
        config["quality_control"] = quality_control
    return config


def golden_label(i: int) -> str:
    return LABELS[i % 2]


def make_pool(crowd: Crowd, *, real_tasks: int = 12, golden_tasks: int = 6,
              headline: str = "headline {i}", **pool_options: Any) -> Pool:
    """An open pool with real tasks and control tasks whose truth is ``golden_label(i)``."""
    project = crowd.create_project(project_config())
    pool = crowd.create_pool(pool_config(project.id, **pool_options))
    tasks: list[dict[str, Any]] = [
        {"pool_id": pool.id, "input_values": {"headline": headline.format(i=i)}}
        for i in range(real_tasks)]
    tasks += [{"pool_id": pool.id, "input_values": {"headline": f"golden {i}"},
               "known_solutions": [{"output_values": {"category": golden_label(i)}}],
               "message_on_unknown_solution": f"{HINT} {i}"} for i in range(golden_tasks)]
    report = crowd.create_tasks(tasks, open_pool=True)
    assert not report.validation_errors
    return crowd.get_pool(pool.id)


def truth(input_values: dict[str, Any]) -> str:
    """The simulated crowd's truth: golden i -> golden_label(i); real tasks -> the first label."""
    text = str(input_values["headline"])
    if text.startswith("golden "):
        return golden_label(int(text.split()[1]))
    return LABELS[0]


@dataclass
class LiveServer:
    url: str
    workspace: Workspace
    app: FastAPI


@contextmanager
def live_server(workspace: Workspace) -> Iterator[LiveServer]:
    """A real uvicorn serving ``create_app(workspace)`` on a free loopback port, in a thread."""
    port = free_port()
    app = create_app(workspace)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False,
                                           timeout_keep_alive=KEEP_ALIVE_SECONDS))
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    try:
        assert wait_for_port(port), "uvicorn did not start"
        yield LiveServer(url=f"http://127.0.0.1:{port}", workspace=workspace, app=app)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
