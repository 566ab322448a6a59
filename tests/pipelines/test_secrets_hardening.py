"""Secrets are sealed at rest (never plain text in the database), masked as *** in job logs
and errors, and the CLI reads values from standard input or a file, not the command line."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from pipelines_helpers import contents, put

from crowdline.errors import ConfigError, IntegrityError, InvalidInput
from crowdline.keys import KEY_FILE
from crowdline.pipelines import tables as t
from crowdline.workspace import Workspace

TOKEN = "tok-9f8e7d6c5b4a"


def _raw_rows(ws: Workspace) -> str:
    with ws.engine.connect() as conn:
        return repr(conn.execute(sa.select(t.secrets)).all())


def test_values_are_sealed_at_rest_with_a_0600_key_file(workspace: Workspace) -> None:
    workspace.pipelines.create_secret("api", {"token": TOKEN})
    assert TOKEN not in _raw_rows(workspace)
    assert "cl1:" in _raw_rows(workspace)
    key_file = workspace.settings.home / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert workspace.pipelines.list_secrets()[0]["keys"] == ["token"]
    database = Path(workspace.settings.database_url.removeprefix("sqlite:///"))
    assert TOKEN.encode() not in database.read_bytes()


def test_a_transform_echoing_its_token_leaves_only_stars_in_the_logs(
        workspace: Workspace) -> None:
    ws = workspace
    ws.store.create_repo("raw")
    put(ws, "raw", {"/in.txt": "data"})
    ws.pipelines.create_secret("api", {"token": TOKEN})
    echo = 'for i in $(seq 60); do echo "token=$TOKEN"; done; echo "$TOKEN" >&2; ' \
           'echo -n "$TOKEN" > "$CROWDLINE_OUTPUT/got.txt"'
    ws.pipelines.create_pipeline({
        "pipeline": {"name": "leaky"}, "input": {"pfs": {"repo": "raw", "glob": "/*"}},
        "transform": {"cmd": ["sh", "-c", echo],
                      "secrets": [{"name": "api", "key": "token", "env_var": "TOKEN"}]}})
    report = ws.pipelines.run()
    assert report.jobs_succeeded
    assert contents(ws, "leaky")["/got.txt"] == TOKEN  # the transform did get the value
    (log,) = ws.pipelines.job_logs(report.jobs_succeeded[0])
    assert TOKEN not in log.log
    assert log.log.count("token=***") == 60
    # a failing transform's error is masked too
    ws.pipelines.create_pipeline({
        "pipeline": {"name": "failing"}, "input": {"pfs": {"repo": "raw", "glob": "/*"}},
        "transform": {"cmd": ["sh", "-c", 'echo "bad $TOKEN" >&2; exit 3'],
                      "secrets": [{"name": "api", "key": "token", "env_var": "TOKEN"}]},
        "datum_tries": 1})
    failed = ws.pipelines.run()
    logs = ws.pipelines.job_logs((failed.jobs_failed or failed.jobs_succeeded)[0])
    text = repr(logs)
    assert TOKEN not in text
    assert "bad ***" in text


def test_short_values_are_refused(workspace: Workspace) -> None:
    with pytest.raises(InvalidInput, match="shorter than 4"):
        workspace.pipelines.create_secret("api", {"token": "abc"})


def test_a_key_from_the_environment_and_a_wrong_key(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CROWDLINE_HOME", "CROWDLINE_DATABASE_URL", "CROWDLINE_STORAGE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CROWDLINE_SECRET_KEY", "k" * 40)
    ws = Workspace.init(tmp_path / "ws")
    ws.pipelines.create_secret("api", {"token": TOKEN})
    assert not (ws.settings.home / KEY_FILE).exists()  # nothing beside the database
    ws.close()
    monkeypatch.setenv("CROWDLINE_SECRET_KEY", "z" * 40)
    other = Workspace.open(tmp_path / "ws")
    try:
        from crowdline.pipelines.spec import SecretRef

        with pytest.raises(IntegrityError, match="does not match the workspace key"):
            other.pipelines.secrets.environment([SecretRef("api", "token", "TOKEN")])
    finally:
        other.close()
    monkeypatch.setenv("CROWDLINE_SECRET_KEY", "short")
    short = Workspace.open(tmp_path / "ws")
    try:
        with pytest.raises(ConfigError, match="at least 32"):
            short.pipelines.create_secret("x", {"token": TOKEN})
    finally:
        short.close()


def test_a_key_file_readable_by_others_is_refused(workspace: Workspace) -> None:
    workspace.pipelines.create_secret("api", {"token": TOKEN})
    os.chmod(workspace.settings.home / KEY_FILE, 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        workspace.pipelines.create_secret("api2", {"token": TOKEN})


def test_the_cli_reads_values_from_stdin_and_files(workspace: Workspace, tmp_path: Path) -> None:
    env = {**os.environ, "CROWDLINE_HOME": str(workspace.settings.home)}
    cli = str(Path(sys.executable).parent / "crowdline")
    created = subprocess.run([cli, "secret", "create", "api", "token=-"], env=env,
                             input=TOKEN + "\n", capture_output=True, text=True)
    assert created.returncode == 0, created.stderr
    assert TOKEN not in created.stdout + created.stderr
    path = tmp_path / "password.txt"
    path.write_text("p4ssw0rd-from-file\n")
    from_file = subprocess.run([cli, "secret", "create", "db", "--from-file",
                                f"password={path}"], env=env, capture_output=True, text=True)
    assert from_file.returncode == 0, from_file.stderr
    from crowdline.pipelines.spec import SecretRef

    got = workspace.pipelines.secrets.environment([SecretRef("api", "token", "A"),
                                                   SecretRef("db", "password", "B")])
    assert got == {"A": TOKEN, "B": "p4ssw0rd-from-file"}
    assert TOKEN not in _raw_rows(workspace)
