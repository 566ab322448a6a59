"""User restrictions (bans): set, search, get, delete."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request, Response

from crowdline.errors import InvalidInput, NotFound
from crowdline.server.toloka.routing import (
    ID_AND_CREATED,
    TolokaRoute,
    crowd_of,
    json_body,
    search,
    toloka_json,
)
from crowdline.server.toloka.schemas import UserRestrictionIn

router = APIRouter(route_class=TolokaRoute)


@router.put("/user-restrictions", status_code=201)
async def set_user_restriction(request: Request) -> dict[str, Any]:
    body = UserRestrictionIn.model_validate(await json_body(request) or {})
    needs = {"POOL": "pool_id", "PROJECT": "project_id"}.get(body.scope)
    if needs and getattr(body, needs) is None:
        raise InvalidInput(f"a {body.scope} restriction needs {needs}",
                           payload={needs: {"code": "VALUE_REQUIRED",
                                            "message": f"{needs} is required"}})
    duration = None
    if body.will_expire is not None:
        expires = body.will_expire if body.will_expire.tzinfo else \
            body.will_expire.replace(tzinfo=dt.UTC)
        duration = int((expires - dt.datetime.now(dt.UTC)).total_seconds())
        if duration <= 0:
            raise InvalidInput("will_expire is in the past",
                               hint="give a future UTC time, or leave it out for no expiry")
    restriction = crowd_of(request).set_restriction(
        body.user_id, body.scope, pool_id=body.pool_id, project_id=body.project_id,
        duration_seconds=duration, private_comment=body.private_comment)
    return toloka_json(restriction)


@router.get("/user-restrictions")
def find_user_restrictions(request: Request) -> dict[str, Any]:
    query = request.query_params
    found = crowd_of(request).list_restrictions(
        worker_id=query.get("user_id"), pool_id=query.get("pool_id"),
        project_id=query.get("project_id"))
    items = [toloka_json(r) for r in found]
    return search(items, query, equal=("user_id", "pool_id", "project_id", "scope"),
                  compare=ID_AND_CREATED)


def _find(request: Request, restriction_id: str) -> Any:
    for restriction in crowd_of(request).list_restrictions():
        if str(restriction.id) == restriction_id:
            return restriction
    raise NotFound(f"user restriction {restriction_id} does not exist",
                   hint="list them with GET /api/v1/user-restrictions")


@router.get("/user-restrictions/{restriction_id}")
def get_user_restriction(restriction_id: str, request: Request) -> dict[str, Any]:
    return toloka_json(_find(request, restriction_id))


@router.delete("/user-restrictions/{restriction_id}", status_code=204)
def delete_user_restriction(restriction_id: str, request: Request) -> Response:
    _find(request, restriction_id)
    crowd_of(request).delete_restriction(restriction_id)
    return Response(status_code=204)
