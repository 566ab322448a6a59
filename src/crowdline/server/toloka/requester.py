"""``GET /requester``: who the token belongs to."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from crowdline.server.deps import require_requester
from crowdline.server.toloka.routing import TolokaRoute

router = APIRouter(route_class=TolokaRoute)


@router.get("/requester")
def get_requester(requester: Any = Depends(require_requester)) -> dict[str, Any]:
    # A self-hosted crowd has no money account: the balance is reported as 0.
    return {"id": str(requester.id), "balance": 0, "public_name": {"EN": requester.name}}
