"""Pools: create, get, list, update, and the asynchronous open / close / archive / clone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from crowdline.crowd.operations import WorkResult
from crowdline.errors import InvalidInput
from crowdline.server.toloka.routing import (
    TolokaRoute,
    crowd_of,
    json_body,
    operations_of,
    search,
    toloka_json,
    without,
)
from crowdline.server.toloka.schemas import PoolPatchIn

router = APIRouter(route_class=TolokaRoute)

# Read-only fields toloka-kit echoes back when it sends a pool it fetched.
_READ_ONLY = ("id", "created", "status", "owner", "last_started", "last_stopped",
              "last_close_reason")


def pool_config(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidInput("a pool must be a JSON object")
    return without(body, *_READ_ONLY)


def _answered(crowd: Any, pool_id: str) -> bool:
    return any(crowd.list_assignments(pool_id=pool_id, status=status, limit=1)
               for status in ("SUBMITTED", "ACCEPTED"))


def pool_json(crowd: Any, pool: Any) -> dict[str, Any]:
    """A pool as Toloka shows it. Toloka closes a pool by itself once every task is done
    (``last_close_reason: COMPLETED``), and scripts poll ``get_pool`` for that; crowdline
    applies that rule here, when the pool is read through this API. A training pool stays
    open until the requester closes it: every new annotator takes it again."""
    complete = pool.type != "TRAINING" and pool.status != "ARCHIVED" \
        and crowd.is_pool_complete(pool.id) and _answered(crowd, pool.id)
    if pool.status == "OPEN" and complete:
        pool = crowd.close_pool(pool.id)
    data = toloka_json(pool)
    if pool.status != "OPEN" and data.get("last_stopped"):
        data["last_close_reason"] = "COMPLETED" if complete else "MANUAL"
    return data


@router.post("/pools", status_code=201)
async def create_pool(request: Request) -> dict[str, Any]:
    unknown = sorted(set(request.query_params) - {"storage_key"})
    if unknown or request.query_params.get("storage_key", "default") != "default":
        raise InvalidInput(f"unsupported pool creation parameter(s): {unknown or 'storage_key'}",
                           hint="crowdline has one storage tier, 'default'")
    config = pool_config(await json_body(request))
    return toloka_json(crowd_of(request).create_pool(config))


@router.get("/pools")
def find_pools(request: Request) -> dict[str, Any]:
    crowd = crowd_of(request)
    query = request.query_params
    pools = crowd.list_pools(project_id=query.get("project_id"), status=query.get("status"))
    items = [pool_json(crowd, p) for p in pools if p.type != "TRAINING"]  # see /trainings
    return search(items, query, equal=("status", "project_id"),
                  compare={"id": str, "created": dt.datetime, "last_started": dt.datetime})


@router.get("/pools/{pool_id}")
def get_pool(pool_id: str, request: Request) -> dict[str, Any]:
    crowd = crowd_of(request)
    return pool_json(crowd, crowd.get_pool(pool_id))


@router.put("/pools/{pool_id}")
async def update_pool(pool_id: str, request: Request) -> dict[str, Any]:
    config = pool_config(await json_body(request))
    return toloka_json(crowd_of(request).update_pool(pool_id, config))


@router.patch("/pools/{pool_id}")
async def patch_pool(pool_id: str, request: Request) -> dict[str, Any]:
    """Toloka's pool patch: the priority."""
    patch = PoolPatchIn.model_validate(await json_body(request) or {})
    crowd = crowd_of(request)
    config = pool_config(toloka_json(crowd.get_pool(pool_id)))
    config["priority"] = patch.priority
    return pool_json(crowd, crowd.update_pool(pool_id, config))


# Toloka's state changes of a pool or a training: path action -> (operation kind, the
# statuses in which it is a no-op answered 204)
STATE_CHANGES = {"open": ("OPEN", ("OPEN",)), "close": ("CLOSE", ("CLOSED", "ARCHIVED")),
                 "archive": ("ARCHIVE", ("ARCHIVED",))}


def add_state_routes(router: APIRouter, prefix: str, noun: str,
                     get: Callable[[Any, str], Any]) -> None:
    """``POST {prefix}/{id}/open|close|archive|clone`` as Toloka operations named
    ``<noun>.<KIND>`` (``POOL.OPEN``, ``TRAINING.CLONE``...); ``get(crowd, id)`` reads the
    object (404 before any operation is recorded)."""
    key = f"{noun.lower()}_id"

    def state_route(kind: str, skip_if: tuple[str, ...]) -> Callable[..., Response]:
        def change(object_id: str, request: Request) -> Response:
            crowd = crowd_of(request)
            if get(crowd, object_id).status in skip_if:
                return Response(status_code=204)
            action = {"OPEN": crowd.open_pool, "CLOSE": crowd.close_pool,
                      "ARCHIVE": crowd.archive_pool}[kind]

            def work() -> WorkResult:
                action(object_id)
                return WorkResult()

            op = operations_of(request).run(f"{noun}.{kind}", {key: object_id}, work)
            return JSONResponse(op.to_dict(), status_code=202)

        return change

    def clone(object_id: str, request: Request) -> Response:
        crowd = crowd_of(request)
        get(crowd, object_id)

        def work() -> WorkResult:
            return WorkResult(details={key: str(crowd.clone_pool(object_id).id)})

        op = operations_of(request).run(f"{noun}.CLONE", {key: object_id}, work)
        return JSONResponse(op.to_dict(), status_code=202)

    for action, (kind, skip_if) in STATE_CHANGES.items():
        router.add_api_route(f"{prefix}/{{object_id}}/{action}", state_route(kind, skip_if),
                             methods=["POST"], name=f"{action}_{noun.lower()}")
    router.add_api_route(f"{prefix}/{{object_id}}/clone", clone, methods=["POST"],
                         name=f"clone_{noun.lower()}")


add_state_routes(router, "/pools", "POOL", lambda crowd, pool_id: crowd.get_pool(pool_id))
