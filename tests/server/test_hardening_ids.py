"""Ids are parsed once and range-checked: an id that cannot exist is a 404, never a 500
(``OverflowError``); on PostgreSQL the keys are 64-bit, so ids beyond 2**31 work."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa
from server_helpers import LABELS, live_server, make_pool

from crowdline.crowd import tables as t
from crowdline.workspace import Workspace

HUGE = "99999999999999999999999"  # beyond 64 bits
JUST_BEYOND = str(2**63)  # one past the largest 64-bit key


def _requests(ids: str) -> list[tuple[str, str, dict | None]]:
    return [
        ("GET", f"/api/v1/pools/{ids}", None),
        ("PUT", f"/api/v1/pools/{ids}", {"project_id": "1"}),
        ("POST", f"/api/v1/pools/{ids}/open", None),
        ("POST", f"/api/v1/pools/{ids}/close", None),
        ("POST", f"/api/v1/pools/{ids}/clone", None),
        ("GET", f"/api/v1/projects/{ids}", None),
        ("GET", f"/api/v1/tasks/{ids}", None),
        ("PATCH", f"/api/v1/tasks/{ids}/set-overlap-or-min", {"overlap": 2}),
        ("GET", f"/api/v1/assignments/{ids}", None),
        ("GET", f"/api/v1/user-skills/{ids}", None),
        ("GET", f"/api/v1/skills/{ids}", None),
        ("GET", f"/api/crowdline/v1/pools/{ids}/stats", None),
        ("GET", f"/api/crowdline/v1/pools/{ids}/qc-actions", None),
        ("GET", f"/api/v1/tasks?pool_id={ids}", None),
        ("GET", f"/api/v1/pools?project_id={ids}", None),
    ]


@pytest.mark.parametrize("ids", [HUGE, JUST_BEYOND, "-1", "0", "1e3", "abc"])
def test_ids_that_cannot_exist_answer_404_on_every_route(client: httpx.Client,
                                                         server_workspace: Workspace,
                                                         ids: str) -> None:
    crowd = server_workspace.crowd
    requester = {"Authorization": f"OAuth {crowd.create_requester_token()}"}
    make_pool(crowd, real_tasks=2, golden_tasks=1)
    for method, url, body in _requests(ids):
        response = client.request(method, url, json=body, headers=requester)
        assert response.status_code in (404, 200), (method, url, response.text)
        if response.status_code == 200:  # a search: no item matches an impossible id
            assert response.json()["items"] == [], (method, url)
        else:
            assert response.json()["code"] == "DOES_NOT_EXIST", (method, url)


@pytest.mark.parametrize("ids", [HUGE, JUST_BEYOND])
def test_annotator_routes_answer_404_for_impossible_ids(client: httpx.Client,
                                                        server_workspace: Workspace,
                                                        ids: str) -> None:
    crowd = server_workspace.crowd
    make_pool(crowd, real_tasks=2, golden_tasks=1)
    _, token = crowd.invite_worker("ann")
    worker = {"Authorization": f"Bearer {token}"}
    submit = client.post(f"/api/annotator/v1/assignments/{ids}/submit", headers=worker,
                         json={"solutions": [{"output_values": {"category": LABELS[0]}}]})
    assert submit.status_code == 404, submit.text
    skip = client.post(f"/api/annotator/v1/assignments/{ids}/skip", headers=worker)
    assert skip.status_code == 404, skip.text
    suite = client.post("/api/annotator/v1/assignments/next", headers=worker,
                        json={"pool_id": ids})
    assert suite.status_code == 404, suite.text
    client.get(f"/join/{token}")  # the pages, signed in with the invite cookie
    for url in (f"/annotate/pools/{ids}", f"/annotate/pools/{ids}/work"):
        page = client.get(url)
        assert page.status_code == 404, (url, page.text[:200])


def test_keys_beyond_32_bits_work_on_each_back_end(db_workspace: Workspace) -> None:
    """PostgreSQL ids are BIGINT (migration c40wd0000002): a project, pool and task whose
    ids are past 2**31 are stored and served; SQLite's rowids were 64-bit already."""
    crowd = db_workspace.crowd
    big = 3_000_000_000
    with crowd.engine.begin() as conn:
        conn.execute(t.projects.insert().values(
            id=big, public_name="big", status="ACTIVE", created=sa.func.now(),
            config={"public_name": "big", "task_spec": {
                "input_spec": {"headline": {"type": "string"}},
                "output_spec": {"category": {"type": "string", "allowed_values": LABELS}}}}))
        if crowd.engine.dialect.name == "postgresql":
            for table in ("crowd_pools", "crowd_tasks", "crowd_workers", "crowd_assignments"):
                conn.execute(sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {big})"))
    pool = crowd.create_pool({"project_id": str(big), "mixer_config": {"real_tasks_count": 1}})
    report = crowd.create_tasks([{"pool_id": pool.id, "input_values": {"headline": "h"}}],
                                open_pool=True)
    task = next(iter(report.items.values()))
    worker, token = crowd.invite_worker("ann")
    suite = crowd.request_assignment(worker.id, pool.id)
    assert suite is not None
    crowd.submit_assignment(worker.id, suite.id, [{"output_values": {"category": LABELS[1]}}])
    if crowd.engine.dialect.name == "postgresql":
        assert min(int(pool.id), int(task.id), int(worker.id), int(suite.id)) > 2**31
    with live_server(db_workspace) as live:
        requester = {"Authorization": f"OAuth {crowd.create_requester_token()}"}
        got = httpx.get(f"{live.url}/api/v1/tasks/{task.id}", headers=requester)
        assert got.status_code == 200
        assert got.json()["pool_id"] == pool.id
        stats = httpx.get(f"{live.url}/api/crowdline/v1/pools/{pool.id}/stats",
                          headers=requester)
        assert stats.status_code == 200


def test_every_crowd_key_column_is_64_bit_on_postgres(db_workspace: Workspace) -> None:
    """A guard for new tables too: no crowd id column stays a 32-bit INTEGER on PostgreSQL."""
    if db_workspace.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's INTEGER keys are 64-bit rowids")
    with db_workspace.engine.connect() as conn:
        narrow = conn.execute(sa.text(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_name LIKE 'crowd\\_%' AND data_type = 'integer' "
            "AND (column_name = 'id' OR column_name LIKE '%\\_id')")).all()
    assert narrow == []
