"""Aggregation by the server: ``aggregate-by-pool`` (an operation) and its results.

Both methods (DAWID_SKENE, WEIGHTED_DYNAMIC_OVERLAP) run ``Crowd.aggregate_pool``, the verb
the flow, the exports and the dashboard use too (crowdline/crowd/aggregation.py).
"""

from __future__ import annotations

import threading
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from crowdline.crowd.aggregation import output_classes
from crowdline.crowd.operations import AggregatedSolution, Operations, WorkResult
from crowdline.errors import Conflict, InvalidInput, Unsupported
from crowdline.server.toloka.routing import (
    TolokaRoute,
    crowd_of,
    json_body,
    operations_of,
    search,
)
from crowdline.server.toloka.schemas import AggregateByPoolIn, AggregateByTaskIn
from crowdline.server.toloka.tasks import LARGE_PAGE

router = APIRouter(route_class=TolokaRoute)

ANSWER_STATUSES = ("SUBMITTED", "ACCEPTED")
_executor_lock = threading.Lock()


def operation_executor(request: Request) -> Executor:
    """One small thread pool per app for operations that outlive their request."""
    state = request.app.state
    with _executor_lock:
        if getattr(state, "toloka_executor", None) is None:
            state.toloka_executor = ThreadPoolExecutor(max_workers=2,
                                                       thread_name_prefix="toloka-op")
        return state.toloka_executor


@router.post("/aggregated-solutions/aggregate-by-pool", status_code=202)
async def aggregate_by_pool(request: Request) -> JSONResponse:
    body = AggregateByPoolIn.model_validate(await json_body(request) or {})
    if len(body.fields) != 1:
        raise Unsupported("aggregating several output fields at once is not supported",
                          hint="start one aggregation per field")
    if body.type == "WEIGHTED_DYNAMIC_OVERLAP" and not body.answer_weight_skill_id:
        raise InvalidInput("WEIGHTED_DYNAMIC_OVERLAP needs answer_weight_skill_id",
                           payload={"answer_weight_skill_id": {"code": "VALUE_REQUIRED",
                                                               "message": "required"}})
    if body.type == "DAWID_SKENE" and body.answer_weight_skill_id:
        raise Unsupported("answer_weight_skill_id is only used by WEIGHTED_DYNAMIC_OVERLAP",
                          hint="leave it out for DAWID_SKENE")
    crowd = crowd_of(request)
    field = body.fields[0].name
    output_classes(crowd, body.pool_id, field)  # checks the pool and the field up front
    operations = operations_of(request)
    holder: dict[str, str] = {}

    def work() -> WorkResult:
        results = crowd.aggregate_pool(body.pool_id, method=body.type, field=field,
                                       skill_id=body.answer_weight_skill_id)
        count = Operations(operations.engine).save_aggregated(holder["id"], (
            AggregatedSolution(pool_id=body.pool_id, task_id=task, confidence=confidence,
                               output_values={field: label})
            for task, label, confidence in zip(results["task"], results["label"],
                                               results["confidence"], strict=True)))
        return WorkResult(details={"aggregated_tasks_count": count})

    op = operations.create("SOLUTION.AGGREGATE", {"pool_id": body.pool_id})
    holder["id"] = op.id
    operation_executor(request).submit(operations.execute, op.id, work)
    return JSONResponse(op.to_dict(), status_code=202)


@router.post("/aggregated-solutions/aggregate-by-task")
async def aggregate_by_task(request: Request) -> dict[str, Any]:
    """One task's skill-weighted answer, at once (Toloka answers this one synchronously)."""
    body = AggregateByTaskIn.model_validate(await json_body(request) or {})
    if len(body.fields) != 1:
        raise Unsupported("aggregating several output fields at once is not supported",
                          hint="aggregate one field per call")
    crowd = crowd_of(request)
    field = body.fields[0].name
    output_classes(crowd, body.pool_id, field)  # checks the pool and the field
    task = crowd.get_task(body.task_id)
    if task.pool_id != body.pool_id:
        raise InvalidInput(f"task {body.task_id} is not in pool {body.pool_id}")
    results = crowd.aggregate_pool(body.pool_id, method="WEIGHTED_DYNAMIC_OVERLAP",
                                   skill_id=body.answer_weight_skill_id, field=field)
    mine = results[results["task"].astype(str) == str(body.task_id)]
    if mine.empty:
        raise Conflict(f"task {body.task_id} has no answers yet",
                       hint="aggregate it once annotators answered it")
    label, confidence = mine["label"].iloc[0], float(mine["confidence"].iloc[0])
    return {"pool_id": body.pool_id, "task_id": str(body.task_id), "confidence": confidence,
            "output_values": {field: label}}


@router.get("/aggregated-solutions/{operation_id}")
def find_aggregated_solutions(operation_id: str, request: Request) -> dict[str, Any]:
    query = request.query_params
    operations = operations_of(request)
    op = operations.get(operation_id)
    if op.type != "SOLUTION.AGGREGATE":
        raise InvalidInput(f"operation {operation_id} is a {op.type}, not an aggregation",
                           hint="pass the id returned by aggregate_solutions_by_pool")
    if op.status != "SUCCESS":
        raise Conflict(f"aggregation {operation_id} is {op.status}",
                       hint="wait for it with wait_operation, then read the results")
    found = operations.find_aggregated(operation_id)
    items = [s.to_dict() for s in found]
    return search(items, query, compare={"task_id": str}, default_sort="task_id",
                  default_limit=LARGE_PAGE)
