"""Requester-made task suites: create (sync and as a TASK_SUITE.BATCH_CREATE operation), get,
list (filtered, sorted and paged in SQL), patch, and set-overlap-or-min."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from crowdline.errors import InvalidInput
from crowdline.server.toloka.batches import BatchKind, create_objects
from crowdline.server.toloka.routing import (
    TolokaRoute,
    crowd_of,
    json_body,
    parse_bool,
    parse_search,
    toloka_json,
)
from crowdline.server.toloka.schemas import TaskSuiteIn, TaskSuiteOverlapPatch
from crowdline.server.toloka.tasks import LARGE_PAGE

router = APIRouter(route_class=TolokaRoute)

SUITES = BatchKind(
    noun="TASK_SUITE", path="/task-suites", schema=TaskSuiteIn,
    create=lambda crowd, items, **options: crowd.create_task_suites(items, **options),
    id_field="task_suite_id")


def _open_pool(request: Request) -> bool:
    unknown = sorted(set(request.query_params) - {"open_pool"})
    if unknown:
        raise InvalidInput(f"unsupported query parameter(s): {', '.join(unknown)}",
                           hint="this call takes open_pool only")
    return parse_bool(request.query_params, "open_pool", False)


@router.post("/task-suites", status_code=201)
async def create_task_suites(request: Request) -> Response:
    return await create_objects(SUITES, request)


@router.get("/task-suites")
def find_task_suites(request: Request) -> dict[str, Any]:
    """Filtered, sorted and paged in SQL: a page costs the same in a pool of any size."""
    crowd = crowd_of(request)
    params = request.query_params
    query = parse_search(params, equal=("pool_id", "overlap"),
                         compare=("id", "created", "overlap"), consumed=("task_id",),
                         default_limit=LARGE_PAGE)
    if "pool_id" not in query.equal and "task_id" not in params:
        raise InvalidInput("give pool_id or task_id", hint="as on Toloka, task suites are "
                           "listed by pool, or found by one of their tasks")
    if "pool_id" in query.equal:
        crowd.get_pool(str(query.equal["pool_id"]))  # 404 for a pool that does not exist
    found, more = crowd.search_task_suites(query, task_id=params.get("task_id"))
    return {"items": [toloka_json(suite) for suite in found], "has_more": more}


@router.get("/task-suites/{suite_id}")
def get_task_suite(suite_id: str, request: Request) -> dict[str, Any]:
    return toloka_json(crowd_of(request).get_task_suite(suite_id))


@router.patch("/task-suites/{suite_id}")
async def patch_task_suite(suite_id: str, request: Request) -> dict[str, Any]:
    open_pool = _open_pool(request)
    suite = crowd_of(request).patch_task_suite(suite_id, await json_body(request) or {},
                                               open_pool=open_pool)
    return toloka_json(suite)


@router.patch("/task-suites/{suite_id}/set-overlap-or-min")
async def set_overlap_or_min(suite_id: str, request: Request) -> dict[str, Any]:
    open_pool = _open_pool(request)
    patch = TaskSuiteOverlapPatch.model_validate(await json_body(request) or {})
    suite = crowd_of(request).set_task_suite_overlap_or_min(suite_id, patch.overlap,
                                                            open_pool=open_pool)
    return toloka_json(suite)
