"""Wake conditions the pipelines part polls while a step waits for humans.

    pool_complete(workspace, {"pool_id": "7"}) -> True once every real task of the pool
    reached its overlap and no task suite is still being worked on.
"""

from __future__ import annotations

from typing import Any

from crowdline.errors import InvalidInput


def pool_complete(workspace: Any, params: dict[str, Any]) -> bool:
    pool_id = (params or {}).get("pool_id")
    if pool_id in (None, ""):
        raise InvalidInput("the pool_complete condition needs a pool_id",
                           hint='e.g. {"pool_id": "7"}')
    return workspace.crowd.is_pool_complete(str(pool_id))
