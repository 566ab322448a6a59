"""The annotator pages and the requester dashboard over HTTP, as a browser without JavaScript."""

from __future__ import annotations

import re

import httpx
from server_helpers import LABELS, LiveServer, make_pool, project_config

from crowdline.server.deps import REQUESTER_COOKIE, WORKER_COOKIE
from crowdline.workspace import Workspace

XSS = "<script>alert('x')</script> & <b>bold</b>"


def form_fields(page: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))


def answer_form(page: str, label: str) -> dict[str, str]:
    fields = form_fields(page)
    for index in range(int(fields["task_count"])):
        fields[f"answer-{index}"] = label
    return fields


def test_invite_link_signs_in_and_a_suite_is_labeled_in_pages(client: httpx.Client,
                                                              server: LiveServer) -> None:
    crowd = server.workspace.crowd
    pool = make_pool(crowd, real_tasks=2, golden_tasks=0, golden=0, overlap=1, real=2)
    _, token = crowd.invite_worker("Ann")
    joined = client.get(f"/join/{token}")
    assert joined.status_code == 200  # followed the redirect to /annotate
    assert "Hello, Ann" in joined.text
    cookie = next(c for c in client.cookies.jar if c.name == WORKER_COOKIE)
    assert cookie.has_nonstandard_attr("HttpOnly")
    assert f"/annotate/pools/{pool.id}" in joined.text
    instructions = client.get(f"/annotate/pools/{pool.id}")
    assert "<strong>withholds</strong>" in instructions.text  # Markdown rendered
    page = client.get(f"/annotate/pools/{pool.id}/work")
    assert page.status_code == 200
    assert "headline 0" in page.text
    assert "headline 1" in page.text
    for key, label in enumerate(LABELS, start=1):
        assert f'value="{label}" data-key="{key}"' in page.text
    assert form_fields(page.text)["idempotency_key"]
    done = client.post(f"/annotate/assignments/{_suite_id(page.text)}/submit",
                       data=answer_form(page.text, LABELS[1]))
    assert done.status_code == 200
    assert 'id="pool-finished"' in done.text
    frame = crowd.answers_frame(pool.id)
    assert sorted(frame["label"]) == [LABELS[1], LABELS[1]]


def _suite_id(page: str) -> str:
    match = re.search(r'action="/annotate/assignments/(\d+)/submit"', page)
    assert match, "no answer form on the page"
    return match.group(1)


def test_task_text_and_instructions_are_html_escaped(client: httpx.Client,
                                                     server: LiveServer) -> None:
    crowd = server.workspace.crowd
    project = crowd.create_project(project_config(instructions=f"Read carefully {XSS}"))
    pool = crowd.create_pool({"project_id": project.id, "private_name": "xss",
                              "defaults": {"default_overlap_for_new_tasks": 1},
                              "mixer_config": {"real_tasks_count": 1, "golden_tasks_count": 0,
                                               "training_tasks_count": 0}})
    crowd.create_tasks([{"pool_id": pool.id, "input_values": {"headline": XSS}}], open_pool=True)
    _, token = crowd.invite_worker("<i>Eve</i>")
    client.get(f"/join/{token}")
    pages = [client.get("/annotate").text, client.get(f"/annotate/pools/{pool.id}").text,
             client.get(f"/annotate/pools/{pool.id}/work").text]
    for page in pages:
        assert "<script>alert" not in page
        assert "<b>bold</b>" not in page
        assert "<i>Eve</i>" not in page
    assert "&lt;script&gt;alert(" in pages[2]
    assert "&lt;i&gt;Eve&lt;/i&gt;" in pages[0]


