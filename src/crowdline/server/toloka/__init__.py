"""The Toloka-compatible REST API subset that the toloka-kit client drives.

The app factory mounts ``router`` at ``/api/v1`` and ``download_router`` at ``/api/new``
(toloka-kit downloads assignment TSVs from ``/api/new/requester/pools/{id}/assignments.tsv``).
Every route needs a requester token (``Authorization: OAuth <token>`` or ``ApiKey <token>``)
and answers errors in Toloka's ``{"code", "message", "payload"}`` shape.

    client = toloka.client.TolokaClient(token, url="http://127.0.0.1:8765")
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from crowdline.server.deps import require_requester
from crowdline.server.toloka import (
    aggregation,
    analytics,
    assignments,
    operations,
    outreach,
    pools,
    projects,
    requester,
    restrictions,
    skills,
    task_suites,
    tasks,
    trainings,
)
from crowdline.server.toloka.routing import TolokaRoute, toloka_error

__all__ = ["PREFIX", "DOWNLOAD_PREFIX", "STAGING_PREFIX", "router", "download_router",
           "staging_router", "not_implemented"]

PREFIX = "/api/v1"
DOWNLOAD_PREFIX = "/api/new"
STAGING_PREFIX = "/api/staging"

router = APIRouter(route_class=TolokaRoute, dependencies=[Depends(require_requester)],
                   tags=["toloka"])
for _module in (requester, projects, pools, trainings, tasks, task_suites, assignments,
                restrictions, skills, aggregation, operations, outreach):
    router.include_router(_module.router)



def not_implemented(request: Request) -> JSONResponse:
    """Toloka endpoints crowdline lacks answer in Toloka's shape, naming the call."""
    return toloka_error(404, "DOES_NOT_EXIST",
                        f"crowdline does not implement {request.method} {request.url.path} "
                        "of Toloka's API; see crowdline/server/toloka/README.md for the "
                        "supported calls")


# Last, so that it only catches what no route above matched.
router.add_api_route("/{path:path}", not_implemented, include_in_schema=False,
                     methods=["GET", "POST", "PUT", "PATCH", "DELETE"])

download_router = APIRouter(route_class=TolokaRoute, dependencies=[Depends(require_requester)],
                            tags=["toloka"])
download_router.include_router(assignments.download_router)

# toloka-kit's get_analytics posts to /api/staging/analytics-2
staging_router = APIRouter(route_class=TolokaRoute, dependencies=[Depends(require_requester)],
                           tags=["toloka"])
staging_router.include_router(analytics.router)
