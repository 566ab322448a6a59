"""The seed's flow end to end on the shipped sample: label, aggregate, retrain, re-run on a
new commit (only it is processed), and resume after kill -9 with no duplicated tasks."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from crowdline.model.registry import ModelRegistry
from crowdline.workspace import Workspace
from crowdline_examples.clickbait import flow
from crowdline_examples.clickbait.report import batch_labels, build_report

pytestmark = pytest.mark.slow


def _batch_rows(name: str) -> pd.DataFrame:
    return pd.read_csv(flow.DATA_DIR / f"{name}.csv", dtype=str, keep_default_na=False)


def _real_tasks_per_pool(workspace: Workspace) -> dict[str, int]:
    crowd = workspace.crowd
    return {
        pool.private_name: sum(1 for task in crowd.list_tasks(pool.id) if not task.known_solutions)
        for pool in crowd.list_pools() if pool.type == "REGULAR"
    }


def _human_rows(workspace: Workspace, batch: str) -> int:
    routed = pd.read_csv(io.BytesIO(workspace.store.get_file(
        "route", "master", f"/{batch}/routing.csv")), dtype=str)
    return int((routed["decision"] != "model").sum())


def _newest_job(workspace: Workspace, pipeline: str):  # type: ignore[no-untyped-def]
    return workspace.pipelines.list_jobs(pipeline)[0]


def test_flow_labels_retrains_and_reruns_only_the_new_batch(workspace: Workspace) -> None:
    flow.set_up(workspace, backend="simulated")
    workspace.pipelines.run()
    assert workspace.store.list_commits("models", "master"), "the seed labels train model v1"

    flow.commit_batch(workspace, flow.DATA_DIR / "batch_1.csv")
    workspace.pipelines.run()
    labels = batch_labels(workspace)
    truth = _batch_rows("batch_1")
    assert sorted(labels["id"]) == sorted(truth["id"])  # every row labeled exactly once
    assert set(labels["labeled_by"]) == {"simulated", "model"}  # never passed off as human
    merged = labels.merge(truth, on="id")
    accuracy = (merged["label"] == merged["truth"]).mean()
    assert accuracy >= 0.85, accuracy
    report = build_report(workspace)
    banned = {ban["worker"] for ban in report["banned"]}
    assert "sim-gus" in banned  # the configured spammer
    assert report["lineage"]["judgments"], "a human label walks back to its judgments"
    assert report["lineage"]["raw_row"]["id"] == report["lineage"]["id"]
    # what the demo prints: the threshold the newest model chose for the next batch, and why
    assert report["routing_threshold"]["threshold"] == flow.ROUTING["threshold"]
    assert "keeping the start threshold" in report["routing_threshold"]["reason"]
    tasks_after_batch_1 = _real_tasks_per_pool(workspace)
    assert tasks_after_batch_1 == {"clickbait batch_1": _human_rows(workspace, "batch_1")}

    models_before = len(workspace.store.list_commits("models", "master"))
    flow.commit_batch(workspace, flow.DATA_DIR / "batch_2.csv")
    workspace.pipelines.run()
    for pipeline in ("route", "label", "aggregate"):
        job = _newest_job(workspace, pipeline)
        assert job.state == "success"
        assert job.datums.get("success") == 1, job.datums
        assert job.datums.get("skipped") == 1, job.datums
    tasks = _real_tasks_per_pool(workspace)
    assert tasks["clickbait batch_1"] == tasks_after_batch_1["clickbait batch_1"]
    assert tasks["clickbait batch_2"] == _human_rows(workspace, "batch_2")
    assert len(batch_labels(workspace)) == 320
    assert len(workspace.store.list_commits("models", "master")) > models_before
    # One model path: the flow's models are registry versions, loadable from the SDK, each
    # pointing at the dataset commit it learned from; routing decisions are recorded per batch.
    registry = ModelRegistry(workspace.store)
    versions = registry.versions()
    assert [v.version for v in versions] == list(range(1, len(versions) + 1))
    assert len(versions) >= 3  # seed labels, + batch 1, + batch 2
    assert all(v.training_data.startswith("dataset@") for v in versions)
    assert 0.5 < versions[-1].metrics["accuracy"] <= 1.0
    assert registry.load().predict(["10 Things You Never Knew About Cats"])[0] in {
        "clickbait", "not clickbait"}
    routed = {f.path for f in workspace.store.walk_files("routing", "master")}
    assert routed == {"/decisions/batch_1.csv", "/decisions/batch_2.csv"}
    used = set(batch_labels(workspace)["model_version"])
    assert used <= {v.commit_id for v in versions}
    # Each version carries the threshold chosen from the audits so far, and each batch says
    # which one it routed with; the sample is far below min_audits: the start is kept.
    assert all(v.thresholds["threshold"] == flow.ROUTING["threshold"] for v in versions)
    assert versions[-1].thresholds["audited"] > 0
    used_threshold = json.loads(workspace.store.get_file("route", "master",
                                                         "/batch_2/threshold.json"))
    assert used_threshold["threshold"] == flow.ROUTING["threshold"]
    assert "fewer than 200" in used_threshold["reason"]
    # The model voted on the rows it was unsure of, never on the audited ones.
    routed_rows = pd.read_csv(io.BytesIO(workspace.store.get_file(
        "route", "master", "/batch_2/routing.csv")), dtype=str).set_index("id")
    pool = next(p for p in workspace.crowd.list_pools() if p.private_name == "clickbait batch_2")
    votes = {t.input_values["row_id"]: t.baseline_solutions
             for t in workspace.crowd.list_tasks(pool.id) if not t.known_solutions}
    decisions = routed_rows.loc[list(votes), "decision"]
    assert set(decisions) == {"human", "audit"}
    for row_id, vote in votes.items():
        if decisions[row_id] == "audit":
            assert vote is None
        else:
            assert vote[0]["output_values"]["category"] == routed_rows.loc[row_id, "model_label"]


def _submitted_answers(db: Path) -> int:
    engine = sa.create_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            return int(conn.exec_driver_sql(
                "SELECT count(*) FROM crowd_answers WHERE submitted IS NOT NULL").scalar() or 0)
    except sa.exc.OperationalError:
        return 0
    finally:
        engine.dispose()


def test_kill_9_during_the_demo_then_run_finishes_without_duplicates(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    env = {**os.environ, "CROWDLINE_HOME": str(home)}
    for key in ("CROWDLINE_DATABASE_URL", "CROWDLINE_STORAGE_URL", "CROWDLINE_EXECUTOR_URL"):
        env.pop(key, None)
    cli = [sys.executable, "-m", "crowdline.cli.main"]
    demo = subprocess.Popen([*cli, "demo", "--home", str(home)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and _submitted_answers(home / "crowdline.db") < 40:
        time.sleep(0.05)
    os.killpg(demo.pid, signal.SIGKILL)  # the demo and every worker process it started
    demo.wait()

    resumed = subprocess.run([*cli, "run"], env=env, capture_output=True, text=True,
                             timeout=300)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr

    with Workspace.open(home) as workspace:
        committed = [f.path.rsplit("/", 1)[-1].removesuffix(".csv")
                     for f in workspace.store.walk_files("headlines", "master")]
        assert committed, "the kill came after batch 1 was committed"
        labels = batch_labels(workspace)
        for batch in committed:
            expected = _batch_rows(batch)["id"]
            assert sorted(labels.loc[labels["part"] == batch, "id"]) == sorted(expected)
            assert _real_tasks_per_pool(workspace)[f"clickbait {batch}"] == \
                _human_rows(workspace, batch)
        jobs = workspace.pipelines.list_jobs()
        assert all(job.state == "success" for job in jobs[:6]), [
            (j.pipeline, j.state, j.error) for j in jobs[:6]]
