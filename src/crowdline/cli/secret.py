"""``crowdline secret create|list|delete`` (for ``transform.secrets`` in pipeline specs)."""

from __future__ import annotations

import typer

from crowdline.cli.output import OUTPUT_OPTION, OutputFormat, open_workspace, render
from crowdline.errors import InvalidInput

group = typer.Typer(help="Secrets that pipeline transforms receive as environment variables.",
                    no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(group, name="secret")


@group.command("create")
def create(name: str, pairs: list[str] = typer.Argument(..., help="KEY=VALUE pairs")) -> None:
    """Create or replace a secret: `crowdline secret create toloka-api token=...`."""
    values = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidInput(f"{pair!r} is not KEY=VALUE", hint="e.g. token=abc123")
        values[key] = value
    with open_workspace() as ws:
        ws.pipelines.create_secret(name, values)
    typer.echo(f"secret {name} saved ({', '.join(sorted(values))})")


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
