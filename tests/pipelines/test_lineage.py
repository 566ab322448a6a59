"""`crowdline lineage`: a file (and one row) walked back through datums to committed files."""

from __future__ import annotations

import json

import pytest
from pipelines_helpers import put
from typer.testing import CliRunner

from crowdline.cli.main import app
from crowdline.errors import NotFound
from crowdline.workspace import Workspace


def _flow(ws: Workspace) -> None:
    ws.store.create_repo("raw")
    put(ws, "raw", {"/a.csv": "id,text\na1,hello\na2,world\n", "/b.csv": "id,text\nb1,bye\n"})
    ws.pipelines.create_pipeline({"pipeline": {"name": "shout"},
                                  "input": {"pfs": {"repo": "raw", "glob": "/*.csv"}},
                                  "transform": {"python": "failure_testkit:csv_shout"}})
    ws.pipelines.create_pipeline({"pipeline": {"name": "merged"},
                                  "input": {"pfs": {"repo": "shout", "glob": "/"}},
                                  "transform": {"python": "failure_testkit:csv_concat"}})
    assert len(ws.pipelines.run().jobs_succeeded) == 2


def test_trace_follows_one_row_to_the_committed_file(workspace: Workspace) -> None:
    ws = workspace
    _flow(ws)
    root = ws.pipelines.trace("merged", "master", "/all.csv", row="a2",
                              hook="failure_testkit:lineage_hook")
    assert root.pipeline == "merged"
    assert root.row == {"id": "a2", "text": "WORLD", "loud": "yes"}
    assert [(n.repo, n.path, n.traced) for n in root.inputs] == [
        ("shout", "/a.csv", True), ("shout", "/b.csv", False)]  # b.csv lacks the row
    shout = root.inputs[0]
    assert shout.pipeline == "shout"
    (raw,) = shout.inputs
    assert (raw.repo, raw.path, raw.pipeline) == ("raw", "/a.csv", None)
    assert raw.row == {"id": "a2", "text": "world"}
    assert raw.commit == ws.store.resolve("raw", "master")
    assert root.details == {"steps": 4, "row": "a2"}
    with pytest.raises(NotFound, match="no row with id = 'zz'"):
        ws.pipelines.trace("merged", "master", "/all.csv", row="zz")


def test_trace_of_an_older_commit_uses_the_datum_of_that_time(workspace: Workspace) -> None:
    ws = workspace
    _flow(ws)
    old = ws.store.resolve("shout", "master")
    put(ws, "raw", {"/a.csv": "id,text\na1,changed\n"})
    ws.pipelines.run()
    then = ws.pipelines.trace("shout", old, "/a.csv", row="a1")
    now = ws.pipelines.trace("shout", "master", "/a.csv", row="a1")
    assert then.inputs[0].row == {"id": "a1", "text": "hello"}
    assert now.inputs[0].row == {"id": "a1", "text": "changed"}
    assert then.job_id != now.job_id


def test_lineage_cli_prints_the_chain_and_json(workspace: Workspace) -> None:
    ws = workspace
    _flow(ws)
    env = {"CROWDLINE_HOME": str(ws.settings.home)}
    shown = CliRunner().invoke(app, ["lineage", "merged@master:/all.csv", "--row", "b1"],
                               env=env)
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert lines[0].startswith("merged@")
    assert "(pipeline merged" in lines[0]
    assert any(line.strip().startswith("← raw@") and line.endswith("/b.csv  (committed)")
               for line in lines)
    assert "row: id=b1, text=bye" in shown.output
    as_json = CliRunner().invoke(app, ["lineage", "shout@master:/b.csv", "--output", "json"],
                                 env=env)
    document = json.loads(as_json.output)
    assert document["inputs"][0]["repo"] == "raw"
