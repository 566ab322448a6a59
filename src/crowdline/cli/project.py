"""``crowdline project create|list|inspect``: labeling projects (Toloka's JSON shape)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from crowdline.cli.output import OUTPUT_OPTION, OutputFormat, open_workspace, render
from crowdline.errors import InvalidInput

project_app = typer.Typer(help="Labeling projects: input/output spec, interface, instructions.",
                          no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(project_app, name="project")


def read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"cannot read JSON from {path}: {exc}",
                           hint="give a JSON file in Toloka's shape") from exc


@project_app.command("create")
def create(file: Path = typer.Option(..., "--file", "-f", help="project JSON (Toloka's shape)"),
           ) -> None:
    """Create a project from a JSON config."""
    with open_workspace() as ws:
        project = ws.crowd.create_project(read_json(file))
    typer.echo(f"created project {project.id}: {project.public_name}")


@project_app.command("list")
def list_projects(output: OutputFormat = OUTPUT_OPTION) -> None:
    """List projects."""
    with open_workspace() as ws:
        projects = ws.crowd.list_projects()
    render([p.to_dict() for p in projects], output,
           columns=["id", "public_name", "status", "created"])


@project_app.command("inspect")
def inspect(project_id: str = typer.Argument(..., help="project id"),
            output: OutputFormat = OUTPUT_OPTION) -> None:
    """Show a project's config."""
    with open_workspace() as ws:
        project = ws.crowd.get_project(project_id)
    render(project.to_dict(), output)
