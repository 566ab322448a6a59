"""The annotator HTTP API through the real app: auth, the suite lifecycle, bad submits, no leaks."""

from __future__ import annotations

import re

import httpx
import pytest
from server_helpers import HINT, LABELS, LiveServer, make_pool

from crowdline.workspace import Workspace

NEXT = "/api/annotator/v1/assignments/next"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def answers_count(ws: Workspace, pool_id: str) -> int:
    return len(ws.crowd.answers_frame(pool_id, include_golden=True))


def test_a_suite_is_fetched_submitted_and_stored(client: httpx.Client,
                                                 server_workspace: Workspace) -> None:
    crowd = server_workspace.crowd
    pool = make_pool(crowd, real_tasks=3, golden_tasks=1, overlap=1)
    _, token = crowd.invite_worker("ann")
    suite = client.post(NEXT, json={"pool_id": pool.id}, headers=bearer(token))
    assert suite.status_code == 200, suite.text
    body = suite.json()
    assert len(body["tasks"]) == 4
    assert [label["key"] for label in body["labels"]] == ["1", "2"]
    # a reload gets the same suite back
    again = client.post(NEXT, json={"pool_id": pool.id}, headers=bearer(token))
    assert again.json()["id"] == body["id"]
    solutions = [{"output_values": {"category": LABELS[0]}} for _ in body["tasks"]]
    submitted = client.post(f"/api/annotator/v1/assignments/{body['id']}/submit",
                            json={"solutions": solutions, "idempotency_key": "k1"},
                            headers=bearer(token))
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] in ("SUBMITTED", "ACCEPTED")
    assert answers_count(server_workspace, pool.id) == 4
    # the same submit retried with its key is accepted once, with the first result
    retried = client.post(f"/api/annotator/v1/assignments/{body['id']}/submit",
                          json={"solutions": solutions, "idempotency_key": "k1"},
                          headers=bearer(token))
    assert retried.status_code == 200
    assert retried.json() == submitted.json()
    assert answers_count(server_workspace, pool.id) == 4
    # overlap 1 and every task taken: no more tasks
    assert client.post(NEXT, json={"pool_id": pool.id}, headers=bearer(token)).status_code == 204


def test_bad_submissions_get_a_4xx_and_change_nothing(client: httpx.Client,
                                                      server_workspace: Workspace) -> None:
    crowd = server_workspace.crowd
    pool = make_pool(crowd, real_tasks=6, golden_tasks=0, golden=0, overlap=2, real=2)
    _, ann = crowd.invite_worker("ann")
    _, bob = crowd.invite_worker("bob")
    suite = client.post(NEXT, json={"pool_id": pool.id}, headers=bearer(ann)).json()
    url = f"/api/annotator/v1/assignments/{suite['id']}/submit"
    good = [{"output_values": {"category": LABELS[1]}} for _ in suite["tasks"]]
    cases = [
        ({"solutions": [{"output_values": {"category": "spam"}}] * 2}, ann, 400,
         "UNKNOWN_LABEL"),
        ({"solutions": good}, bob, 403, "NOT_YOUR_ASSIGNMENT"),
        ({"solutions": good, "extra": 1}, ann, 400, "VALIDATION_ERROR"),
        ({"solutions": good}, "not-a-token", 401, "AUTHENTICATION_ERROR"),
    ]
    for body, token, status, code in cases:
        response = client.post(url, json=body, headers=bearer(token))
        assert response.status_code == status, response.text
        error = response.json()
        assert error["code"] == code
        assert error["message"]
        assert "payload" in error
    assert answers_count(server_workspace, pool.id) == 0
    assert crowd.get_assignment(suite["id"]).status == "ACTIVE"
    missing = client.post("/api/annotator/v1/assignments/999999/submit", json={"solutions": good},
                          headers=bearer(ann))
    assert missing.status_code == 404
    assert missing.json()["code"] == "DOES_NOT_EXIST"
    # submitted once, a second submit with another key is a conflict
    assert client.post(url, json={"solutions": good}, headers=bearer(ann)).status_code == 200
    twice = client.post(url, json={"solutions": good, "idempotency_key": "other"},
                        headers=bearer(ann))
    assert twice.status_code == 409
    assert answers_count(server_workspace, pool.id) == 2


def test_skip_returns_the_suite_and_skipping_twice_is_a_conflict(
        client: httpx.Client, server_workspace: Workspace) -> None:
    crowd = server_workspace.crowd
    pool = make_pool(crowd, real_tasks=4, golden_tasks=0, golden=0, overlap=1, real=2)
    _, token = crowd.invite_worker("ann")
    suite = client.post(NEXT, json={}, headers=bearer(token)).json()
    skipped = client.post(f"/api/annotator/v1/assignments/{suite['id']}/skip",
                          headers=bearer(token))
    assert skipped.json() == {"id": suite["id"], "status": "SKIPPED"}
    again = client.post(f"/api/annotator/v1/assignments/{suite['id']}/skip",
                        headers=bearer(token))
    assert again.status_code == 409
    assert crowd.get_pool(pool.id).status == "OPEN"


