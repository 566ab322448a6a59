"""The seed system's own DAG (the original Pachyderm + Toloka example, its 10 specs read
unchanged from ../shared/seed) re-triggered by a new data commit: exactly one job per
pipeline in the commit set, and every upload goes into the new pool only.

Only ``python3 /code/X.py`` is adapted (to a stand-in script with the same arguments that
talks to a fake Toloka); the commands still read ``/pfs/<input>`` and write ``/pfs/out``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crowdline.pipelines.sandbox import pfs_supported
from crowdline.workspace import Workspace

REPO_ROOT = Path(__file__).resolve().parents[2]
# ../shared beside the checkout (a worktree sits one level deeper)
EXAMPLE = next((folder / "shared" / "seed" / "toloka-pachyderm-example" / "example"
                for folder in (REPO_ROOT.parent, REPO_ROOT.parent.parent)
                if (folder / "shared" / "seed" / "toloka-pachyderm-example").exists()),
               REPO_ROOT.parent / "shared" / "seed" / "toloka-pachyderm-example" / "example")
STANDINS = Path(__file__).resolve().parent / "seed_standins"
# the order the seed's README creates them in
ORDER = ["toloka_create_project", "toloka_create_training", "toloka_create_training_tasks",
         "toloka_create_pool", "toloka_create_control_tasks", "toloka_create_pool_tasks",
         "toloka_wait_pool", "toloka_aggregate_assignments", "concatenate_datasets",
         "train_test_model"]
DOWNSTREAM_OF_POOL = {"toloka_create_pool", "toloka_create_control_tasks",
                      "toloka_create_pool_tasks", "toloka_wait_pool",
                      "toloka_aggregate_assignments", "concatenate_datasets",
                      "train_test_model"}


def seed_spec(name: str) -> dict:
    spec = json.loads((EXAMPLE / f"{name}.json").read_text())
    cmd = spec["transform"]["cmd"]
    assert cmd[0] == "python3"
    assert cmd[1].startswith("/code/")
    cmd[1] = str(STANDINS / Path(cmd[1]).name)
    return spec


def events(state: Path) -> list[dict]:
    return json.loads(state.read_text())["events"]


@pytest.fixture
def seed_workspace(workspace: Workspace, tmp_path: Path,
                   monkeypatch: pytest.MonkeyPatch) -> Workspace:
    if not EXAMPLE.exists():
        pytest.skip(f"the seed example is not at {EXAMPLE}")
    if not pfs_supported():
        pytest.skip("the seed's commands use /pfs, which needs a private mount namespace here")
    monkeypatch.setenv("SEED_TOLOKA_STATE", str(tmp_path / "toloka.json"))
    return workspace


def put(ws: Workspace, repo: str, path: str, local: Path) -> str:
    with ws.store.commit(repo, "master", message=f"put {path}") as writer:
        writer.put_file(path, local.read_bytes())
    return writer.id


@pytest.mark.slow
def test_seed_dag_new_data_commit_one_job_per_pipeline_new_pool_only(
        seed_workspace: Workspace, tmp_path: Path) -> None:
    ws = seed_workspace
    state = tmp_path / "toloka.json"
    ws.pipelines.create_secret("toloka-api", {"token": "test-token"})
    for repo, files in {
        "clickbait_data": {"/train.csv": "data/train.csv", "/test.csv": "data/test.csv"},
        "toloka_project_config": {"/project.json": "configs/project.json"},
        "toloka_training_config": {"/training.json": "configs/training.json"},
        "toloka_training_tasks": {"/training_tasks.csv": "data/training_tasks.csv"},
        "toloka_pool": {"/pool.json": "configs/pool.json",
                        "/control_tasks.csv": "data/control_tasks.csv",
                        "/pool_tasks.csv": "data/pool_tasks.csv"},
    }.items():
        ws.store.create_repo(repo)
        for path, local in files.items():
            put(ws, repo, path, EXAMPLE / local)
    for name in ORDER:
        ws.pipelines.create_pipeline(seed_spec(name))
    first = ws.pipelines.run()
    assert not first.jobs_failed, [ws.pipelines.inspect_job(j).error for j in first.jobs_failed]
    before = len(events(state))
    first_pool = ws.store.get_file("toloka_create_pool", "master", "/pool.txt").decode()
    trainings = len(ws.store.list_commits("train_test_model", "master"))

    batch2 = tmp_path / "pool_tasks.csv"
    batch2.write_text("INPUT:headline\nYou Will Not Believe These 9 Things\n"
                      "Parliament passes the budget\n")
    data_commit = put(ws, "toloka_pool", "/pool_tasks.csv", batch2)
    second = ws.pipelines.run()
    assert not second.jobs_failed
    assert not second.jobs_unrunnable

    jobs = ws.pipelines.list_jobs(commit_set=data_commit)
    assert sorted(j.pipeline for j in jobs) == sorted(DOWNSTREAM_OF_POOL)  # one job each
    assert {j.state for j in jobs} == {"success"}
    assert ws.pipelines.inspect_commit_set(data_commit).state == "success"

    new_pool = ws.store.get_file("toloka_create_pool", "master", "/pool.txt").decode()
    assert new_pool != first_pool
    later = events(state)[before:]
    uploads = [e for e in later if e["call"] == "upload"]
    assert {e["kind"] for e in uploads} == {"tasks", "control"}
    assert {e["pool"] for e in uploads} == {new_pool}  # never into batch 1's finished pool
    assert all(e["pool_status"] == "CLOSED" and e["pool"] != first_pool for e in uploads)
    (tasks_upload,) = [e for e in uploads if e["kind"] == "tasks"]
    assert tasks_upload["rows"] == ["You Will Not Believe These 9 Things",
                                    "Parliament passes the budget"]
    assert [e["pool"] for e in later if e["call"] == "wait_pool"] == [new_pool]
    assert len([e for e in later if e["call"] == "train"]) == 1  # one retrain, not two
    models = ws.store.list_commits("train_test_model", "master")
    assert len(models) == trainings + 1
    assert models[0].commit_set == data_commit
    results = ws.store.get_file("toloka_aggregate_assignments", "master", "/results.csv")
    assert b"Parliament passes the budget" in results
