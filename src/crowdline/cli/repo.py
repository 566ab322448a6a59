"""``crowdline repo create|list|delete``: the store's repos."""

from __future__ import annotations

import typer

from crowdline.cli.output import OUTPUT_OPTION, OutputFormat, open_workspace, render

repo_app = typer.Typer(help="Create, list and delete repos (versioned file trees).",
                       no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(repo_app, name="repo")


@repo_app.command("create")
def create(name: str = typer.Argument(..., help="repo name"),
           description: str = typer.Option("", "--description", "-d", help="what it holds"),
           ) -> None:
    """Create an empty repo."""
    with open_workspace() as ws:
        info = ws.store.create_repo(name, description)
    typer.echo(f"created repo {info.name}")


@repo_app.command("list")
def list_repos(output: OutputFormat = OUTPUT_OPTION) -> None:
    """List repos with their size and branches."""
    from crowdline.store.catalog import list_repos as quick_list_repos
    from crowdline.workspace import Workspace

    repos = quick_list_repos(Workspace.settings_of_existing())
    if repos is None:  # not SQLite, or the schema needs an upgrade: the SDK handles it
        with open_workspace() as ws:
            repos = ws.store.list_repos()
    render(repos, output, columns=["name", "size_bytes", "branches", "created_at", "description"])


@repo_app.command("delete")
def delete(name: str = typer.Argument(..., help="repo name"),
           force: bool = typer.Option(False, "--force",
                                      help="delete even if other repos' commits came from it"),
           ) -> None:
    """Delete a repo with all its commits and branches."""
    with open_workspace() as ws:
        ws.store.delete_repo(name, force=force)
    typer.echo(f"deleted repo {name}")
