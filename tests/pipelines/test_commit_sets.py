"""Commit sets (Pachyderm's global ids): one origin commit, one job per downstream pipeline,
every job on a consistent snapshot of its inputs."""

from __future__ import annotations

from pathlib import Path

import pytest
from pipelines_helpers import contents, put, spec

from crowdline.workspace import Workspace


def join_spec(name: str, *repos: str, transform: str = "pair_names") -> dict:
    """Pachyderm's 'cross of two whole repos' as the seed writes it: join, glob /, $1."""
    return {"pipeline": {"name": name},
            "input": {"join": [{"pfs": {"repo": r, "glob": "/", "join_on": "$1"}}
                               for r in repos]},
            "transform": {"python": f"pipelines_testkit:{transform}"}}


def jobs_of_set(ws: Workspace, commit_set: str) -> dict[str, object]:
    jobs = ws.pipelines.list_jobs(commit_set=commit_set)
    names = [job.pipeline for job in jobs]
    assert len(names) == len(set(names)), f"two jobs of one pipeline in a set: {names}"
    return {job.pipeline: job for job in jobs}


def inputs_of(job: object) -> dict[str, str]:
    return {c["repo"]: c["commit"] for c in job.input_commits}  # type: ignore[attr-defined]


def build_diamond(ws: Workspace) -> None:
    """raw -> left, right (level 1) -> both (join, level 2) -> final (level 3, also raw)."""
    ws.store.create_repo("raw")
    ws.pipelines.create_pipeline(spec("left", "raw", "upper"))
    ws.pipelines.create_pipeline(spec("right", "raw", "count_chars"))
    ws.pipelines.create_pipeline(join_spec("both", "left", "right"))
    ws.pipelines.create_pipeline(join_spec("final", "both", "raw"))


def test_three_level_diamond_one_job_per_pipeline_on_one_snapshot(
        workspace: Workspace) -> None:
    ws = workspace
    build_diamond(ws)
    first = put(ws, "raw", {"/a.txt": "hello"})
    assert not ws.pipelines.run().jobs_failed
    second = put(ws, "raw", {"/b.txt": "crowd"})

    progressed, report = ws.pipelines.run_once()  # level 1 runs; the rest waits, visibly
    assert progressed
    jobs = jobs_of_set(ws, second)
    assert set(jobs) == {"left", "right", "both", "final"}
    assert jobs["left"].state == "success"
    assert jobs["both"].state == "created"
    assert "waiting for upstream job" in jobs["both"].reason
    assert jobs["final"].state == "created"
    assert jobs["final"].reason.startswith("waiting for")

    report = ws.pipelines.run()
    assert not report.jobs_failed
    jobs = jobs_of_set(ws, second)
    assert {name: job.state for name, job in jobs.items()} == dict.fromkeys(jobs, "success")
    # every job read the commits of the same set: no new raw joined with an old output
    commit_set = ws.store.inspect_commit_set(second)
    made = {c.repo: c.id for c in commit_set.commits}
    assert made["raw"] == second
    assert inputs_of(jobs["left"]) == {"raw": second}
    assert inputs_of(jobs["both"]) == {"left": made["left"], "right": made["right"]}
    assert inputs_of(jobs["final"]) == {"both": made["both"], "raw": second}
    for name in ("left", "right", "both", "final"):
        assert made[name] == jobs[name].output_commit
        assert ws.store.inspect_commit(name, "master").commit_set == second
    listed = contents(ws, "both")
    (names,) = listed.values()
    assert sorted(names.split("\n")) == ["left:a.txt.up", "left:b.txt.up",
                                         "right:a.txt.n", "right:b.txt.n"]
    # exactly one job per pipeline per set, over the whole history
    for set_id in (first, second):
        assert len(ws.pipelines.list_jobs(commit_set=set_id)) == 4
    assert ws.pipelines.inspect_commit_set(second).state == "success"
    lineage = {(c.repo, c.id) for c in ws.store.provenance("final", made["final"])}
    assert ("raw", second) in lineage
    assert ("raw", first) not in lineage


def test_racing_commits_into_two_inputs_of_a_join_get_their_own_jobs(
        workspace: Workspace) -> None:
    ws = workspace
    ws.store.create_repo("a")
    ws.store.create_repo("b")
    ws.pipelines.create_pipeline(join_spec("pair", "a", "b"))
    a0 = put(ws, "a", {"/a0.txt": "x"})
    b0 = put(ws, "b", {"/b0.txt": "y"})
    ws.pipelines.run()
    a1 = put(ws, "a", {"/a1.txt": "x"})  # both land before any runner looks
    b1 = put(ws, "b", {"/b1.txt": "y"})
    report = ws.pipelines.run()
    assert not report.jobs_failed
    (job_a,) = ws.pipelines.list_jobs(commit_set=a1)
    (job_b,) = ws.pipelines.list_jobs(commit_set=b1)
    assert inputs_of(job_a) == {"a": a1, "b": b0}  # b as it was when a1 was committed
    assert inputs_of(job_b) == {"a": a1, "b": b1}
    assert job_a.state == job_b.state == "success"
    assert ws.store.inspect_commit("pair", "master").commit_set == b1
    assert a0 != a1

    # one transaction into both repos is one commit set: one job sees both commits
    with ws.store.transaction() as tx:
        tx.commit("a").put_file("/a2.txt", b"x")
        tx.commit("b").put_file("/b2.txt", b"y")
    ws.pipelines.run()
    (job,) = ws.pipelines.list_jobs(commit_set=tx.id)
    assert inputs_of(job) == {"a": tx.writers[0].id, "b": tx.writers[1].id}
    assert {c.repo for c in ws.store.inspect_commit_set(tx.id).commits} == {"a", "b", "pair"}


