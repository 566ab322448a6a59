"""Waiting for humans across a restart, and kill -9 of a real runner mid-job."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from pipelines_helpers import calls, contents, put, spec

from crowdline.errors import NotFound
from crowdline.pipelines import tables
from crowdline.workspace import Workspace

CLI = [sys.executable, "-m", "crowdline.cli.main"]


def cli_env(ws: Workspace) -> dict[str, str]:
    return {**os.environ, "CROWDLINE_HOME": str(ws.settings.home)}


def crowdline_run(ws: Workspace) -> dict:
    done = subprocess.run([*CLI, "run", "--output", "json"], env=cli_env(ws), text=True,
                          capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr + done.stdout
    return json.loads(done.stdout)


def test_waiting_datum_holds_no_process_and_resumes_after_restart(
        workspace: Workspace, testkit_env: dict[str, Path]) -> None:
    ws = workspace
    ws.store.create_repo("batches")
    ws.pipelines.create_pipeline(spec("label", "batches", "wait_for_flag"))
    ws.pipelines.create_pipeline(spec("after", "label", "upper"))
    put(ws, "batches", {"/b1.txt": "row"})
    first = crowdline_run(ws)  # a separate process, which exits while the datum waits
    assert first["waiting"] == {"pipelines_testkit:flag_exists": 1}
    (job,) = ws.pipelines.list_jobs("label")
    assert job.state == "running"
    assert job.waiting_on == {"pipelines_testkit:flag_exists": 1}
    (datum,) = ws.pipelines.list_datums(job.id)
    assert datum.state == "waiting"
    assert datum.wait_params == {"path": str(testkit_env["flag"])}
    # a second runner with the condition unmet leaves it waiting and does not rerun it
    assert crowdline_run(ws)["waiting"] == {"pipelines_testkit:flag_exists": 1}
    assert calls(testkit_env) == ["wait:b1.txt"]
    testkit_env["flag"].write_text("annotator 7")  # the humans finished
    second = crowdline_run(ws)
    assert second["waiting"] == {}
    assert len(second["jobs_succeeded"]) == 2
    assert contents(ws, "label") == {"/b1.txt": "row labeled by annotator 7"}
    assert contents(ws, "after") == {"/b1.txt.up": "ROW LABELED BY ANNOTATOR 7"}
    assert ws.pipelines.inspect_job(job.id).state == "success"


def test_new_input_while_waiting_takes_the_wait_over(
        workspace: Workspace, testkit_env: dict[str, Path]) -> None:
    ws = workspace
    ws.store.create_repo("batches")
    ws.pipelines.create_pipeline(spec("label", "batches", "wait_for_flag"))
    put(ws, "batches", {"/b1.txt": "one"})
    ws.pipelines.run()
    put(ws, "batches", {"/b2.txt": "two"})
    report = ws.pipelines.run()
    assert report.waiting == {"pipelines_testkit:flag_exists": 2}
    old, new = sorted(ws.pipelines.list_jobs("label"), key=lambda j: j.created_at)
    assert old.state == "killed"
    assert "superseded" in old.error
    assert calls(testkit_env) == ["wait:b1.txt", "wait:b2.txt"]  # b1 was not run again
    testkit_env["flag"].write_text("crowd")
    ws.pipelines.run()
    assert ws.pipelines.inspect_job(new.id).state == "success"
    assert contents(ws, "label") == {"/b1.txt": "one labeled by crowd",
                                     "/b2.txt": "two labeled by crowd"}


def _successes(ws: Workspace) -> int:
    with ws.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(tables.datums).where(
            tables.datums.c.state == "success")).scalar_one()


@pytest.mark.slow
def test_kill_9_mid_job_then_run_finishes_with_the_same_output(
        workspace: Workspace, testkit_env: dict[str, Path]) -> None:
    ws = workspace
    ws.store.create_repo("raw")
    ws.pipelines.create_pipeline(spec("slow", "raw", "slow_copy"))
    files = {f"/f{i:02d}.txt": f"content {i}" for i in range(24)}
    put(ws, "raw", files)
    env = {**cli_env(ws), "TESTKIT_DELAY": "0.25"}
    runner = subprocess.Popen([*CLI, "run"], env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    try:
        while _successes(ws) < 4:
            assert runner.poll() is None, "the runner finished before it could be killed"
            assert time.monotonic() < deadline, "no datum finished within 60 s"
            time.sleep(0.05)
    finally:
        os.killpg(runner.pid, signal.SIGKILL)  # the runner and its worker processes
        runner.wait()
    done_before = _successes(ws)
    assert done_before < len(files)
    with pytest.raises(NotFound):
        ws.store.inspect_commit("slow", "master")  # no half output commit is visible
    (job,) = ws.pipelines.list_jobs("slow")
    finished_before = {d.paths[0].split("/")[-1] for d in ws.pipelines.list_datums(job.id)
                       if d.state == "success"}
    report = crowdline_run(ws)
    assert report["jobs_succeeded"] == [job.id]
    assert contents(ws, "slow") == files  # exactly what an uninterrupted run gives
    ran = calls(testkit_env)
    for name in finished_before:
        assert ran.count(name) == 1, f"{name} finished before the kill but ran again"
    assert len(ws.store.list_commits("slow")) == 1


def test_serve_forever_in_a_thread_picks_up_new_commits(workspace: Workspace) -> None:
    ws = workspace
    ws.store.create_repo("raw")
    ws.pipelines.create_pipeline(spec("upper", "raw", "upper"))
    stop = threading.Event()
    server = threading.Thread(target=ws.pipelines.serve_forever, args=(stop, 0.1))
    server.start()
    try:
        put(ws, "raw", {"/a.txt": "live"})
        deadline = time.monotonic() + 60
        while not any(j.state == "success" for j in ws.pipelines.list_jobs("upper")):
            assert time.monotonic() < deadline, "serve_forever did not run the job"
            time.sleep(0.1)
    finally:
        stop.set()
        server.join(timeout=60)
    assert not server.is_alive()
    assert contents(ws, "upper") == {"/a.txt.up": "LIVE"}


def test_run_returns_when_a_woken_datum_keeps_waiting(workspace: Workspace) -> None:
    ws = workspace
    ws.store.create_repo("raw")
    ws.pipelines.create_pipeline(spec("stubborn", "raw", "always_wait"))
    put(ws, "raw", {"/a.txt": "a"})
    report = ws.pipelines.run()  # must not loop forever
    assert report.datums_woken >= 1
    (job,) = ws.pipelines.list_jobs("stubborn")
    assert job.state == "running"
