"""Skills and the values workers hold in them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request

from crowdline.errors import NotFound, Unsupported
from crowdline.server.toloka.routing import (
    ID_AND_CREATED,
    TolokaRoute,
    crowd_of,
    json_body,
    search,
    toloka_json,
)
from crowdline.server.toloka.schemas import SetUserSkillIn, SkillIn

router = APIRouter(route_class=TolokaRoute)


def skill_json(skill: Any) -> dict[str, Any]:
    # crowdline never shows skills to annotators, so every skill is hidden.
    return {**toloka_json(skill), "hidden": True}


@router.post("/skills", status_code=201)
async def create_skill(request: Request) -> dict[str, Any]:
    body = SkillIn.model_validate(await json_body(request) or {})
    for name in ("public_name", "public_requester_description"):
        if getattr(body, name):
            raise Unsupported(f"skill field {name} is not supported: crowdline never shows "
                              "skills to annotators", hint=f"leave {name} out")
    if body.hidden is False:
        raise Unsupported("skill field hidden=false is not supported: crowdline never shows "
                          "skills to annotators", hint="leave hidden out or set it true")
    skill = crowd_of(request).create_skill(body.name, private_comment=body.private_comment)
    return skill_json(skill)


@router.get("/skills")
def find_skills(request: Request) -> dict[str, Any]:
    items = [skill_json(s) for s in crowd_of(request).list_skills()]
    return search(items, request.query_params, equal=("name",), compare=ID_AND_CREATED)


@router.get("/skills/{skill_id}")
def get_skill(skill_id: str, request: Request) -> dict[str, Any]:
    return skill_json(crowd_of(request).get_skill(skill_id))


def user_skill_json(user_skill: Any) -> dict[str, Any]:
    data = toloka_json(user_skill)
    exact = data.get("exact_value", data.get("value"))
    if exact is not None:
        data["exact_value"] = float(exact)
        data["value"] = int(round(float(exact)))
    return data


@router.put("/user-skills")
async def set_user_skill(request: Request) -> dict[str, Any]:
    body = SetUserSkillIn.model_validate(await json_body(request) or {})
    crowd = crowd_of(request)
    crowd.get_skill(body.skill_id)  # 404 for an unknown skill
    result = crowd.set_worker_skill(body.user_id, body.skill_id, float(body.value))
    return user_skill_json(result)


@router.get("/user-skills")
def find_user_skills(request: Request) -> dict[str, Any]:
    query = request.query_params
    found = crowd_of(request).get_worker_skills(worker_id=query.get("user_id"),
                                                skill_id=query.get("skill_id"))
    items = [user_skill_json(s) for s in found]
    return search(items, query, equal=("user_id", "skill_id"),
                  compare={**ID_AND_CREATED, "modified": dt.datetime})


@router.get("/user-skills/{user_skill_id}")
def get_user_skill(user_skill_id: str, request: Request) -> dict[str, Any]:
    for user_skill in crowd_of(request).get_worker_skills():
        if str(user_skill.id) == user_skill_id:
            return user_skill_json(user_skill)
    raise NotFound(f"user skill {user_skill_id} does not exist",
                   hint="list them with GET /api/v1/user-skills")
