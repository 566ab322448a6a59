"""The config validation layer behind the REST and Toloka-compatible APIs: a pool whose QC
collector parameter or condition value has the wrong type is refused at create time with a
400 naming the field (it used to be accepted, and then every submit in the pool answered 500
and the annotator's suite stayed ACTIVE)."""

from __future__ import annotations

import httpx
import pytest
from server_helpers import LABELS, LiveServer, make_pool, pool_config, project_config


def _qc(history: object, value: object) -> dict:
    return {"configs": [{
        "collector_config": {"type": "GOLDEN_SET", "parameters": {"history_size": history}},
        "rules": [{"conditions": [
            {"key": "golden_set_correct_answers_rate", "operator": "LT", "value": value}],
            "action": {"type": "RESTRICTION_V2", "parameters": {
                "scope": "POOL", "duration_unit": "PERMANENT"}}}]}]}


@pytest.mark.parametrize(("history", "value", "field"), [
    ("abc", 50, "parameters.history_size"),
    (-1, 50, "parameters.history_size"),
    (5, "abc", "conditions[0].value"),
])
def test_the_toloka_api_refuses_bad_quality_control(client: httpx.Client, server: LiveServer,
                                                    history: object, value: object,
                                                    field: str) -> None:
    crowd = server.workspace.crowd
    auth = {"Authorization": f"OAuth {crowd.create_requester_token('r')}"}
    project = crowd.create_project(project_config())
    created = client.post("/api/v1/pools", headers=auth, json=pool_config(
        project.id, quality_control=_qc(history, value)))
    assert created.status_code == 400, created.text
    assert created.json()["code"] == "VALIDATION_ERROR"
    assert field in created.json()["message"]
    assert crowd.list_pools() == []


def test_a_valid_pool_still_takes_submits_over_http(client: httpx.Client,
                                                    server: LiveServer) -> None:
    crowd = server.workspace.crowd
    pool = make_pool(crowd, real_tasks=2, golden_tasks=2, overlap=1, real=1, golden=1,
                     quality_control=_qc(5, 50))
    _, token = crowd.invite_worker("ann")
    worker = {"Authorization": f"Bearer {token}"}
    suite = client.post("/api/annotator/v1/assignments/next", headers=worker,
                        json={"pool_id": pool.id}).json()
    done = client.post(f"/api/annotator/v1/assignments/{suite['id']}/submit", headers=worker,
                       json={"solutions": [{"output_values": {"category": LABELS[0]}}]
                             * len(suite["tasks"])})
    assert done.status_code == 200, done.text
    assert crowd.get_assignment(suite["id"]).status in ("SUBMITTED", "ACCEPTED")
