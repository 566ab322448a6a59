"""Commit sets from the CLI, as pachctl has them: list commit SET, job list SET, wait commit
SET (its exit status says how the set ended), inspect commit --lineage, and one `commit`
transaction into several repos."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pipelines_helpers import spec
from typer.testing import CliRunner

from crowdline.cli.main import app
from crowdline.workspace import Workspace


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for key in ("CROWDLINE_DATABASE_URL", "CROWDLINE_STORAGE_URL", "CROWDLINE_EXECUTOR_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("CROWDLINE_HOME", str(tmp_path / "ws"))
    Workspace.init().close()
    runner = CliRunner()

    def invoke(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, list(args))
        if isinstance(result.exception, SystemExit) or result.exception is None:
            assert result.exit_code == code, result.output
        else:
            assert getattr(result.exception, "exit_code", None) == code, repr(result.exception)
        return result.stdout

    return invoke


def test_commit_set_verbs(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ws = Workspace.open()
    try:
        ws.store.create_repo("raw")
        ws.store.create_repo("config")
        ws.pipelines.create_pipeline(spec("check", "raw", "fail_on_bad"))
        ws.pipelines.create_pipeline(spec("count", "check", "count_chars"))
    finally:
        ws.close()
    (tmp_path / "good.txt").write_text("fine")
    (tmp_path / "bad.txt").write_text("bad")
    (tmp_path / "conf.txt").write_text("c")

    out = cli("commit", "--put", f"raw@master:/good.txt={tmp_path / 'good.txt'}",
              "--put", f"config@master:/conf.txt={tmp_path / 'conf.txt'}", "-m", "both")
    good_set = out.strip().splitlines()[-1].split()[-1]
    cli("run")
    assert "success" in cli("wait", "commit", good_set, "--timeout", "5")
    listed = json.loads(cli("list", "commit", good_set, "--output", "json"))
    assert {c["repo"] for c in listed} == {"raw", "config", "check", "count"}
    assert {c["commit_set"] for c in listed} == {good_set}
    jobs = json.loads(cli("job", "list", good_set, "--output", "json"))
    assert sorted(j["pipeline"] for j in jobs) == ["check", "count"]

    out = cli("put", "file", "raw@master:/bad.txt", "-f", str(tmp_path / "bad.txt"))
    bad_set = out.split()[-1]
    out = cli("run", code=10)
    assert "not run (an upstream job of their commit set failed" in out  # the count job
    cli("wait", "commit", bad_set, "--timeout", "5", code=10)  # a job failed
    jobs = {j["pipeline"]: j for j in json.loads(cli("job", "list", bad_set, "-o", "json"))}
    assert jobs["count"]["state"] == "unrunnable"
    assert jobs["check"]["id"] in jobs["count"]["error"]

    count_head = json.loads(cli("inspect", "commit", "count@master", "--lineage", "-o", "json"))
    assert count_head["commit"]["commit_set"] == good_set
    lineage = {(c["repo"], c["id"]) for c in count_head["lineage"]}
    good_raw = next(c["id"] for c in listed if c["repo"] == "raw")
    assert ("raw", good_raw) in lineage  # down to the origin commit
    assert "origin" in cli("inspect", "commit", "count@master", "--lineage")

    cli("wait", "commit", "0" * 32, code=3)  # unknown set: a clear error
    cli("commit", "--put", "raw@master:/x.txt=/no/such/file", code=2)
