"""The CLI a requester manages annotators with: readable lists, bans in words, unban."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from crowd_helpers import pool_config, project_config
from typer.testing import CliRunner

from crowdline.cli.main import app
from crowdline.workspace import Workspace


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in ("CROWDLINE_DATABASE_URL", "CROWDLINE_STORAGE_URL", "CROWDLINE_PUBLIC_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("CROWDLINE_HOME", str(tmp_path / "ws"))
    with Workspace.init(tmp_path / "ws") as ws:
        project = ws.crowd.create_project(project_config())
        pool = ws.crowd.create_pool(pool_config(project.id))
        rows = "".join(f"headline {i},\n" for i in range(60))
        ws.crowd.import_task_file(pool.id, "INPUT:headline,GOLDEN:category\n" + rows,
                                  format="csv")
    return tmp_path


def _run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def test_version() -> None:
    assert _run("--version").strip() == "crowdline 0.1.0"


def test_ban_list_unban(home: Path) -> None:
    _run("worker", "invite", "Ann")
    _run("worker", "invite", "Bob")
    _run("worker", "ban", "2", "--scope", "POOL", "--pool", "1", "--comment", "spam")
    workers = {w["name"]: w for w in json.loads(_run("worker", "list", "-o", "json"))}
    assert workers["Ann"]["status"] == "active"
    assert workers["Bob"]["status"] == "banned from pool 1"
    assert workers["Bob"]["training"] == "not taken"
    table = _run("worker", "list")
    assert "banned from pool 1" in table
    assert "honeypot_accuracy" in table
    inspected = _run("pool", "inspect", "1")
    assert "spam" in inspected  # the ban, in words, with the reason given
    assert "{" not in inspected  # no raw JSON blobs
    assert "lifted 1 ban" in _run("worker", "unban", "2")
    workers = {w["name"]: w for w in json.loads(_run("worker", "list", "-o", "json"))}
    assert workers["Bob"]["status"] == "active"
    assert "no matching bans" in _run("worker", "unban", "2")
    missing = CliRunner().invoke(app, ["worker", "unban", "99"])
    assert missing.exit_code != 0


def test_task_list_says_how_many_there_are(home: Path) -> None:
    result = CliRunner().invoke(app, ["task", "list", "1", "--limit", "5"],
                                                env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "showing 5 of 60" in result.output