def test_skip_and_a_bad_answer_in_pages(client: httpx.Client, server: LiveServer) -> None:
    crowd = server.workspace.crowd
    pool = make_pool(crowd, real_tasks=2, golden_tasks=0, golden=0, overlap=1, real=1)
    _, token = crowd.invite_worker("Ann")
    client.get(f"/join/{token}")
    page = client.get(f"/annotate/pools/{pool.id}/work").text
    suite_id = _suite_id(page)
    bad = client.post(f"/annotate/assignments/{suite_id}/submit", data=answer_form(page, "spam"))
    assert bad.status_code == 400
    assert "not one of the allowed labels" in bad.text
    assert crowd.get_assignment(suite_id).status == "ACTIVE"
    malformed = client.post(f"/annotate/assignments/{suite_id}/submit",
                            data={**form_fields(page), "task_count": "many"})
    assert malformed.status_code == 400
    assert "incomplete" in malformed.text
    unanswered = client.post(f"/annotate/assignments/{suite_id}/submit", data=form_fields(page))
    assert unanswered.status_code == 400
    assert "has no answer" in unanswered.text
    assert crowd.get_assignment(suite_id).status == "ACTIVE"
    skipped = client.post(f"/annotate/assignments/{suite_id}/skip",
                          data={"pool_id": pool.id, "csrf_token": form_fields(page)["csrf_token"]})
    assert skipped.status_code == 200
    assert crowd.get_assignment(suite_id).status == "SKIPPED"
    assert _suite_id(skipped.text) != suite_id  # the next suite is shown


def test_a_bad_invite_link_is_refused(client: httpx.Client) -> None:
    response = client.get("/join/cwk_not-a-real-token")
    assert response.status_code == 401
    assert "invite link" in response.text
    assert not list(client.cookies.jar)


def test_dashboard_signin_and_pool_page(client: httpx.Client, server: LiveServer) -> None:
    crowd = server.workspace.crowd
    pool = make_pool(crowd, real_tasks=4, golden_tasks=2, overlap=1, real=2, golden=1)
    worker, _ = crowd.invite_worker("Spammy <Sam>")
    suite = crowd.request_assignment(worker.id, pool.id)
    assert suite is not None
    crowd.submit_assignment(worker.id, suite.id,
                            [{"output_values": {"category": LABELS[0]}}] * len(suite.tasks))
    crowd.set_restriction(worker.id, "POOL", pool_id=pool.id, private_comment="caught <spamming>")
    assert client.get("/dashboard").url.path == "/dashboard/signin"
    csrf = form_fields(client.get("/dashboard/signin").text)["csrf_token"]
    refused = client.post("/dashboard/signin", data={"token": "nope", "csrf_token": csrf})
    assert refused.status_code == 401
    token = crowd.create_requester_token("dash")
    signed = client.post("/dashboard/signin", data={"token": token, "csrf_token": csrf})
    assert signed.url.path == "/dashboard"
    assert any(c.name == REQUESTER_COOKIE for c in client.cookies.jar)
    assert f"/dashboard/pools/{pool.id}" in signed.text
    page = client.get(f"/dashboard/pools/{pool.id}").text
    for section in ('id="progress"', 'id="workers"', 'id="labels"', 'id="bans"'):
        assert section in page
    assert "Spammy &lt;Sam&gt;" in page
    assert "caught &lt;spamming&gt;" in page
    assert "<svg" in page
    assert LABELS[0] in page
    # the requester cookie does not make anyone a worker
    assert client.get("/annotate").status_code == 401


