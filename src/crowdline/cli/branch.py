"""``crowdline branch create|list``: movable heads of a repo."""

from __future__ import annotations

import typer

from crowdline.cli.files import parse_target
from crowdline.cli.output import OUTPUT_OPTION, OutputFormat, open_workspace, render

branch_app = typer.Typer(help="Create and list branches (movable commit heads).",
                         no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(branch_app, name="branch")


@branch_app.command("create")
def create(target: str = typer.Argument(..., help="REPO@BRANCH"),
           head: str = typer.Option(None, "--head", help="commit id or branch to point at"),
           ) -> None:
    """Create a branch (or move an existing one to --head)."""
    repo, branch, _ = parse_target(target, need_ref=True)
    with open_workspace() as ws:
        info = ws.store.create_branch(repo, branch, head=head)
    typer.echo(f"branch {info.repo}@{info.name} -> {info.head or '(no commits)'}")


@branch_app.command("list")
def list_branches(repo: str = typer.Argument(..., help="repo name"),
                  output: OutputFormat = OUTPUT_OPTION) -> None:
    """List a repo's branches and their heads."""
    with open_workspace() as ws:
        found = ws.store.list_branches(repo)
    render(found, output, columns=["name", "head"])
