"""Pool analytics (``POST /api/staging/analytics-2``, toloka-kit's ``get_analytics``).

The request is a list of ``{subject: POOL, subject_id, name[, interval_hours]}``; the answer
is a finished ANALYTICS operation whose ``details.value`` holds one
``{request, result: {value}, finished: true}`` per request, in order.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from crowdline.crowd.analytics import SUBJECTS
from crowdline.crowd.operations import WorkResult
from crowdline.errors import InvalidInput, Unsupported
from crowdline.server.toloka.routing import TolokaRoute, crowd_of, json_body, operations_of

router = APIRouter(route_class=TolokaRoute)

REQUEST_FIELDS = {"subject", "subject_id", "name", "interval_hours"}


def _check(item: Any, position: int) -> dict[str, Any]:
    where = f"request[{position}]"
    if not isinstance(item, dict):
        raise InvalidInput(f"{where} must be an object with subject, subject_id and name")
    extra = sorted(set(item) - REQUEST_FIELDS)
    if extra:
        raise Unsupported(f"{where} has unsupported field(s) {', '.join(extra)}")
    if item.get("subject") != "POOL":
        raise Unsupported(f"{where}.subject {item.get('subject')!r} is not supported",
                          hint="crowdline answers POOL analytics")
    if item.get("name") not in SUBJECTS:
        raise Unsupported(f"{where}.name {item.get('name')!r} is not supported",
                          hint=f"use one of {', '.join(SUBJECTS)}")
    if not item.get("subject_id"):
        raise InvalidInput(f"{where}.subject_id is missing", hint="give the pool id")
    return item


@router.post("/analytics-2", status_code=202)
async def get_analytics(request: Request) -> JSONResponse:
    body = await json_body(request)
    if not isinstance(body, list) or not body:
        raise InvalidInput("analytics requests must be a non-empty JSON list")
    items = [_check(item, i) for i, item in enumerate(body)]
    crowd = crowd_of(request)
    for item in items:
        crowd.get_pool(str(item["subject_id"]))  # 404 before an operation is recorded

    def work() -> WorkResult:
        values = [{"request": item, "finished": True, "result": {"value": crowd.pool_analytics(
            str(item["subject_id"]), item["name"], interval_hours=item.get("interval_hours"))}}
            for item in items]
        return WorkResult(details={"value": values})

    op = operations_of(request).run("ANALYTICS", {"value": items}, work)
    return JSONResponse(op.to_dict(), status_code=202)
