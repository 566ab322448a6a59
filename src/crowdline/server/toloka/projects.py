"""Projects: create, get, list, update (Toloka's ``/projects``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from crowdline.crowd.operations import WorkResult
from crowdline.errors import InvalidInput, Unsupported
from crowdline.server.toloka.routing import (
    ID_AND_CREATED,
    TolokaRoute,
    crowd_of,
    json_body,
    operations_of,
    search,
    toloka_json,
    without,
)

router = APIRouter(route_class=TolokaRoute)

# Fields toloka-kit always sends (or echoes back on update) that carry no behaviour here.
_READ_ONLY = ("id", "created", "status", "owner")


def project_config(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidInput("a project must be a JSON object")
    issuing = body.get("assignments_issuing_type", "AUTOMATED")
    if issuing != "AUTOMATED":
        raise Unsupported(f"assignments_issuing_type={issuing!r} is not supported",
                          hint="crowdline issues assignments automatically (AUTOMATED)")
    return without(body, "assignments_issuing_type", *_READ_ONLY)


def project_json(project: Any) -> dict[str, Any]:
    data = toloka_json(project)
    data.setdefault("assignments_issuing_type", "AUTOMATED")
    return data


@router.post("/projects", status_code=201)
async def create_project(request: Request) -> dict[str, Any]:
    config = project_config(await json_body(request))
    return project_json(crowd_of(request).create_project(config))


@router.get("/projects")
def find_projects(request: Request) -> dict[str, Any]:
    items = [project_json(p) for p in crowd_of(request).list_projects()]
    return search(items, request.query_params, equal=("status",),
                  compare=ID_AND_CREATED)


@router.get("/projects/{project_id}")
def get_project(project_id: str, request: Request) -> dict[str, Any]:
    return project_json(crowd_of(request).get_project(project_id))


@router.put("/projects/{project_id}")
async def update_project(project_id: str, request: Request) -> dict[str, Any]:
    config = project_config(await json_body(request))
    return project_json(crowd_of(request).update_project(project_id, config))


@router.post("/projects/{project_id}/archive", status_code=202)
def archive_project(project_id: str, request: Request) -> JSONResponse:
    """A PROJECT.ARCHIVE operation (refused while a pool of the project is open)."""
    crowd = crowd_of(request)
    crowd.get_project(project_id)
    crowd.archive_project(project_id)
    op = operations_of(request).run("PROJECT.ARCHIVE", {"project_id": project_id},
                                    lambda: WorkResult())
    return JSONResponse(op.to_dict(), status_code=202)
