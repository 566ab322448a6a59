"""The store's CLI as a user types it: a real `crowdline` process, then each verb."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crowdline.cli.main import app
from crowdline.workspace import Workspace

CROWDLINE = Path(sys.executable).with_name("crowdline")


def test_new_user_first_commands(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROWDLINE_")}

    def run(*args: str) -> str:
        done = subprocess.run([str(CROWDLINE), *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    run("init")
    run("repo", "create", "raw")
    (tmp_path / "a.txt").write_text("a\n")
    run("put", "file", "raw@master:/a.txt", "-f", "a.txt")
    commits = json.loads(run("list", "commit", "raw", "--output", "json"))
    assert len(commits) == 1
    assert commits[0]["branch"] == "master"
    assert commits[0]["provenance"] == []
    assert commits[0]["size_bytes"] == 2
    shown = run("inspect", "commit", "raw@master")
    assert "provenance" in shown
    assert commits[0]["id"] in shown
    assert (tmp_path / ".crowdline" / "crowdline.db").exists()


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for key in ("CROWDLINE_DATABASE_URL", "CROWDLINE_STORAGE_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("CROWDLINE_HOME", str(tmp_path / "ws"))
    Workspace.init().close()
    runner = CliRunner()

    def invoke(*args: str, code: int = 0, stdin: bytes | None = None) -> str:
        result = runner.invoke(app, list(args), input=stdin)
        if isinstance(result.exception, SystemExit) or result.exception is None:
            assert result.exit_code == code, result.output
        else:  # crowdline errors reach main(), which maps them to exit codes
            assert getattr(result.exception, "exit_code", None) == code, repr(result.exception)
        return result.stdout

    return invoke


def test_put_get_list_diff_and_branches(cli, tmp_path: Path) -> None:
    folder = tmp_path / "rows"
    (folder / "sub").mkdir(parents=True)
    (folder / "one.csv").write_text("1\n")
    (folder / "sub" / "two.csv").write_text("2\n")
    cli("repo", "create", "raw", "-d", "raw rows")
    cli("put", "file", "raw@master:/in", "-f", str(folder), code=2)  # folder without -r
    cli("put", "file", "raw@master:/in", "-f", str(folder), "-r", "-m", "rows")
    cli("put", "file", "raw@master:/note.txt", "-f", "-", stdin=b"from stdin")
    listed = json.loads(cli("list", "file", "raw@master:/in", "-o", "json"))
    assert [(f["path"], f["type"]) for f in listed] == [("/in/one.csv", "file"),
                                                        ("/in/sub", "dir")]
    assert cli("get", "file", "raw@master:/note.txt") == "from stdin"
    cli("get", "file", "raw@master:/in", "-o", str(tmp_path / "out"))
    assert (tmp_path / "out" / "in" / "sub" / "two.csv").read_text() == "2\n"
    changes = json.loads(cli("diff", "file", "raw@master", "-o", "json"))
    assert [(c["path"], c["status"]) for c in changes] == [("/note.txt", "added")]
    changes = json.loads(cli("diff", "file", "raw@master^", "raw@master", "-o", "json"))
    assert [(c["path"], c["status"]) for c in changes] == [("/note.txt", "deleted")]
    first = json.loads(cli("list", "commit", "raw", "-o", "json"))[-1]["id"]
    cli("branch", "create", "raw@dev", "--head", first)
    branches = json.loads(cli("branch", "list", "raw", "-o", "json"))
    assert {b["name"]: b["head"] for b in branches}["dev"] == first
    repos = json.loads(cli("repo", "list", "-o", "json"))
    assert repos[0]["branches"] == ["dev", "master"]
    assert json.loads(cli("fsck", "-o", "json"))["ok"] is True


def test_inspect_shows_provenance_and_errors_have_exit_codes(cli) -> None:
    with Workspace.open() as ws:
        ws.store.create_repo("raw")
        ws.store.create_repo("labels")
        with ws.store.commit("raw") as raw:
            raw.put_file("/r", b"r")
        with ws.store.commit("labels", origin="auto", provenance=[("raw", raw.id)]) as lab:
            lab.put_file("/l", b"l")
    shown = json.loads(cli("inspect", "commit", "labels@master", "-o", "json"))
    assert shown["provenance"] == [{"repo": "raw", "id": raw.id}]
    assert f"raw@{raw.id}" in cli("inspect", "commit", "labels@master")
    cli("get", "file", "raw@master:/../etc/passwd", code=2)
    cli("get", "file", "nope@master:/r", code=3)
    cli("list", "file", "raw@ghost", code=3)
    cli("repo", "create", "raw", code=4)
    cli("repo", "delete", "raw", code=5)  # labels came from it
    cli("repo", "delete", "raw", "--force")
    assert [r["name"] for r in json.loads(cli("repo", "list", "-o", "json"))] == ["labels"]


@pytest.mark.s3
def test_workspace_on_s3_configured_by_environment(s3_server, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import uuid

    import s3fs

    prefix = f"crowdline-tests/{uuid.uuid4().hex}"
    monkeypatch.delenv("CROWDLINE_DATABASE_URL", raising=False)
    monkeypatch.setenv("CROWDLINE_HOME", str(tmp_path / "ws"))
    monkeypatch.setenv("CROWDLINE_STORAGE_URL", f"s3://{prefix}")
    monkeypatch.setenv("CROWDLINE_S3_ENDPOINT_URL", s3_server.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.storage_options["key"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.storage_options["secret"])
    runner = CliRunner()
    for args, stdin in ((["init"], None), (["repo", "create", "raw"], None),
                        (["put", "file", "raw@master:/a.txt", "-f", "-"], b"on s3")):
        result = runner.invoke(app, args, input=stdin)
        assert result.exit_code == 0, result.output
    assert runner.invoke(app, ["get", "file", "raw@master:/a.txt"]).stdout == "on s3"
    fs = s3fs.S3FileSystem(skip_instance_cache=True, **s3_server.storage_options)
    assert len(fs.find(f"{prefix}/blake3")) == 1
    assert not (tmp_path / "ws" / "objects").exists()