def test_upstream_failure_makes_dependants_unrunnable_naming_it(workspace: Workspace) -> None:
    ws = workspace
    ws.store.create_repo("raw")
    ws.pipelines.create_pipeline(spec("check", "raw", "fail_on_bad"))
    ws.pipelines.create_pipeline(spec("count", "check", "count_chars"))
    ws.pipelines.create_pipeline(spec("last", "count", "upper"))
    ws.pipelines.create_pipeline(spec("sibling", "raw", "upper"))
    put(ws, "raw", {"/good.txt": "fine"})
    assert not ws.pipelines.run().jobs_failed
    bad = put(ws, "raw", {"/oops.txt": "bad"})
    ws.pipelines.run()
    jobs = jobs_of_set(ws, bad)
    assert jobs["check"].state == "failed"
    assert jobs["count"].state == "unrunnable"
    assert jobs["check"].id in jobs["count"].error
    assert "check" in jobs["count"].error
    assert "failed" in jobs["count"].error
    assert jobs["last"].state == "unrunnable"
    assert jobs["check"].id in jobs["last"].error  # the root cause, two levels down
    assert jobs["sibling"].state == "success"  # not downstream of the failure
    assert ws.pipelines.inspect_commit_set(bad).state == "failed"
    assert "oops" not in " ".join(contents(ws, "count"))

    fixed = put(ws, "raw", {"/oops.txt": "good now"})
    ws.pipelines.run()
    assert ws.pipelines.inspect_commit_set(fixed).state == "success"
    assert contents(ws, "count")["/oops.txt.n"] == str(len("good now"))


def test_waiting_job_is_superseded_and_its_set_ends_killed(workspace: Workspace,
                                                           testkit_env: dict[str, Path]) -> None:
    ws = workspace
    ws.store.create_repo("raw")
    ws.pipelines.create_pipeline(spec("label", "raw", "wait_for_flag"))
    ws.pipelines.create_pipeline(spec("after", "label", "count_chars"))
    first = put(ws, "raw", {"/a.txt": "a"})
    ws.pipelines.run()
    assert jobs_of_set(ws, first)["label"].state == "running"  # waits for humans
    second = put(ws, "raw", {"/b.txt": "b"})
    ws.pipelines.run()
    old = jobs_of_set(ws, first)
    assert old["label"].state == "killed"
    assert "superseded" in old["label"].error
    assert old["after"].state == "killed"
    assert ws.pipelines.inspect_commit_set(first).state == "killed"
    testkit_env["flag"].write_text("ann")
    ws.pipelines.run()
    assert ws.pipelines.inspect_commit_set(second).state == "success"
    assert set(contents(ws, "after")) == {"/a.txt.n", "/b.txt.n"}


@pytest.mark.slow
def test_commit_sets_on_postgres(tmp_path: Path, postgres_server: object) -> None:
    ws = Workspace.init(tmp_path / "ws",
                        database_url=postgres_server.create_database())  # type: ignore[attr-defined]
    try:
        build_diamond(ws)
        put(ws, "raw", {"/a.txt": "hello"})
        ws.pipelines.run()
        second = put(ws, "raw", {"/b.txt": "crowd"})
        assert not ws.pipelines.run().jobs_failed
        jobs = jobs_of_set(ws, second)
        made = {c.repo: c.id for c in ws.store.inspect_commit_set(second).commits}
        assert inputs_of(jobs["both"]) == {"left": made["left"], "right": made["right"]}
        assert inputs_of(jobs["final"]) == {"both": made["both"], "raw": second}
        assert ws.pipelines.inspect_commit_set(second).state == "success"
    finally:
        ws.close()


def test_output_branch_exists_from_creation_and_a_union_starts_from_inputs_with_data(
        workspace: Workspace) -> None:
    ws = workspace
    ws.store.create_repo("seed")
    ws.store.create_repo("batches")  # no commit yet
    put(ws, "seed", {"/s.txt": "seed"})
    ws.pipelines.create_pipeline({
        "pipeline": {"name": "merged"},
        "input": {"union": [{"pfs": {"repo": "seed", "glob": "/*", "name": "in"}},
                            {"pfs": {"repo": "batches", "glob": "/*", "name": "in"}}]},
        "transform": {"python": "pipelines_testkit:upper"}})
    assert [b.name for b in ws.store.list_branches("merged")] == ["master"]
    assert ws.store.branch_head("merged", "master") is None
    assert not ws.pipelines.run().jobs_failed
    assert contents(ws, "merged") == {"/s.txt.up": "SEED"}
    batch = put(ws, "batches", {"/b.txt": "batch"})
    ws.pipelines.run()
    assert contents(ws, "merged") == {"/s.txt.up": "SEED", "/b.txt.up": "BATCH"}
    (job,) = ws.pipelines.list_jobs(commit_set=batch)
    assert job.datums == {"success": 1, "skipped": 1}  # planned from the diff