def test_extras_api_invites_uploads_and_reports(client: httpx.Client,
                                                server_workspace: Workspace) -> None:
    crowd = server_workspace.crowd
    auth = {"Authorization": f"OAuth {crowd.create_requester_token('api')}"}
    project = crowd.create_project(project_config())
    pool = crowd.create_pool({"project_id": project.id, "private_name": "upload",
                              "defaults": {"default_overlap_for_new_tasks": 1},
                              "mixer_config": {"real_tasks_count": 1, "golden_tasks_count": 1,
                                               "training_tasks_count": 0}})
    csv = ("INPUT:headline,GOLDEN:category\n"
           "a fine headline,\n"
           "you will not believe this,clickbait\n"
           "a bad golden row,maybe\n")
    uploaded = client.post(f"/api/crowdline/v1/pools/{pool.id}/tasks/upload", headers=auth,
                           files={"file": ("tasks.csv", csv.encode(), "text/csv")})
    assert uploaded.status_code == 200, uploaded.text
    report = uploaded.json()
    assert report["created"] == 2
    assert list(report["rejected"])
    assert "maybe" in str(report["rejected"])
    unknown = client.post(f"/api/crowdline/v1/pools/{pool.id}/tasks/upload", headers=auth,
                          files={"file": ("tasks.xlsx", b"x", "application/octet-stream")})
    assert unknown.status_code == 400
    assert unknown.json()["code"] == "VALIDATION_ERROR"
    assert len(crowd.list_tasks(pool.id)) == 2
    invited = client.post("/api/crowdline/v1/workers", json={"name": "Bob"}, headers=auth)
    assert invited.status_code == 201
    link = invited.json()["invite_url"]
    assert link.endswith(invited.json()["token"])
    assert httpx.URL(link).host == "127.0.0.1"
    assert "Hello, Bob" in client.get(httpx.URL(link).path).text
    stats = client.get(f"/api/crowdline/v1/pools/{pool.id}/stats", headers=auth).json()
    assert stats["tasks"] == 1
    assert stats["control_tasks"] == 1
    assert client.get(f"/api/crowdline/v1/pools/{pool.id}/qc-actions", headers=auth).json() == []
    assert client.get("/api/crowdline/v1/pools/999/stats", headers=auth).status_code == 404
    exported = client.post(f"/api/crowdline/v1/pools/{pool.id}/export", headers=auth,
                           json={"repo": "labels"})
    assert exported.status_code == 200, exported.text
    assert exported.json()


def test_training_suite_shows_the_hint_only_after_a_wrong_answer(client: httpx.Client,
                                                                 server: LiveServer) -> None:
    crowd = server.workspace.crowd
    project = crowd.create_project(project_config())
    training = crowd.create_pool({"project_id": project.id, "private_name": "training",
                                  "training_tasks_in_task_suite_count": 2,
                                  "assignment_max_duration_seconds": 300})
    crowd.create_tasks([
        {"pool_id": training.id, "input_values": {"headline": f"train {i}"},
         "known_solutions": [{"output_values": {"category": LABELS[0]}}],
         "message_on_unknown_solution": f"TRAINING-HINT-{i}"} for i in range(2)],
        open_pool=True)
    _, token = crowd.invite_worker("Learner")
    client.get(f"/join/{token}")
    page = client.get(f"/annotate/pools/{training.id}/work").text
    assert "training" in page
    assert "TRAINING-HINT" not in page
    feedback = client.post(f"/annotate/assignments/{_suite_id(page)}/submit",
                           data=answer_form(page, LABELS[1]))
    assert feedback.status_code == 200
    assert 'id="training-feedback"' in feedback.text
    assert "TRAINING-HINT-0" in feedback.text
    assert "TRAINING-HINT-1" in feedback.text


def test_a_requester_suite_is_labeled_whole_in_pages(client: httpx.Client,
                                                     server: LiveServer) -> None:
    """A suite the requester made shows its tasks in its order, without the per-task
    "unsure" skip, and is submitted whole."""
    crowd = server.workspace.crowd
    project = crowd.create_project(project_config())
    pool = crowd.create_pool({"project_id": project.id, "private_name": "suites",
                              "reward_per_assignment": 0.05})
    texts = ["third of three", "first of three", "second of three"]
    crowd.create_task_suites([{"pool_id": pool.id, "overlap": 1, "tasks": [
        {"input_values": {"headline": text}} for text in texts]}], open_pool=True)
    _, token = crowd.invite_worker("Ann")
    client.get(f"/join/{token}")
    page = client.get(f"/annotate/pools/{pool.id}/work").text
    assert [page.index(text) for text in texts] == sorted(page.index(text) for text in texts)
    assert "unsure-box" not in page
    done = client.post(f"/annotate/assignments/{_suite_id(page)}/submit",
                       data=answer_form(page, LABELS[0]))
    assert 'id="pool-finished"' in done.text
    assert len(crowd.answers_frame(pool.id)) == 3
