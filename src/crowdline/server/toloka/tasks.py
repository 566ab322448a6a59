"""Tasks: create (sync and as a TASK.BATCH_CREATE operation), get, list, set overlap."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from crowdline.errors import InvalidInput
from crowdline.server.toloka.batches import BatchKind, create_objects
from crowdline.server.toloka.routing import (
    TolokaRoute,
    crowd_of,
    json_body,
    parse_search,
    toloka_json,
)
from crowdline.server.toloka.schemas import OverlapPatch, TaskIn

router = APIRouter(route_class=TolokaRoute)

# Listing re-reads the pool for every page, so big default pages keep paging cheap.
LARGE_PAGE = 1000

TASKS = BatchKind(noun="TASK", path="/tasks", schema=TaskIn,
                  create=lambda crowd, items, **options: crowd.create_tasks(items, **options),
                  id_field="task_id")


@router.post("/tasks", status_code=201)
async def create_tasks(request: Request) -> Response:
    return await create_objects(TASKS, request)


@router.get("/tasks")
def find_tasks(request: Request) -> dict[str, Any]:
    """Filtered, sorted and paged in SQL: a page costs the same in a pool of any size."""
    crowd = crowd_of(request)
    query = parse_search(request.query_params, equal=("pool_id", "overlap"),
                         compare=("id", "created", "overlap"), default_limit=LARGE_PAGE)
    if "pool_id" in query.equal:
        crowd.get_pool(str(query.equal["pool_id"]))  # 404 for a pool that does not exist
    found, more = crowd.search_tasks(query)
    return {"items": [toloka_json(task) for task in found], "has_more": more}


@router.get("/tasks/{task_id}")
def get_task(task_id: str, request: Request) -> dict[str, Any]:
    return toloka_json(crowd_of(request).get_task(task_id))


@router.patch("/tasks/{task_id}")
async def patch_task(task_id: str, request: Request) -> dict[str, Any]:
    return toloka_json(crowd_of(request).patch_task(task_id, await json_body(request) or {}))


@router.patch("/tasks/{task_id}/set-overlap-or-min")
async def set_overlap_or_min(task_id: str, request: Request) -> dict[str, Any]:
    patch = OverlapPatch.model_validate(await json_body(request) or {})
    if patch.overlap is None and not patch.infinite_overlap:
        raise InvalidInput("give overlap or infinite_overlap=true",
                           payload={"overlap": {"code": "VALUE_REQUIRED",
                                                "message": "overlap is required"}})
    task = crowd_of(request).set_task_overlap(task_id, overlap=patch.overlap,
                                              infinite_overlap=patch.infinite_overlap)
    return toloka_json(task)
