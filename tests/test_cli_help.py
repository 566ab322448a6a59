"""Every CLI command has help text, and `crowdline init` makes a workspace."""

from __future__ import annotations

import typer.main
from typer.testing import CliRunner

from crowdline.cli.main import app


def _walk(command, path: tuple[str, ...] = ()):
    yield path, command
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from _walk(sub, (*path, name))


def test_every_command_has_help() -> None:
    root = typer.main.get_command(app)
    commands = list(_walk(root))
    assert len(commands) > 1
    missing = [" ".join(p) for p, cmd in commands if p and not (cmd.help or "").strip()]
    assert missing == []


def test_init_creates_workspace(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CROWDLINE_HOME", str(tmp_path / "ws"))
    result = CliRunner().invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "ws" / "crowdline.toml").exists()
