"""Asynchronous operations: get one, its log, or search them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request

from crowdline.server.toloka.routing import TolokaRoute, operations_of, search

router = APIRouter(route_class=TolokaRoute)


@router.get("/operations")
def find_operations(request: Request) -> dict[str, Any]:
    query = request.query_params
    found = operations_of(request).list(type=query.get("type"), status=query.get("status"))
    items = [op.to_dict() for op in found]
    return search(items, query, equal=("type", "status"),
                  compare={"id": str, "submitted": dt.datetime, "finished": dt.datetime})


# An unfinished operation this old lost its process (a restart, a crash): report it FAIL.
ABANDONED_AFTER = dt.timedelta(hours=6)


@router.get("/operations/{operation_id}")
def get_operation(operation_id: str, request: Request) -> dict[str, Any]:
    operations = operations_of(request)
    op = operations.get(operation_id)
    if not op.is_completed and _age(op.submitted) > ABANDONED_AFTER:
        operations.fail_abandoned(older_than=ABANDONED_AFTER)
        op = operations.get(operation_id)
    return op.to_dict()


def _age(submitted: dt.datetime) -> dt.timedelta:
    if submitted.tzinfo is None:
        submitted = submitted.replace(tzinfo=dt.UTC)
    return dt.datetime.now(dt.UTC) - submitted


@router.get("/operations/{operation_id}/log")
def get_operation_log(operation_id: str, request: Request) -> list[dict[str, Any]]:
    return operations_of(request).get(operation_id).log
