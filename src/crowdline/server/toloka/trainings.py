"""Trainings (Toloka's ``/trainings``): create, get, list, update, open / close / archive /
clone. A training is a crowdline pool of type TRAINING; its tasks are uploaded through
``/tasks`` with its id as ``pool_id``, and a regular pool requires it through
``quality_control.training_requirement``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request

from crowdline.errors import InvalidInput, PoolNotFound
from crowdline.server.toloka.pools import add_state_routes
from crowdline.server.toloka.routing import (
    TolokaRoute,
    crowd_of,
    json_body,
    search,
    toloka_json,
    without,
)

router = APIRouter(route_class=TolokaRoute)

TRAINING_FIELDS = (
    "id", "project_id", "private_name", "may_contain_adult_content",
    "assignment_max_duration_seconds", "mix_tasks_in_creation_order",
    "shuffle_tasks_in_task_suite", "training_tasks_in_task_suite_count",
    "task_suites_required_to_pass", "retry_training_after_days", "inherited_instructions",
    "public_instructions", "metadata", "status", "created", "last_started", "last_stopped",
)
_READ_ONLY = ("id", "created", "status", "owner", "last_started", "last_stopped",
              "last_close_reason")


def training_config(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidInput("a training must be a JSON object")
    config = without(body, *_READ_ONLY)
    config["type"] = "TRAINING"
    config.setdefault("training_tasks_in_task_suite_count", 1)
    return config


def training_json(pool: Any) -> dict[str, Any]:
    data = toloka_json(pool)
    result = {name: data[name] for name in TRAINING_FIELDS if name in data}
    result["training_tasks_in_task_suite_count"] = pool.mixer_config["training_tasks_count"]
    result.setdefault("may_contain_adult_content", False)
    if pool.status != "OPEN" and data.get("last_stopped"):
        result["last_close_reason"] = "MANUAL"
    return result


def _training(crowd: Any, training_id: str) -> Any:
    pool = crowd.get_pool(training_id)
    if pool.type != "TRAINING":
        raise PoolNotFound(f"training {training_id} does not exist (pool {training_id} is a "
                           "regular pool)", hint="use /pools for regular pools")
    return pool


@router.post("/trainings", status_code=201)
async def create_training(request: Request) -> dict[str, Any]:
    config = training_config(await json_body(request))
    return training_json(crowd_of(request).create_pool(config))


@router.get("/trainings")
def find_trainings(request: Request) -> dict[str, Any]:
    crowd = crowd_of(request)
    query = request.query_params
    found = crowd.list_pools(project_id=query.get("project_id"), status=query.get("status"))
    items = [training_json(p) for p in found if p.type == "TRAINING"]
    return search(items, query, equal=("status", "project_id"),
                  compare={"id": str, "created": dt.datetime, "last_started": dt.datetime})


@router.get("/trainings/{training_id}")
def get_training(training_id: str, request: Request) -> dict[str, Any]:
    return training_json(_training(crowd_of(request), training_id))


@router.put("/trainings/{training_id}")
async def update_training(training_id: str, request: Request) -> dict[str, Any]:
    crowd = crowd_of(request)
    _training(crowd, training_id)
    config = training_config(await json_body(request))
    return training_json(crowd.update_pool(training_id, config))


add_state_routes(router, "/trainings", "TRAINING", _training)