def test_golden_answers_and_hints_never_reach_an_annotator(client: httpx.Client,
                                                           server_workspace: Workspace) -> None:
    crowd = server_workspace.crowd
    pool = make_pool(crowd, real_tasks=4, golden_tasks=4, overlap=1, real=1, golden=1)
    _, token = crowd.invite_worker("ann")
    client.get(f"/join/{token}")  # the browser's cookie, for the pages
    bodies: list[str] = []
    while True:
        response = client.post(NEXT, json={"pool_id": pool.id}, headers=bearer(token))
        bodies.append(response.text)
        if response.status_code == 204:
            break
        suite = response.json()
        for task in suite["tasks"]:
            assert set(task) == {"id", "input_values"}
        assert "output_values" not in response.text  # no answer of any kind rides along
        page = client.get(f"/annotate/pools/{pool.id}/work")
        assert " checked" not in page.text  # nothing pre-selected, golden or not
        bodies.append(page.text)
        bodies.append(client.get(f"/annotate/pools/{pool.id}").text)
        bodies.append(client.get("/annotate").text)
        solutions = [{"output_values": {"category": LABELS[0]}} for _ in suite["tasks"]]
        done = client.post(f"/api/annotator/v1/assignments/{suite['id']}/submit",
                           json={"solutions": solutions}, headers=bearer(token))
        bodies.append(done.text)
    golden_seen = [b for b in bodies if "golden " in b]
    assert golden_seen, "the worker never got a control task"
    for body in bodies:
        assert "known_solutions" not in body
        assert HINT not in body
        assert "GOLDEN" not in body.upper().replace("GOLDEN ", "")  # headline text aside


def test_a_worker_token_cannot_use_requester_routes_and_back(client: httpx.Client,
                                                             server_workspace: Workspace) -> None:
    crowd = server_workspace.crowd
    make_pool(crowd)
    _, worker_token = crowd.invite_worker("ann")
    requester_token = crowd.create_requester_token("t")
    assert client.get("/api/crowdline/v1/workers",
                      headers=bearer(worker_token)).status_code == 401
    assert client.get("/api/v1/pools", headers={"Authorization": f"OAuth {worker_token}"}
                      ).status_code == 401
    assert client.post(NEXT, json={}, headers=bearer(requester_token)).status_code == 401
    assert client.get("/api/crowdline/v1/workers",
                      headers={"Authorization": f"OAuth {requester_token}"}).status_code == 200


def test_every_api_route_needs_authentication(client: httpx.Client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    checked = 0
    for path, operations in paths.items():
        if not path.startswith("/api/"):
            continue
        url = path
        while "{" in url:
            start = url.index("{")
            url = url[:start] + "1" + url[url.index("}", start) + 1:]
        for method in operations:
            response = client.request(method.upper(), url, json={})
            assert response.status_code == 401, f"{method} {path}: {response.status_code}"
            checked += 1
    assert checked >= 10


@pytest.mark.parametrize("path", ["/annotate", "/annotate/pools/1", "/annotate/pools/1/work"])
def test_annotator_pages_ask_for_the_invite_link_without_a_cookie(client: httpx.Client,
                                                                  path: str) -> None:
    response = client.get(path)
    assert response.status_code == 401
    assert "invite link" in response.text


def test_openapi_documents_the_annotator_api(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    assert "/api/annotator/v1/assignments/next" in spec["paths"]
    assert "/api/annotator/v1/assignments/{assignment_id}/submit" in spec["paths"]
    assert "/api/crowdline/v1/pools/{pool_id}/tasks/upload" in spec["paths"]
    assert spec["components"]["securitySchemes"]


def test_an_annotator_sets_their_profile_once(server: LiveServer) -> None:
    crowd = server.workspace.crowd
    worker, token = crowd.invite_worker("ann")
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{server.url}/api/annotator/v1/profile"
    assert httpx.get(url, headers=headers, timeout=30).json()["profile"] == {}
    bad = httpx.put(url, json={"profile": {"languages": "EN", "eye_colour": "blue"}},
                    headers=headers, timeout=30)
    assert bad.status_code == 400
    assert "eye_colour" in bad.json()["message"]
    done = httpx.put(url, json={"profile": {"languages": ["en"], "country": "fr"}},
                     headers=headers, timeout=30)
    assert done.status_code == 200
    assert done.json()["profile"] == {"languages": ["EN"], "country": "FR"}
    again = httpx.put(url, json={"profile": {"languages": ["DE"]}}, headers=headers, timeout=30)
    assert again.status_code == 409
    assert crowd.get_worker(worker.id).profile == {"languages": ["EN"], "country": "FR"}
    assert httpx.put(url, json={"profile": {}}, timeout=30).status_code == 401


def test_an_annotator_sets_their_profile_once_in_the_page(server: LiveServer) -> None:
    crowd = server.workspace.crowd
    worker, token = crowd.invite_worker("ann")
    with httpx.Client(base_url=server.url, timeout=30, follow_redirects=True) as http:
        http.get(f"/join/{token}")
        form_page = http.get("/annotate/profile").text
        assert 'id="profile-form"' in form_page
        hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"',
                                 form_page))
        shown = http.post("/annotate/profile",
                          data={**hidden, "languages": "en, de", "country": "gb"})
        assert shown.status_code == 200
        assert "Languages: DE, EN" in shown.text
        assert 'id="profile-form"' not in shown.text  # once: no form any more
        again = http.post("/annotate/profile", data={**hidden, "languages": "fr"})
        assert again.status_code == 409
    assert crowd.get_worker(worker.id).profile == {"languages": ["DE", "EN"], "country": "GB"}
