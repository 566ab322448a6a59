"""The annotator's hot routes answered ahead of FastAPI give the very answers FastAPI gives."""

from __future__ import annotations

import httpx
from server_helpers import LABELS, make_pool

from crowdline.server.fastpath import _route
from crowdline.workspace import Workspace

NEXT = "/api/annotator/v1/assignments/next"


def test_only_the_two_hot_routes_take_the_fast_path() -> None:
    def scope(method: str, path: str) -> dict:
        return {"type": "http", "method": method, "path": path, "headers": []}

    assert _route(scope("POST", NEXT)) == ("next", None)
    assert _route(scope("POST", "/api/annotator/v1/assignments/12/submit")) == ("submit", "12")
    for method, path in [("GET", NEXT), ("POST", "/api/annotator/v1/assignments/12/skip"),
                         ("POST", "/api/annotator/v1/assignments/1/2/submit"),
                         ("POST", "/api/annotator/v1/assignments//submit"),
                         ("POST", "/api/v1/assignments/next")]:
        assert _route(scope(method, path)) is None


def test_a_cached_token_gets_the_same_answers_as_a_fresh_one(
        client: httpx.Client, server_workspace: Workspace) -> None:
    crowd = server_workspace.crowd
    pool = make_pool(crowd, real_tasks=4, golden_tasks=0, golden=0, overlap=1, real=2)
    _, ann = crowd.invite_worker("ann")
    _, bob = crowd.invite_worker("bob")
    headers = {"Authorization": f"Bearer {ann}"}
    suite = client.post(NEXT, json={"pool_id": pool.id}, headers=headers).json()
    url = f"/api/annotator/v1/assignments/{suite['id']}/submit"
    good = {"solutions": [{"output_values": {"category": LABELS[0]}}] * len(suite["tasks"])}
    # bob's first request authenticates through FastAPI, the second comes from the cache
    first = client.post(url, json=good, headers={"Authorization": f"Bearer {bob}"})
    second = client.post(url, json=good, headers={"Authorization": f"Bearer {bob}"})
    assert (first.status_code, second.status_code) == (403, 403)
    assert first.json() == second.json()
    assert first.json()["code"] == "NOT_YOUR_ASSIGNMENT"
    # a body FastAPI would refuse is handed to FastAPI, which refuses it in its words
    bad = client.post(url, json={**good, "idempotency_key": "x" * 201}, headers=headers)
    assert bad.status_code == 400
    assert bad.json()["code"] == "VALIDATION_ERROR"
    assert "idempotency_key" in bad.json()["message"]
    # a body without a content type is still JSON to both
    raw = client.post(url, content=httpx.Request("POST", "/", json=good).content,
                      headers=headers)
    assert raw.status_code == 200, raw.text
    assert raw.headers["content-type"] == "application/json"
    assert crowd.get_assignment(suite["id"]).status in ("SUBMITTED", "ACCEPTED")
    twice = client.post(url, json=good, headers=headers)
    assert twice.status_code == 409
    assert twice.json()["code"] == "ASSIGNMENT_NOT_ACTIVE"
    # an empty body asks for any open pool, as it does through FastAPI
    more = client.post(NEXT, headers=headers)
    assert more.status_code == 200
    assert len(more.json()["tasks"]) == 2
