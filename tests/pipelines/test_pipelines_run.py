"""Pipelines run on a real embedded workspace (SQLite + local blobs + process pool)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pipelines_helpers import calls, contents, put, spec

from crowdline.errors import (
    BackendUnavailable,
    BadSpec,
    Conflict,
    NotFound,
    PipelineAlreadyExists,
)
from crowdline.pipelines.sandbox import pfs_supported
from crowdline.workspace import Workspace


def test_two_stage_chain_with_provenance(workspace: Workspace) -> None:
    ws = workspace
    ws.store.create_repo("raw")
    ws.pipelines.create_pipeline(spec("upper", "raw", "upper"))
    ws.pipelines.create_pipeline(spec("count", "upper", "count_chars"))
    input_commit = put(ws, "raw", {"/a.txt": "hello", "/b.txt": "crowd"})
    report = ws.pipelines.run()
    assert len(report.jobs_succeeded) == 2
    assert not report.jobs_failed
    assert contents(ws, "upper") == {"/a.txt.up": "HELLO", "/b.txt.up": "CROWD"}
    assert contents(ws, "count") == {"/a.txt.up.n": "5", "/b.txt.up.n": "5"}
    upper_commit = ws.store.inspect_commit("upper", "master")
    count_commit = ws.store.inspect_commit("count", "master")
    assert [(p.repo, p.id) for p in upper_commit.provenance] == [("raw", input_commit)]
    assert [(p.repo, p.id) for p in count_commit.provenance] == [("upper", upper_commit.id)]
    assert upper_commit.origin == "auto"
    assert upper_commit.metadata["pipeline_version"] == 1
    lineage = {(c.repo, c.id) for c in ws.store.provenance("count", count_commit.id)}
    assert ("raw", input_commit) in lineage
    job = ws.pipelines.inspect_job(upper_commit.metadata["job_id"])
    assert job.state == "success"
    assert job.output_commit == upper_commit.id
    assert job.datums == {"success": 2}
    # nothing new: a second run creates no job
    assert ws.pipelines.run().jobs_created == []


def test_only_new_or_changed_datums_run_and_deletions_propagate(
        workspace: Workspace, testkit_env: dict[str, Path]) -> None:
    ws = workspace
    ws.store.create_repo("raw")
    ws.pipelines.create_pipeline(spec("upper", "raw", "upper"))
    put(ws, "raw", {"/a.txt": "a", "/b.txt": "b", "/c.txt": "c"})
    ws.pipelines.run()
    assert calls(testkit_env) == ["a.txt", "b.txt", "c.txt"]
    testkit_env["calls"].unlink()
    put(ws, "raw", {"/b.txt": "b2", "/c.txt": None, "/d.txt": "d"})
    report = ws.pipelines.run()
    assert calls(testkit_env) == ["b.txt", "d.txt"]  # a skipped, c deleted
    assert report.datums_processed == 2
    assert contents(ws, "upper") == {"/a.txt.up": "A", "/b.txt.up": "B2", "/d.txt.up": "D"}
    (job_id,) = report.jobs_succeeded
    assert ws.pipelines.inspect_job(job_id).datums == {"skipped": 1, "success": 2}
    states = {d.paths[0]: d.state for d in ws.pipelines.list_datums(job_id)}
    assert states == {"raw:/b.txt": "success", "raw:/d.txt": "success"}


def test_update_keeps_outputs_unless_reprocess(workspace: Workspace,
                                               testkit_env: dict[str, Path]) -> None:
    ws = workspace
    ws.store.create_repo("raw")
    ws.pipelines.create_pipeline(spec("upper", "raw", "upper"))
    put(ws, "raw", {"/a.txt": "a"})
    ws.pipelines.run()
    info = ws.pipelines.update_pipeline(spec("upper", "raw", "upper", datum_tries=2))
    assert info.version == 2
    report = ws.pipelines.run()
    assert len(report.jobs_succeeded) == 1
    assert report.datums_processed == 0
    ws.pipelines.update_pipeline(spec("upper", "raw", "upper"), reprocess=True)
    report = ws.pipelines.run()
    assert report.datums_processed == 1
    assert calls(testkit_env) == ["a.txt", "a.txt"]
    assert ws.store.inspect_commit("upper", "master").metadata["pipeline_version"] == 3


def test_retries_then_failure_with_error_and_log(workspace: Workspace) -> None:
    ws = workspace
    ws.store.create_repo("raw")
    ws.pipelines.create_pipeline(spec("flaky", "raw", "flaky", datum_tries=3))
    ws.pipelines.create_pipeline(spec("strict", "raw", "fail_on_bad", datum_tries=2))
    put(ws, "raw", {"/good.txt": "fine", "/bad.txt": "bad"})
    report = ws.pipelines.run()
    flaky_job = ws.pipelines.list_jobs("flaky")[0]
    assert flaky_job.state == "success"
    assert {d.tries for d in ws.pipelines.list_datums(flaky_job.id)} == {3}
    strict_job = ws.pipelines.list_jobs("strict")[0]
    assert strict_job.state == "failed"
    assert strict_job.id in report.jobs_failed
    assert "bad.txt is bad" in strict_job.error
    datums = {d.paths[0]: d for d in ws.pipelines.list_datums(strict_job.id)}
    assert datums["raw:/bad.txt"].state == "failed"
    assert datums["raw:/bad.txt"].tries == 2
    assert datums["raw:/good.txt"].state == "success"  # the other datum is not lost
    (log,) = ws.pipelines.job_logs(strict_job.id, datums["raw:/bad.txt"].datum_id)
    assert "ValueError: bad.txt is bad" in log.log
    assert "try 2/2" in log.log
    with pytest.raises(NotFound):
        ws.store.inspect_commit("strict", "master")  # no output commit for a failed job
    # fixing the input runs only the failed datum again; the good one is reused
    put(ws, "raw", {"/bad.txt": "now fine"})
    report = ws.pipelines.run()
    job = ws.pipelines.list_jobs("strict")[0]
    assert job.state == "success"
    assert contents(ws, "strict") == {"/good.txt": "fine", "/bad.txt": "now fine"}


def test_cross_union_and_join_inputs(workspace: Workspace) -> None:
    ws = workspace
    for repo in ("tasks", "answers", "models"):
        ws.store.create_repo(repo)
    put(ws, "tasks", {"/1.json": "t1", "/2.json": "t2"})
    put(ws, "answers", {"/1.csv": "a1", "/3.csv": "a3"})
    put(ws, "models", {"/m.bin": "m"})
    ws.pipelines.create_pipeline({
        "pipeline": {"name": "joined"}, "transform": {"python": "pipelines_testkit:pair_names"},
        "input": {"join": [{"pfs": {"repo": "tasks", "glob": "/(*).json", "join_on": "$1"}},
                           {"pfs": {"repo": "answers", "glob": "/(*).csv", "join_on": "$1"}}]}})
    ws.pipelines.create_pipeline({
        "pipeline": {"name": "crossed"}, "transform": {"python": "pipelines_testkit:pair_names"},
        "input": {"cross": [{"pfs": {"repo": "tasks", "glob": "/*"}},
                            {"pfs": {"repo": "models", "glob": "/"}}]}})
    ws.pipelines.create_pipeline({
        "pipeline": {"name": "united"}, "transform": {"python": "pipelines_testkit:pair_names"},
        "input": {"union": [{"pfs": {"repo": "tasks", "glob": "/*", "name": "in"}},
                            {"pfs": {"repo": "answers", "glob": "/*", "name": "in"}}]}})
    report = ws.pipelines.run()
    assert len(report.jobs_succeeded) == 3
    assert sorted(contents(ws, "joined").values()) == ["answers:1.csv\ntasks:1.json"]
    assert sorted(contents(ws, "crossed").values()) == ["models:m.bin\ntasks:1.json",
                                                        "models:m.bin\ntasks:2.json"]
    assert sorted(contents(ws, "united").values()) == ["in:1.csv", "in:1.json", "in:2.json",
                                                       "in:3.csv"]


def test_cmd_transform_sees_pfs_folders_env_and_secrets(workspace: Workspace) -> None:
    ws = workspace
    ws.store.create_repo("raw")
    put(ws, "raw", {"/in.txt": "data"})
    ws.pipelines.create_secret("api", {"token": "s3cr3t"})
    script = ('cat "$CROWDLINE_INPUT/in.txt" > "$CROWDLINE_OUTPUT/copy.txt"; '
              'echo "$TOKEN $MODE" > "$PFS_ROOT/out/env.txt"; '
              'if [ -d /pfs/raw ]; then cat /pfs/raw/in.txt > /pfs/out/via_pfs.txt; fi; '
              'echo ran')
    ws.pipelines.create_pipeline({
        "pipeline": {"name": "shell"},
        "input": {"pfs": {"repo": "raw", "glob": "/*"}},
        "transform": {"cmd": ["sh", "-c", script], "env": {"MODE": "test"},
                      "image": "ignored:latest",
                      "secrets": [{"name": "api", "key": "token", "env_var": "TOKEN"}]},
    })
    report = ws.pipelines.run()
    assert report.jobs_succeeded, ws.pipelines.job_logs(report.jobs_failed[0])
    out = contents(ws, "shell")
    assert out["/copy.txt"] == "data"
    assert out["/env.txt"] == "s3cr3t test\n"
    if pfs_supported():  # a private mount namespace can be made here
        assert out.get("/via_pfs.txt") == "data"
    (log,) = ws.pipelines.job_logs(report.jobs_succeeded[0])
    assert "ran" in log.log


def test_bad_input_changes_nothing(workspace: Workspace) -> None:
    ws = workspace
    ws.store.create_repo("raw")
    with pytest.raises(NotFound, match="input repo 'nope'"):
        ws.pipelines.create_pipeline(spec("p", "nope", "upper"))
    with pytest.raises(BadSpec):
        ws.pipelines.create_pipeline({"pipeline": {"name": "p"}})
    with pytest.raises(Conflict, match="own output"):
        ws.pipelines.create_pipeline(spec("raw2", "raw2", "upper"))
    assert ws.pipelines.list_pipelines() == []
    ws.pipelines.create_pipeline(spec("p", "raw", "upper"))
    with pytest.raises(PipelineAlreadyExists):
        ws.pipelines.create_pipeline(spec("p", "raw", "upper"))
    ws.pipelines.create_pipeline(spec("q", "p", "upper"))
    with pytest.raises(Conflict, match="read the output"):
        ws.pipelines.delete_pipeline("p")
    ws.pipelines.delete_pipeline("q")
    ws.pipelines.delete_pipeline("p")
    assert ws.pipelines.list_pipelines() == []


def test_datum_timeout_fails_the_datum_after_its_tries(workspace: Workspace) -> None:
    ws = workspace
    ws.store.create_repo("raw")
    ws.pipelines.create_pipeline(spec("sleepy", "raw", "sleepy", datum_timeout="1s",
                                      datum_tries=2))
    put(ws, "raw", {"/a.txt": "a"})
    report = ws.pipelines.run()
    (datum,) = ws.pipelines.list_datums(report.jobs_failed[0])
    assert datum.state == "failed"
    assert datum.tries == 2
    assert "timed out after 1s" in datum.error


def test_cmd_transform_waits_with_exit_code_75(workspace: Workspace,
                                               testkit_env: dict[str, Path]) -> None:
    ws = workspace
    ws.store.create_repo("raw")
    put(ws, "raw", {"/in.txt": "row"})
    flag = testkit_env["flag"]
    wait_request = json.dumps({"condition": "pipelines_testkit:flag_exists",
                               "params": {"path": str(flag)}})
    script = (f'if [ -f "{flag}" ]; then cp "$CROWDLINE_INPUT/in.txt" "$CROWDLINE_OUTPUT/"; '
              f"else echo '{wait_request}' > \"$CROWDLINE_OUTPUT/.crowdline-wait.json\"; "
              "exit 75; fi")
    ws.pipelines.create_pipeline({"pipeline": {"name": "shellwait"},
                                  "input": {"pfs": {"repo": "raw", "glob": "/*"}},
                                  "transform": {"cmd": ["sh", "-c", script]}})
    assert ws.pipelines.run().waiting == {"pipelines_testkit:flag_exists": 1}
    flag.write_text("done")
    report = ws.pipelines.run()
    assert len(report.jobs_succeeded) == 1
    assert contents(ws, "shellwait") == {"/in.txt": "row"}  # the wait file is not output


def test_a_crashing_worker_is_a_clear_error_and_the_job_can_resume(
        workspace: Workspace) -> None:
    ws = workspace
    ws.store.create_repo("raw")
    ws.pipelines.create_pipeline(spec("crashy", "raw", "crash"))
    put(ws, "raw", {"/a.txt": "a"})
    with pytest.raises(BackendUnavailable, match="worker process .* died"):
        ws.pipelines.run()
    (job,) = ws.pipelines.list_jobs("crashy")
    assert job.state == "running"
    ws.pipelines.update_pipeline(spec("crashy", "raw", "upper"))  # the fix
    assert ws.pipelines.inspect_job(job.id).state == "killed"
    ws.pipelines.run()
    assert contents(ws, "crashy") == {"/a.txt.up": "A"}
    assert ws.store.inspect_commit("crashy", "master").metadata["pipeline_version"] == 2
