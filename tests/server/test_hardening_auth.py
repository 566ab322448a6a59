"""Failed authentication is throttled per client address: past the limit, 429 with
Retry-After (not 200 × 401); other addresses and valid tokens elsewhere are unaffected."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from server_helpers import LiveServer, live_server

from crowdline.workspace import Workspace


def test_200_wrong_tokens_end_in_429_with_retry_after(client: httpx.Client,
                                                      server: LiveServer) -> None:
    statuses = []
    for i in range(200):
        response = client.get("/api/v1/pools", headers={"Authorization": f"OAuth wrong-{i}"})
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert int(response.headers["Retry-After"]) >= 1
            assert response.json()["code"] == "TOO_MANY_REQUESTS"
    limit = server.workspace.settings.auth_failures_per_minute
    assert statuses[:limit] == [401] * limit
    assert set(statuses[limit:]) == {429}
    # while the address is blocked even a valid token waits (the attacker cannot probe)
    token = server.workspace.crowd.create_requester_token("r")
    blocked = client.get("/api/v1/pools", headers={"Authorization": f"OAuth {token}"})
    assert blocked.status_code == 429
    # another client address is not blocked
    other = httpx.Client(base_url=server.url,
                         transport=httpx.HTTPTransport(local_address="127.0.0.2"))
    with other:
        assert other.get("/api/v1/pools",
                         headers={"Authorization": f"OAuth {token}"}).status_code == 200


def _throttled(tmp_path: Path, limit: int) -> Workspace:
    return Workspace.init(tmp_path / "ws", auth_failures_per_minute=limit)


def test_worker_tokens_invite_links_and_sign_in_count_too(tmp_path: Path,
                                                           clean_env: None) -> None:
    ws = _throttled(tmp_path, 3)
    try:
        with live_server(ws) as live, httpx.Client(base_url=live.url) as http:
            codes = [http.post("/api/annotator/v1/assignments/next",
                               headers={"Authorization": f"Bearer nope-{i}"}).status_code
                     for i in range(5)]
            assert codes == [401, 401, 401, 429, 429]
            assert http.get("/join/cwk_nope").status_code == 429
            signin = http.get("/dashboard/signin").text
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', signin).group(1)
            refused = http.post("/dashboard/signin", data={"token": "x", "csrf_token": csrf})
            assert refused.status_code == 429
            assert "Retry-After" in refused.headers
    finally:
        ws.close()


def test_no_credentials_is_not_a_failed_attempt_and_zero_disables(tmp_path: Path,
                                                                   clean_env: None) -> None:
    ws = _throttled(tmp_path, 0)
    try:
        with live_server(ws) as live, httpx.Client(base_url=live.url) as http:
            for i in range(50):
                assert http.get("/api/v1/pools", headers={
                    "Authorization": f"OAuth bad-{i}"}).status_code == 401
    finally:
        ws.close()
    ws = _throttled(tmp_path / "second", 2)
    try:
        with live_server(ws) as live, httpx.Client(base_url=live.url) as http:
            assert {http.get("/api/v1/pools").status_code for _ in range(20)} == {401}
    finally:
        ws.close()
