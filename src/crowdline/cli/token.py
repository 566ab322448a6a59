"""``crowdline token create``: requester API tokens for the labeling service."""

from __future__ import annotations

import typer

from crowdline.cli.output import open_workspace

token_app = typer.Typer(help="Requester API tokens (for the REST API and toloka-kit).",
                        no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(token_app, name="token")


@token_app.command("create")
def create(name: str = typer.Option("default", "--name", "-n", help="what the token is for"),
           ) -> None:
    """Create a requester token; it is shown once (the last word printed)."""
    with open_workspace() as ws:
        token = ws.crowd.create_requester_token(name)
    typer.echo(f"requester token {name!r} (shown once, keep it secret): {token}")
