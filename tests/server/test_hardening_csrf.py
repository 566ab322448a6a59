"""CSRF: a cross-site request carrying the cookie changes nothing. Forms need the per-session
token of the browser that shows them and an allowed Origin; the JSON and upload APIs do not
accept cookies at all; the sign-in form is guarded too (login CSRF)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from server_helpers import LABELS, LiveServer, live_server, make_pool

from crowdline.server.csrf import CSRF_COOKIE
from crowdline.server.deps import REQUESTER_COOKIE, WORKER_COOKIE
from crowdline.workspace import Workspace

EVIL = "http://evil.example:8765"


def hidden_fields(page: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))


def _suite_form(client: httpx.Client, pool_id: str) -> tuple[str, dict[str, str]]:
    page = client.get(f"/annotate/pools/{pool_id}/work").text
    suite_id = re.search(r'action="/annotate/assignments/(\d+)/submit"', page).group(1)
    fields = hidden_fields(page)
    for index in range(int(fields["task_count"])):
        fields[f"answer-{index}"] = LABELS[0]
    return suite_id, fields


def test_the_answer_form_needs_its_token_and_an_allowed_origin(client: httpx.Client,
                                                               server: LiveServer) -> None:
    crowd = server.workspace.crowd
    pool = make_pool(crowd, real_tasks=4, golden_tasks=0, golden=0, overlap=1, real=2)
    _, token = crowd.invite_worker("ann")
    client.get(f"/join/{token}")
    suite_id, fields = _suite_form(client, pool.id)
    assert fields["csrf_token"]
    assert client.cookies.get(CSRF_COOKIE)
    url = f"/annotate/assignments/{suite_id}/submit"
    # another site posts the form, the browser adds the cookies (and says where it came from)
    forged = client.post(url, data=fields, headers={"Origin": EVIL})
    assert forged.status_code == 403, forged.text
    assert "another site" in forged.text
    by_referer = client.post(url, data=fields, headers={"Referer": f"{EVIL}/page"})
    assert by_referer.status_code == 403
    # a forger that cannot read the page does not know the token
    without = client.post(url, data={k: v for k, v in fields.items() if k != "csrf_token"})
    assert without.status_code == 403
    guessed = client.post(url, data={**fields, "csrf_token": "0" * 64})
    assert guessed.status_code == 403
    assert crowd.get_assignment(suite_id).status == "ACTIVE"  # nothing was submitted
    # a token from another browser session does not fit this browser's cookie
    with httpx.Client(base_url=server.url, follow_redirects=True) as other:
        other.get(f"/join/{token}")
        _, other_fields = _suite_form(other, pool.id)
    stolen = client.post(url, data={**fields, "csrf_token": other_fields["csrf_token"]})
    assert stolen.status_code == 403
    assert crowd.get_assignment(suite_id).status == "ACTIVE"
    # the page itself, from its own origin, works
    done = client.post(url, data=fields, headers={"Origin": server.url})
    assert done.status_code == 200, done.text
    assert crowd.get_assignment(suite_id).status in ("SUBMITTED", "ACCEPTED")


def test_skip_and_sign_out_are_guarded_too(client: httpx.Client, server: LiveServer) -> None:
    crowd = server.workspace.crowd
    pool = make_pool(crowd, real_tasks=4, golden_tasks=0, golden=0, overlap=1, real=2)
    _, token = crowd.invite_worker("ann")
    client.get(f"/join/{token}")
    suite_id, _ = _suite_form(client, pool.id)
    skipped = client.post(f"/annotate/assignments/{suite_id}/skip", data={"pool_id": pool.id})
    assert skipped.status_code == 403
    assert crowd.get_assignment(suite_id).status == "ACTIVE"
    out = client.post("/annotate/signout", headers={"Origin": EVIL})
    assert out.status_code == 403
    assert client.cookies.get(WORKER_COOKIE)


def test_login_csrf_is_closed(client: httpx.Client, server: LiveServer) -> None:
    """An attacker cannot sign a victim's browser in with the attacker's token."""
    token = server.workspace.crowd.create_requester_token("attacker")
    blind = client.post("/dashboard/signin", data={"token": token})
    assert blind.status_code == 403
    assert client.cookies.get(REQUESTER_COOKIE) is None
    csrf = hidden_fields(client.get("/dashboard/signin").text)["csrf_token"]
    cross = client.post("/dashboard/signin", data={"token": token, "csrf_token": csrf},
                        headers={"Origin": EVIL})
    assert cross.status_code == 403
    assert client.cookies.get(REQUESTER_COOKIE) is None
    signed = client.post("/dashboard/signin", data={"token": token, "csrf_token": csrf})
    assert signed.url.path == "/dashboard"
    assert client.cookies.get(REQUESTER_COOKIE)


def test_the_apis_do_not_accept_cookies(client: httpx.Client, server: LiveServer) -> None:
    """The invite API, the multipart upload and the annotator API with a cookie and no
    Authorization header: 401, nothing created."""
    crowd = server.workspace.crowd
    pool = make_pool(crowd, real_tasks=2, golden_tasks=0, golden=0, overlap=1, real=1)
    requester = crowd.create_requester_token("r")
    _, worker = crowd.invite_worker("ann")
    client.cookies.set(REQUESTER_COOKIE, requester)
    client.cookies.set(WORKER_COOKIE, worker)
    invite = client.post("/api/crowdline/v1/workers", json={"name": "mallory"})
    assert invite.status_code == 401, invite.text
    assert [w.name for w in crowd.list_workers()] == ["ann"]
    upload = client.post(f"/api/crowdline/v1/pools/{pool.id}/tasks/upload",
                         files={"file": ("t.csv", b"INPUT:headline\nforged\n", "text/csv")})
    assert upload.status_code == 401
    assert len(crowd.list_tasks(pool.id)) == 2
    toloka = client.post("/api/v1/pools", json={"project_id": pool.project_id})
    assert toloka.status_code == 401
    suite = client.post("/api/annotator/v1/assignments/next", json={"pool_id": pool.id})
    assert suite.status_code == 401
    assert crowd.list_assignments(pool_id=pool.id) == []
    # the same calls with the token in the header work
    ok = client.post("/api/crowdline/v1/workers", json={"name": "bob"},
                     headers={"Authorization": f"OAuth {requester}"})
    assert ok.status_code == 201


def test_allowed_origins_admit_a_reverse_proxy_origin(tmp_path: Path,
                                                      clean_env: None) -> None:
    ws = Workspace.init(tmp_path / "ws", allowed_origins="https://labels.example.org")
    try:
        with live_server(ws) as live, httpx.Client(base_url=live.url,
                                                   follow_redirects=True) as browser:
            token = ws.crowd.create_requester_token("r")
            csrf = hidden_fields(browser.get("/dashboard/signin").text)["csrf_token"]
            proxied = browser.post("/dashboard/signin", data={"token": token, "csrf_token": csrf},
                                   headers={"Origin": "https://labels.example.org"})
            assert proxied.url.path == "/dashboard"
    finally:
        ws.close()


@pytest.mark.parametrize("origin", ["null", "http://127.0.0.1.evil.example"])
def test_odd_origins_are_refused(client: httpx.Client, server: LiveServer, origin: str) -> None:
    token = server.workspace.crowd.create_requester_token("r")
    csrf = hidden_fields(client.get("/dashboard/signin").text)["csrf_token"]
    refused = client.post("/dashboard/signin", data={"token": token, "csrf_token": csrf},
                          headers={"Origin": origin})
    assert refused.status_code == 403


def test_dashboard_actions_need_the_token(client: httpx.Client, server: LiveServer) -> None:
    """Signed in with the cookie, a forged invite / upload / close from another site does
    nothing; the header form of the token (for scripts) works like the field."""
    crowd = server.workspace.crowd
    pool = make_pool(crowd, real_tasks=2, golden_tasks=0, golden=0, overlap=1, real=1)
    token = crowd.create_requester_token("r")
    csrf = hidden_fields(client.get("/dashboard/signin").text)["csrf_token"]
    client.post("/dashboard/signin", data={"token": token, "csrf_token": csrf})
    assert client.cookies.get(REQUESTER_COOKIE)
    forged = [
        client.post("/dashboard/workers/invite", data={"name": "mallory"}),
        client.post("/dashboard/workers/invite", data={"name": "mallory", "csrf_token": csrf},
                    headers={"Origin": EVIL}),
        client.post(f"/dashboard/pools/{pool.id}/upload",
                    files={"file": ("t.csv", b"INPUT:headline\nforged\n", "text/csv")}),
        client.post(f"/dashboard/pools/{pool.id}/close"),
    ]
    assert [r.status_code for r in forged] == [403] * 4
    assert crowd.list_workers() == []
    assert len(crowd.list_tasks(pool.id)) == 2
    assert crowd.get_pool(pool.id).status == "OPEN"
    closed = client.post(f"/dashboard/pools/{pool.id}/close", headers={"X-CSRF-Token": csrf})
    assert closed.status_code == 200
    assert crowd.get_pool(pool.id).status == "CLOSED"
