"""Tasks: create (sync and as a TASK.BATCH_CREATE operation), get, list, set overlap."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from crowdline.crowd.operations import WorkResult
from crowdline.errors import InvalidInput
from crowdline.server.toloka.routing import (
    TolokaRoute,
    crowd_of,
    json_body,
    operations_of,
    parse_bool,
    parse_search,
    toloka_json,
    validation_payload,
)
from crowdline.server.toloka.schemas import OverlapPatch, TaskIn

router = APIRouter(route_class=TolokaRoute)

_CREATE_PARAMS = frozenset({"async_mode", "allow_defaults", "open_pool", "skip_invalid_items",
                            "operation_id"})

FieldErrors = dict[str, dict[str, Any]]
# Listing re-reads the pool for every page, so big default pages keep paging cheap.
LARGE_PAGE = 1000


def _toloka_field_errors(errors: dict[str, Any]) -> FieldErrors:
    """The crowd's ``{field: message}`` (or Toloka's ``{field: {code, message}}``) as Toloka's."""
    return {field: (detail if isinstance(detail, dict)
                    else {"code": "VALUE_INVALID", "message": str(detail)})
            for field, detail in errors.items()}


class _Batch:
    """One ``POST /tasks`` request: parsed items, per-item errors, and what got created."""

    def __init__(self, raw_items: list[Any]) -> None:
        self.raw_items = raw_items
        self.parsed: dict[int, TaskIn] = {}
        self.errors: dict[int, FieldErrors] = {}
        self.created: dict[int, Any] = {}
        for index, raw in enumerate(raw_items):
            try:
                self.parsed[index] = TaskIn.model_validate(raw)
            except ValidationError as exc:
                self.errors[index] = validation_payload(exc.errors())

    def create(self, crowd: Any, *, allow_defaults: bool, skip_invalid_items: bool,
               open_pool: bool) -> None:
        if self.errors and not skip_invalid_items:
            return  # nothing is created when one item is invalid and skipping is off
        order = sorted(self.parsed)
        if not order:
            return
        try:
            report = crowd.create_tasks(
                [self.parsed[i].to_crowd() for i in order],
                allow_defaults=allow_defaults, skip_invalid_items=skip_invalid_items,
                open_pool=open_pool,
            )
        except InvalidInput as exc:
            if skip_invalid_items:
                raise
            self._refused(order, exc)
            return
        for position, task in report.items.items():
            self.created[order[int(position)]] = task
        for position, errors in report.validation_errors.items():
            self.errors[order[int(position)]] = _toloka_field_errors(errors)

    def _refused(self, order: list[int], exc: InvalidInput) -> None:
        """All-or-nothing creation failed: record per-item errors from the crowd's payload
        (``{position: {field: message}}``), or the message against every item."""
        payload = exc.payload if isinstance(exc.payload, dict) else {}
        for position, index in enumerate(order):
            errors = payload.get(str(position), payload.get(position))
            if isinstance(errors, dict):
                self.errors[index] = _toloka_field_errors(errors)
        if not any(index in self.errors for index in order):
            for index in order:
                self.errors[index] = {"task": {"code": "VALUE_INVALID", "message": exc.message}}

    def log(self) -> list[dict[str, Any]]:
        items = []
        for index, raw in enumerate(self.raw_items):
            source = raw if isinstance(raw, dict) else {"value": raw}
            echo = {**source, "__item_idx": str(source.get("__item_idx", index))}
            if index in self.created:
                items.append({"type": "TASK_CREATE", "success": True, "input": echo,
                              "output": {"task_id": str(self.created[index].id)}})
            elif index in self.errors:
                items.append({"type": "TASK_VALIDATE", "success": False, "input": echo,
                              "output": self.errors[index]})
        return items

    def error_payload(self) -> dict[str, FieldErrors]:
        return {str(index): errors for index, errors in sorted(self.errors.items())}


@router.post("/tasks", status_code=201)
async def create_tasks(request: Request) -> Response:
    query = request.query_params
    unknown = sorted(set(query) - _CREATE_PARAMS)
    if unknown:
        raise InvalidInput(f"unsupported task creation parameter(s): {', '.join(unknown)}",
                           hint=f"supported: {', '.join(sorted(_CREATE_PARAMS))}")
    body = await json_body(request)
    single = isinstance(body, dict)
    if not single and not isinstance(body, list):
        raise InvalidInput("POST /tasks takes a task object or a list of task objects")
    options = {
        "allow_defaults": parse_bool(query, "allow_defaults", False),
        "skip_invalid_items": parse_bool(query, "skip_invalid_items", False) and not single,
        "open_pool": parse_bool(query, "open_pool", False),
    }
    batch = _Batch([body] if single else body)
    crowd = crowd_of(request)

    if parse_bool(query, "async_mode", False):
        def work() -> WorkResult:
            batch.create(crowd, **options)
            total, created = len(batch.raw_items), len(batch.created)
            return WorkResult(
                details={"total_count": total, "valid_count": total - len(batch.errors),
                         "not_valid_count": len(batch.errors), "success_count": created,
                         "failed_count": total - created},
                log=batch.log(), failed=created == 0 and total > 0,
            )

        op = operations_of(request).run("TASK.BATCH_CREATE", options, work,
                                        operation_id=query.get("operation_id"))
        return JSONResponse(op.to_dict(), status_code=202)

    batch.create(crowd, **options)
    if batch.errors and (not options["skip_invalid_items"] or not batch.created):
        payload = batch.error_payload()
        if single:
            payload = payload.get("0", payload)
        raise InvalidInput("task validation failed: " + "; ".join(
            f"item {i}: {', '.join(errors)}" for i, errors in batch.error_payload().items()),
            payload=payload)
    if single:
        return JSONResponse(toloka_json(batch.created[0]), status_code=201)
    return JSONResponse({
        "items": {str(i): toloka_json(task) for i, task in sorted(batch.created.items())},
        "validation_errors": batch.error_payload(),
    }, status_code=201)


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
