"""The authorization matrix, generated from the app's routes (the OpenAPI paths and the
pages): every route × {no credentials, a made-up token, a worker, another worker, a banned
worker, a requester}. Each route must match a rule below; a new route that matches none
fails this test until someone decides who may call it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.routing import APIRoute
from server_helpers import LABELS, live_server, make_pool

from crowdline.workspace import Workspace

# (path prefix, audience), first match wins. "requester" / "worker": only that role's
# Authorization header passes; pages: refused without the right session.
RULES: list[tuple[str, str]] = [
    ("/healthz", "public"),
    ("/openapi.json", "public"),
    ("/docs", "public"),
    ("/redoc", "public"),
    ("/api/annotator/", "worker"),
    ("/api/", "requester"),
    ("/join/", "invite"),
    ("/annotate", "worker-page"),
    ("/dashboard", "requester-page"),
]
EXACT = {"/": "public",
         "/api/{path:path}": "not-found"}  # any unknown API path: Toloka's 404 body, no data
IDENTITIES = ("none", "made-up", "worker", "another worker", "banned worker", "requester")


def audience(path: str) -> str | None:
    if path in EXACT:
        return EXACT[path]
    return next((who for prefix, who in RULES if path.startswith(prefix)), None)


@pytest.fixture
def matrix_workspace(tmp_path: Path, clean_env: None) -> Iterator[Workspace]:
    ws = Workspace.init(tmp_path / "ws", auth_failures_per_minute=0)
    yield ws
    ws.close()


def _routes(app) -> list[tuple[str, str]]:
    """(method, path) of every route: the OpenAPI operations and the pages."""
    found = set()
    for path, item in app.openapi()["paths"].items():
        found.update((method.upper(), path) for method in item)
    for route in app.routes:
        if isinstance(route, APIRoute) and not route.include_in_schema:
            found.update((m, route.path) for m in route.methods)
    return sorted(found)


def test_every_route_has_a_rule_and_refuses_whoever_it_should(
        matrix_workspace: Workspace) -> None:
    ws = matrix_workspace
    crowd = ws.crowd
    pool = make_pool(crowd, real_tasks=6, golden_tasks=2)
    ann, ann_token = crowd.invite_worker("ann")
    _, bob_token = crowd.invite_worker("bob")
    banned, banned_token = crowd.invite_worker("banned")
    crowd.set_restriction(banned.id, "ALL_PROJECTS", private_comment="spam")
    suite = crowd.request_assignment(ann.id, pool.id)
    assert suite is not None
    skill = crowd.create_skill("s")
    requester = crowd.create_requester_token("r")
    headers = {"none": {}, "made-up": {"Authorization": "OAuth made-up-token"},
               "worker": {"Authorization": f"Bearer {ann_token}"},
               "another worker": {"Authorization": f"Bearer {bob_token}"},
               "banned worker": {"Authorization": f"Bearer {banned_token}"},
               "requester": {"Authorization": f"OAuth {requester}"}}
    values = {"pool_id": pool.id, "project_id": pool.project_id, "assignment_id": suite.id,
              "task_id": crowd.list_tasks(pool.id)[0].id, "worker_id": ann.id,
              "user_id": ann.id, "skill_id": skill.id, "token": "cwk_not-a-token",
              "path": "nothing/here", "fmt": "csv", "training_id": pool.id}
    with live_server(ws) as live, httpx.Client(base_url=live.url, timeout=30) as http:
        # first the worker columns in detail: another worker cannot touch ann's suite, a
        # banned worker gets nothing (the matrix below then skips ann's suite itself)
        for action in ("submit", "skip"):
            stolen = http.post(f"/api/annotator/v1/assignments/{suite.id}/{action}",
                               headers=headers["another worker"],
                               json={"solutions": [{"output_values": {"category": LABELS[0]}}]
                                     * len(suite.tasks)})
            assert stolen.status_code in (403, 404, 409), (action, stolen.text)
        assert crowd.get_assignment(suite.id).status == "ACTIVE"
        nothing = http.post("/api/annotator/v1/assignments/next", headers=headers[
            "banned worker"], json={"pool_id": pool.id})
        assert nothing.status_code in (204, 403), nothing.text
        routes = _routes(live.app)
        assert len(routes) >= 50
        unruled = [f"{m} {p}" for m, p in routes if audience(p) is None]
        assert unruled == [], f"routes without an authorization rule: {unruled}"
        problems = []
        checked = 0
        for method, path in routes:
            who = audience(path)
            if who == "public" or method in ("HEAD", "OPTIONS"):
                continue
            url = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values.get(m.group(1), "1"), path)
            for identity in IDENTITIES:
                if identity == "requester" and method != "GET":
                    continue  # requester writes: covered by the fuzz (no 5xx) and the API tests
                response = http.request(method, url, headers=headers[identity],
                                        json={} if method != "GET" else None)
                checked += 1
                if response.status_code >= 500:
                    problems.append((method, url, identity, response.status_code))
                elif not _as_expected(who, identity, response):
                    problems.append((method, url, identity, response.status_code))
        assert problems == [], problems[:20]
        assert checked >= 5 * len(routes) - 20


def _as_expected(who: str, identity: str, response: httpx.Response) -> bool:
    status = response.status_code
    refused = status in (401, 403)
    page_refused = refused or (status in (302, 303, 307)
                               and "signin" in response.headers.get("location", "")) \
        or "sign in" in response.text.lower() or "invite link" in response.text.lower()
    if who == "requester":
        return (not refused) if identity == "requester" else status == 401
    if who == "worker":
        workers = ("worker", "another worker", "banned worker")
        return (status != 401) if identity in workers else status == 401
    if who == "requester-page":
        return (not refused) if identity == "requester" else page_refused
    if who == "worker-page":
        workers = ("worker", "another worker", "banned worker")
        return True if identity in workers else page_refused
    if who == "not-found":
        return status == 404
    if who == "invite":
        return status == 401  # a made-up invite link never signs anyone in
    return False
