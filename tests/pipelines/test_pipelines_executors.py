"""The same pipeline on a real Dask cluster, on PostgreSQL, and through the CLI."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from pipelines_helpers import contents, put, spec
from typer.testing import CliRunner

from crowdline.cli.main import app
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
    monkeypatch.setenv("CROWDLINE_HOME", str(tmp_path / "ws"))
    cli = CliRunner()

    def ok(*args: str) -> str:
        result = cli.invoke(app, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    ok("init")
    ws = Workspace.open()
    try:
        ws.store.create_repo("raw")
        put(ws, "raw", {"/a.txt": "hello"})
    finally:
        ws.close()
    spec_file = tmp_path / "upper.yaml"
    spec_file.write_text("pipeline: {name: upper}\n"
                         "input: {pfs: {repo: raw, glob: '/*'}}\n"
                         "transform: {python: 'pipelines_testkit:upper'}\n")
    ok("pipeline", "create", "-f", str(spec_file))
    assert "upper" in ok("pipeline", "list")
    assert "1 succeeded" in ok("run")
    (job,) = json.loads(ok("job", "list", "--output", "json"))
    assert job["state"] == "success"
    assert job["progress"] == "1/1"
    (datum,) = json.loads(ok("datum", "list", job["id"], "-o", "json"))
    assert datum["paths"] == ["raw:/a.txt"]
    assert "upper done" in ok("job", "logs", job["id"])
    ok("secret", "create", "api", "token=abc")
    assert json.loads(ok("secret", "list", "-o", "json"))[0]["keys"] == ["token"]
    bad = cli.invoke(app, ["job", "inspect", "nope"])
    assert bad.exit_code != 0
    bad_spec = tmp_path / "bad.yaml"
    bad_spec.write_text("pipeline: {name: x}\n")
    assert cli.invoke(app, ["pipeline", "create", "-f", str(bad_spec)]).exit_code != 0
