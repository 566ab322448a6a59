"""``crowdline secret create|list|delete`` (for ``transform.secrets`` in pipeline specs)."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

import typer

from crowdline.cli.output import OUTPUT_OPTION, OutputFormat, open_workspace, render
from crowdline.errors import InvalidInput

group = typer.Typer(help="Secrets that pipeline transforms receive as environment variables.",
                    no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(group, name="secret")


@group.command("create")
def create(name: str,
           pairs: list[str] = typer.Argument(None, help="KEY=- (read the value from standard "
                                             "input) or KEY=VALUE (visible in `ps` and shell "
                                             "history: avoid for real secrets)"),
           from_file: list[str] = typer.Option(None, "--from-file", help="KEY=PATH: the "
                                               "value is the file's text (one trailing "
                                               "newline dropped)")) -> None:
    """Create or replace a secret: `crowdline secret create toloka token=-` (then paste it)."""
    values: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidInput(f"{pair!r} is not KEY=- or KEY=VALUE",
                               hint="e.g. `token=-` and type the value on standard input")
        values[key] = _stdin_value(key) if value == "-" else value
    for pair in from_file or []:
        key, sep, path = pair.partition("=")
        if not sep or not key or not path:
            raise InvalidInput(f"--from-file {pair!r} is not KEY=PATH", hint="e.g. token=./tok")
        try:
            values[key] = _one_line(Path(path).read_text())
        except OSError as exc:
            raise InvalidInput(f"cannot read {path}: {exc.strerror}") from exc
    if not values:
        raise InvalidInput("give at least one KEY=- or --from-file KEY=PATH",
                           hint="crowdline secret create NAME token=-")
    with open_workspace() as ws:
        ws.pipelines.create_secret(name, values)
    typer.echo(f"secret {name} saved ({', '.join(sorted(values))})")


def _one_line(text: str) -> str:
    return text[:-1] if text.endswith("\n") else text


def _stdin_value(key: str) -> str:
    """One value from standard input: a hidden prompt on a terminal, else one line."""
    if sys.stdin.isatty():
        return getpass.getpass(f"value of {key}: ")
    return _one_line(sys.stdin.readline())


@group.command("list")
def list_(output: OutputFormat = OUTPUT_OPTION) -> None:
    """List secret names and keys (never values)."""
    with open_workspace() as ws:
        render(ws.pipelines.list_secrets(), output, columns=["name", "keys", "created_at"])


@group.command("delete")
def delete(name: str) -> None:
    """Delete a secret."""
    with open_workspace() as ws:
        ws.pipelines.delete_secret(name)
    typer.echo(f"deleted secret {name}")
