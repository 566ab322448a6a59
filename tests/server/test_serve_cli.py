"""As a new user would: `crowdline init`, a token and an invite from the CLI, `crowdline serve`
in its own process, a project, pool and CSV with control tasks through the API, labeling
through the pages, the dashboard."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from server_helpers import project_config

from crowdline.testing.ports import free_port, wait_for_port

CLI = [sys.executable, "-m", "crowdline.cli.main"]


@pytest.fixture
def home(tmp_path: Path, clean_env: None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROWDLINE_")}
    env.update(CROWDLINE_HOME=str(tmp_path / "ws"), CROWDLINE_SERVER_PORT=str(free_port()))
    return env


def crowdline(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.slow
def test_new_user_serves_labels_and_sees_the_dashboard(home: dict[str, str]) -> None:
    crowdline(home, "init")
    token = crowdline(home, "token", "create").split()[-1]
    link = crowdline(home, "worker", "invite", "Ann").split()[-1]
    server = subprocess.Popen([*CLI, "serve"], env=home, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for_port(int(home["CROWDLINE_SERVER_PORT"])), "crowdline serve did not start"
        base = f"http://127.0.0.1:{home['CROWDLINE_SERVER_PORT']}"
        assert link.startswith(f"{base}/join/")
        auth = {"Authorization": f"OAuth {token}"}
        with httpx.Client(base_url=base, headers=auth, timeout=30) as api:
            project = api.post("/api/v1/projects", json=project_config())
            assert project.status_code == 201, project.text
            pool = api.post("/api/v1/pools", json={
                "project_id": project.json()["id"], "private_name": "first pool",
                "reward_per_assignment": 0.01, "assignment_max_duration_seconds": 600,
                "defaults": {"default_overlap_for_new_tasks": 1},
                "mixer_config": {"real_tasks_count": 2, "golden_tasks_count": 1,
                                 "training_tasks_count": 0}})
            assert pool.status_code == 201, pool.text
            pool_id = pool.json()["id"]
            uploaded = api.post(f"/api/crowdline/v1/pools/{pool_id}/tasks/upload",
                                files={"file": ("tasks.csv", TASKS_CSV.encode())})
            assert uploaded.json()["created"] == 4
            assert api.post(f"/api/v1/pools/{pool_id}/open").status_code in (200, 202)
        with httpx.Client(base_url=base, follow_redirects=True, timeout=30) as browser:
            assert browser.get("/healthz").json() == {"status": "ok"}
            assert "Hello, Ann" in browser.get(link).text
            labeled = 0
            while True:
                page = browser.get(f"/annotate/pools/{pool_id}/work").text
                if 'no-more-tasks' in page:
                    break
                fields = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', page))
                for index in range(int(fields["task_count"])):
                    fields[f"answer-{index}"] = "clickbait"
                suite_id = re.search(r"/annotate/assignments/(\d+)/submit", page).group(1)
                assert browser.post(f"/annotate/assignments/{suite_id}/submit",
                                    data=fields).status_code == 200
                labeled += int(fields["task_count"])
            assert labeled >= 2
        with httpx.Client(base_url=base, follow_redirects=True, timeout=30) as requester:
            signin = requester.get("/dashboard/signin").text
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', signin).group(1)
            requester.post("/dashboard/signin", data={"token": token, "csrf_token": csrf})
            dashboard = requester.get(f"/dashboard/pools/{pool_id}").text
            assert "Ann" in dashboard
            assert 'id="tasks-complete">2</span>/2' in dashboard  # every real task at its overlap
    finally:
        server.terminate()
        server.wait(timeout=30)


TASKS_CSV = ("INPUT:headline,GOLDEN:category\n"
             "Scientists publish a study,\n"
             "You won't believe what happened next,\n"
             "17 tricks doctors hate,clickbait\n"
             "Parliament passes the budget,notclickbait\n")
