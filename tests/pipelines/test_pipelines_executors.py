"""The same pipeline on a real Dask cluster, on PostgreSQL, and through the CLI."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from pipelines_helpers import contents, put, spec
from typer.testing import CliRunner

from crowdline.cli.main import app
from crowdline.errors import BadSpec, JobNotFound
from crowdline.testing.dask import DaskCluster
from crowdline.workspace import Workspace


@pytest.mark.dask
@pytest.mark.slow
def test_pipeline_runs_on_a_real_dask_cluster(tmp_path: Path) -> None:
    with DaskCluster(workers=2, log_dir=tmp_path / "dask-logs") as cluster:
        ws = Workspace.init(tmp_path / "ws", executor_url=cluster.address)
        try:
            ws.store.create_repo("raw")
            ws.pipelines.create_pipeline(spec("where", "raw", "where_am_i"))
            files = {f"/f{i}.txt": f"text {i}" for i in range(12)}
            put(ws, "raw", files)
            report = ws.pipelines.run()
            assert len(report.jobs_succeeded) == 1
            assert report.datums_processed == 12
            out = {path: json.loads(text) for path, text in contents(ws, "where").items()}
            assert {p: o["text"] for p, o in out.items()} == files
            pids = {o["pid"] for o in out.values()}
            assert os.getpid() not in pids  # ran in the dask worker processes
            # incremental on Dask too: one new file, one datum
            put(ws, "raw", {"/new.txt": "fresh"})
            assert ws.pipelines.run().datums_processed == 1
        finally:
            ws.close()


@pytest.mark.postgres
def test_pipeline_on_postgresql(tmp_path: Path, postgres_server) -> None:  # type: ignore[no-untyped-def]
    ws = Workspace.init(tmp_path / "ws", database_url=postgres_server.create_database())
    try:
        ws.store.create_repo("raw")
        ws.pipelines.create_pipeline(spec("upper", "raw", "upper"))
        put(ws, "raw", {"/a.txt": "a", "/b.txt": "b"})
        assert len(ws.pipelines.run().jobs_succeeded) == 1
        put(ws, "raw", {"/a.txt": None})
        report = ws.pipelines.run()
        assert report.datums_processed == 0
        assert len(report.jobs_succeeded) == 1
        assert contents(ws, "upper") == {"/b.txt.up": "B"}
    finally:
        ws.close()


def test_cli_as_a_new_user_would(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Create a repo, a two-stage chain, put a file, run, inspect provenance — all via CLI."""
    monkeypatch.setenv("CROWDLINE_HOME", str(tmp_path / "ws"))
    cli = CliRunner()

    def ok(*args: str) -> str:
        result = cli.invoke(app, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    ok("init")
    ok("repo", "create", "raw")
    (tmp_path / "upper.yaml").write_text("pipeline: {name: upper}\n"
                                         "input: {pfs: {repo: raw, glob: '/*'}}\n"
                                         "transform: {python: 'pipelines_testkit:upper'}\n")
    (tmp_path / "count.json").write_text(json.dumps({
        "pipeline": {"name": "count"}, "input": {"pfs": {"repo": "upper", "glob": "/*"}},
        "transform": {"python": "pipelines_testkit:count_chars"}}))
    ok("pipeline", "create", "-f", str(tmp_path / "upper.yaml"))
    ok("pipeline", "create", "-f", str(tmp_path / "count.json"))
    assert "upper" in ok("pipeline", "list")
    (tmp_path / "a.txt").write_text("hello")
    ok("put", "file", "raw@master:/a.txt", "-f", str(tmp_path / "a.txt"))
    assert "2 succeeded" in ok("run")
    raw = json.loads(ok("inspect", "commit", "raw@master", "-o", "json"))
    upper = json.loads(ok("inspect", "commit", "upper@master", "-o", "json"))
    count = json.loads(ok("inspect", "commit", "count@master", "-o", "json"))
    assert upper["provenance"] == [{"repo": "raw", "id": raw["id"]}]
    assert count["provenance"] == [{"repo": "upper", "id": upper["id"]}]
    assert count["metadata"]["pipeline"] == "count"
    jobs = json.loads(ok("job", "list", "--pipeline", "upper", "--output", "json"))
    assert [(j["state"], j["progress"]) for j in jobs] == [("success", "1/1")]
    (datum,) = json.loads(ok("datum", "list", jobs[0]["id"], "-o", "json"))
    assert datum["paths"] == ["raw:/a.txt"]
    assert "upper done" in ok("job", "logs", jobs[0]["id"])
    ok("secret", "create", "api", "token=abc123456")
    assert json.loads(ok("secret", "list", "-o", "json"))[0]["keys"] == ["token"]
    # errors reach main() as crowdline errors, which it maps to exit codes
    assert isinstance(cli.invoke(app, ["job", "inspect", "nope"]).exception, JobNotFound)
    (tmp_path / "bad.yaml").write_text("pipeline: {name: x}\n")
    bad = cli.invoke(app, ["pipeline", "create", "-f", str(tmp_path / "bad.yaml")])
    assert isinstance(bad.exception, BadSpec)
