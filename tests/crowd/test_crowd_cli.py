"""The crowd CLI as a requester uses it: token, project, pool, task upload, worker invite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from crowd_helpers import pool_config, project_config
from typer.testing import CliRunner

from crowdline.cli.main import app
from crowdline.errors import Unsupported
from crowdline.workspace import Workspace


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in ("CROWDLINE_DATABASE_URL", "CROWDLINE_STORAGE_URL", "CROWDLINE_PUBLIC_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("CROWDLINE_HOME", str(tmp_path / "ws"))
    Workspace.init(tmp_path / "ws").close()
    return tmp_path


def _run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_requester_flow_from_the_command_line(home: Path) -> None:
    token = _run("token", "create", "--name", "ci").split()[-1]
    with Workspace.open(home / "ws") as ws:
        assert ws.crowd.authenticate_requester(token).name == "ci"
    (home / "project.json").write_text(json.dumps(project_config()))
    assert "created project 1" in _run("project", "create", "-f", str(home / "project.json"))
    config = pool_config("1")
    config["filter"] = {"category": "profile", "key": "shoe_size", "operator": "IN",
                        "value": "EN"}
    (home / "pool.json").write_text(json.dumps(config))
    refused = CliRunner().invoke(app, ["pool", "create", "-f", str(home / "pool.json")])
    assert isinstance(refused.exception, Unsupported)  # main() maps it to exit code 2
    _run("pool", "create", "-f", str(home / "pool.json"), "--ignore", "filter")
    (home / "tasks.csv").write_text("INPUT:headline,GOLDEN:category\nA,clickbait\nB,\nC,bad\n")
    out = _run("task", "upload", "1", "-f", str(home / "tasks.csv"), "--open")
    assert "created 2 tasks" in out
    assert "rejected 1 rows" in out
    pools = json.loads(_run("pool", "list", "--output", "json"))
    assert [(p["id"], p["status"]) for p in pools] == [("1", "OPEN")]
    stats = json.loads(_run("pool", "inspect", "1", "-o", "json"))
    assert stats["tasks"] == 1
    assert stats["control_tasks"] == 1
    link = _run("worker", "invite", "Ann").strip().splitlines()[-1]
    assert link.startswith("http://")
    assert "/join/cwk_" in link
    with Workspace.open(home / "ws") as ws:
        worker = ws.crowd.authenticate_worker(link.rsplit("/", 1)[-1])
    assert worker.name == "Ann"
    assert "CLOSED" in _run("pool", "close", "1")
    _run("worker", "ban", worker.id, "--scope", "PROJECT", "--project", "1")
    assert json.loads(_run("worker", "list", "-o", "json"))[0]["name"] == "Ann"


def test_worker_invite_carries_a_profile(home: Path) -> None:
    out = _run("worker", "invite", "Ann", "--languages", "en", "--languages", "DE",
               "--country", "gb", "--no-adult-allowed")
    assert "worker 1 (Ann) invited" in out
    refused = CliRunner().invoke(app, ["worker", "invite", "Bob", "--client-type", "FAX"])
    assert refused.exit_code != 0
    with Workspace.open(home / "ws") as ws:
        workers = ws.crowd.list_workers()
        assert [w.name for w in workers] == ["Ann"]  # the refused invite created nobody
        assert workers[0].profile == {"languages": ["DE", "EN"], "country": "GB",
                                      "adult_allowed": False}
