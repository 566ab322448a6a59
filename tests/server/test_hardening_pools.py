"""Workers see only the pools they may work in: a closed pool's or a banned worker's
instructions page is refused, and the pool list leaves such pools out."""

from __future__ import annotations

import httpx
from server_helpers import LiveServer, make_pool


def test_instructions_of_closed_or_forbidden_pools_are_refused(client: httpx.Client,
                                                               server: LiveServer) -> None:
    crowd = server.workspace.crowd
    open_pool = make_pool(crowd, real_tasks=2, golden_tasks=0, golden=0, overlap=1, real=1)
    closed = make_pool(crowd, real_tasks=2, golden_tasks=0, golden=0, overlap=1, real=1)
    crowd.close_pool(closed.id)
    banned_from = make_pool(crowd, real_tasks=2, golden_tasks=0, golden=0, overlap=1, real=1)
    worker, token = crowd.invite_worker("ann")
    crowd.set_restriction(worker.id, "POOL", pool_id=banned_from.id, private_comment="spam")
    listed = client.get(f"/join/{token}").text
    assert f"/annotate/pools/{open_pool.id}" in listed
    assert f"/annotate/pools/{closed.id}\"" not in listed
    assert f"/annotate/pools/{banned_from.id}\"" not in listed
    assert client.get(f"/annotate/pools/{open_pool.id}").status_code == 200
    for pool in (closed, banned_from):
        refused = client.get(f"/annotate/pools/{pool.id}")
        assert refused.status_code == 403, refused.text[:300]
        assert "withholds" not in refused.text  # the instructions are not shown
    crowd.archive_pool(closed.id)
    assert client.get(f"/annotate/pools/{closed.id}").status_code == 403
