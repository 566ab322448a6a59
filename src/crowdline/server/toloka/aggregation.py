"""Aggregation by the server: ``aggregate-by-pool`` (an operation) and its results.

DAWID_SKENE runs crowdline.aggregate's Dawid-Skene over the pool's submitted and accepted
answers (control tasks left out). WEIGHTED_DYNAMIC_OVERLAP weighs each answer by the worker's
value of ``answer_weight_skill_id`` (value / 100 is the worker's accuracy) and reports the
naive-Bayes posterior of the winning label, as Toloka's dynamic overlap does.
"""

from __future__ import annotations

import threading
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from crowdline.crowd.operations import AggregatedSolution, Operations, WorkResult
from crowdline.crowd.projects import label_values
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


def pool_answers(crowd: Any, pool_id: str, field: str) -> pd.DataFrame:
    """task / worker / label rows of the pool's real tasks (control tasks are left out)."""
    rows = []
    for assignment in crowd.list_assignments(pool_id=pool_id):
        data = assignment.to_dict()
        if data["status"] not in ANSWER_STATUSES:
            continue
        solutions = data.get("solutions") or []
        for position, task in enumerate(data.get("tasks") or []):
            if task.get("known_solutions") or position >= len(solutions):
                continue
            value = (solutions[position].get("output_values") or {}).get(field)
            if value is not None:
                rows.append({"task": str(task["id"]), "worker": str(data["user_id"]),
                             "label": value})
    return pd.DataFrame(rows, columns=["task", "worker", "label"])


def _output_classes(crowd: Any, pool_id: str, field: str) -> list[Any] | None:
    pool = crowd.get_pool(pool_id)
    spec = (crowd.get_project(pool.project_id).to_dict().get("task_spec") or {})
    output_spec = spec.get("output_spec") or {}
    if field not in output_spec:
        raise InvalidInput(f"output field {field!r} is not in the project's output_spec",
                           hint=f"aggregate one of: {', '.join(output_spec) or '(none)'}")
    if field == next(iter(output_spec)):
        return label_values(spec) or None
    return (output_spec[field] or {}).get("allowed_values")


def dawid_skene(answers: pd.DataFrame) -> list[tuple[str, Any, float]]:
    from crowdline.aggregate import DawidSkene

    model = DawidSkene(n_iter=100).fit(answers)
    probas = model.probas_
    return [(str(task), label, float(probas.loc[task].max()))
            for task, label in model.labels_.items()]


def weighted_dynamic_overlap(crowd: Any, answers: pd.DataFrame, skill_id: str,
                             classes: list[Any] | None) -> list[tuple[str, Any, float]]:
    from crowdline.aggregate.dynamic_overlap import task_posterior, worker_accuracy

    crowd.get_skill(skill_id)
    values = {str(s.user_id): float(s.to_dict().get("exact_value", s.to_dict().get("value")))
              for s in crowd.get_worker_skills(skill_id=skill_id)}
    neutral = worker_accuracy(0, 0)  # a worker with no skill value carries no weight
    labels = classes or sorted(answers["label"].unique().tolist())
    results = []
    for task, group in answers.groupby("task", sort=True):
        accuracies = [min(max(values[w] / 100, 0.01), 0.99) if w in values else neutral
                      for w in group["worker"]]
        posterior = task_posterior(list(group["label"]), accuracies, labels)
        best = max(posterior, key=lambda label: posterior[label])
        results.append((str(task), best, float(posterior[best])))
    return results


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
    classes = _output_classes(crowd, body.pool_id, field)  # checks pool and field up front
    operations = operations_of(request)
    holder: dict[str, str] = {}

    def work() -> WorkResult:
        answers = pool_answers(crowd, body.pool_id, field)
        if answers.empty:
            results: list[tuple[str, Any, float]] = []
        elif body.type == "DAWID_SKENE":
            results = dawid_skene(answers)
        else:
            results = weighted_dynamic_overlap(crowd, answers,
                                               str(body.answer_weight_skill_id), classes)
        count = Operations(operations.engine).save_aggregated(holder["id"], (
            AggregatedSolution(pool_id=body.pool_id, task_id=task, confidence=confidence,
                               output_values={field: label})
            for task, label, confidence in results))
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
    classes = _output_classes(crowd, body.pool_id, field)
    task = crowd.get_task(body.task_id)
    if task.pool_id != body.pool_id:
        raise InvalidInput(f"task {body.task_id} is not in pool {body.pool_id}")
    answers = pool_answers(crowd, body.pool_id, field)
    answers = answers[answers["task"] == str(body.task_id)]
    if answers.empty:
        raise Conflict(f"task {body.task_id} has no answers yet",
                       hint="aggregate it once annotators answered it")
    (_, label, confidence), = weighted_dynamic_overlap(
        crowd, answers, str(body.answer_weight_skill_id), classes)
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
