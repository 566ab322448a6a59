"""Creating objects in batches as Toloka does, for ``POST /tasks`` and ``POST /task-suites``.

One body (an object, or a list), the same query parameters (``async_mode``,
``allow_defaults``, ``open_pool``, ``skip_invalid_items``, ``operation_id``), per-item
validation errors keyed by position, and either the created objects (sync) or a finished
``<NOUN>.BATCH_CREATE`` operation whose log toloka-kit reads back by ``__item_idx`` (async).
Without ``skip_invalid_items`` one invalid item means nothing is created.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from crowdline.crowd.operations import WorkResult
from crowdline.errors import InvalidInput
from crowdline.server.toloka.routing import (
    crowd_of,
    json_body,
    operations_of,
    parse_bool,
    toloka_json,
    validation_payload,
)

CREATE_PARAMS = frozenset({"async_mode", "allow_defaults", "open_pool", "skip_invalid_items",
                           "operation_id"})

FieldErrors = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class BatchKind:
    """What is created: ``noun`` as Toloka names it in paths and logs (TASK, TASK_SUITE)."""

    noun: str
    path: str  # e.g. "/tasks", for messages
    schema: type[BaseModel]  # one incoming item; ``to_crowd()`` gives the crowd's dict
    create: Callable[..., Any]  # crowd verb: (crowd, items, **options) -> report
    id_field: str  # the log's output key, e.g. "task_id"
    default_allow_defaults: bool = False


def _toloka_field_errors(errors: dict[str, Any]) -> FieldErrors:
    """The crowd's ``{field: message}`` (or Toloka's ``{field: {code, message}}``) as Toloka's."""
    return {field: (detail if isinstance(detail, dict)
                    else {"code": "VALUE_INVALID", "message": str(detail)})
            for field, detail in errors.items()}


class CreateBatch:
    """One create request: parsed items, per-item errors, and what got created."""

    def __init__(self, kind: BatchKind, raw_items: list[Any]) -> None:
        self.kind = kind
        self.raw_items = raw_items
        self.parsed: dict[int, BaseModel] = {}
        self.errors: dict[int, FieldErrors] = {}
        self.created: dict[int, Any] = {}
        for index, raw in enumerate(raw_items):
            try:
                self.parsed[index] = kind.schema.model_validate(raw)
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
            report = self.kind.create(
                crowd, [self.parsed[i].to_crowd() for i in order],  # type: ignore[attr-defined]
                allow_defaults=allow_defaults, skip_invalid_items=skip_invalid_items,
                open_pool=open_pool)
        except InvalidInput as exc:
            if skip_invalid_items:
                raise
            self._refused(order, exc)
            return
        for position, item in report.items.items():
            self.created[order[int(position)]] = item
        for position, errors in report.validation_errors.items():
            self.errors[order[int(position)]] = _toloka_field_errors(errors)

    def _refused(self, order: list[int], exc: InvalidInput) -> None:
        """All-or-nothing creation failed: per-item errors from the crowd's payload
        (``{"validation_errors": {position: {field: message}}}``), or the message against
        every item."""
        payload = exc.payload if isinstance(exc.payload, dict) else {}
        payload = payload.get("validation_errors", payload)
        for position, index in enumerate(order):
            errors = payload.get(str(position), payload.get(position))
            if isinstance(errors, dict):
                self.errors[index] = _toloka_field_errors(errors)
        if not any(index in self.errors for index in order):
            for index in order:
                self.errors[index] = {self.kind.noun.lower(): {"code": "VALUE_INVALID",
                                                               "message": exc.message}}

    def log(self) -> list[dict[str, Any]]:
        items = []
        for index, raw in enumerate(self.raw_items):
            source = raw if isinstance(raw, dict) else {"value": raw}
            echo = {**source, "__item_idx": str(source.get("__item_idx", index))}
            if index in self.created:
                items.append({"type": f"{self.kind.noun}_CREATE", "success": True,
                              "input": echo,
                              "output": {self.kind.id_field: str(self.created[index].id)}})
            elif index in self.errors:
                items.append({"type": f"{self.kind.noun}_VALIDATE", "success": False,
                              "input": echo, "output": self.errors[index]})
        return items

    def error_payload(self) -> dict[str, FieldErrors]:
        return {str(index): errors for index, errors in sorted(self.errors.items())}


async def create_objects(kind: BatchKind, request: Request) -> Response:
    """The whole ``POST`` route: parameters, sync or async, Toloka's response shapes."""
    query = request.query_params
    unknown = sorted(set(query) - CREATE_PARAMS)
    if unknown:
        raise InvalidInput(f"unsupported {kind.noun.lower()} creation parameter(s): "
                           f"{', '.join(unknown)}",
                           hint=f"supported: {', '.join(sorted(CREATE_PARAMS))}")
    body = await json_body(request)
    single = isinstance(body, dict)
    if not single and not isinstance(body, list):
        raise InvalidInput(f"POST {kind.path} takes an object or a list of objects")
    options = {
        "allow_defaults": parse_bool(query, "allow_defaults", kind.default_allow_defaults),
        "skip_invalid_items": parse_bool(query, "skip_invalid_items", False) and not single,
        "open_pool": parse_bool(query, "open_pool", False),
    }
    batch = CreateBatch(kind, [body] if single else body)
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

        op = operations_of(request).run(f"{kind.noun}.BATCH_CREATE", options, work,
                                        operation_id=query.get("operation_id"))
        return JSONResponse(op.to_dict(), status_code=202)

    batch.create(crowd, **options)
    if batch.errors and (not options["skip_invalid_items"] or not batch.created):
        payload = batch.error_payload()
        if single:
            payload = payload.get("0", payload)
        raise InvalidInput(f"{kind.noun.lower().replace('_', ' ')} validation failed: " + "; ".join(
            f"item {i}: " + ", ".join(f"{field} ({detail.get('message')})"
                                      for field, detail in errors.items())
            for i, errors in batch.error_payload().items()), payload=payload)
    if single:
        return JSONResponse(toloka_json(batch.created[0]), status_code=201)
    return JSONResponse({
        "items": {str(i): toloka_json(item) for i, item in sorted(batch.created.items())},
        "validation_errors": batch.error_payload(),
    }, status_code=201)
