"""``crowdline pipeline create|update|list|inspect|delete``."""

from __future__ import annotations

from pathlib import Path

import typer

from crowdline.cli.output import OUTPUT_OPTION, OutputFormat, open_workspace, render

group = typer.Typer(help="Pipelines: code that runs on every new input commit, per datum.",
                    no_args_is_help=True)
SPEC_OPTION = typer.Option(..., "--file", "-f", exists=True, dir_okay=False,
                           help="pipeline spec (YAML or JSON; crowdline or Pachyderm shape)")
COLUMNS = ["name", "version", "inputs", "transform", "last_job_state", "description"]


def register(app: typer.Typer) -> None:
    app.add_typer(group, name="pipeline")


@group.command("create")
def create(spec: Path = SPEC_OPTION, output: OutputFormat = OUTPUT_OPTION) -> None:
    """Create a pipeline; its output repo has the pipeline's name."""
    with open_workspace() as ws:
        render(ws.pipelines.create_pipeline(spec), output, columns=COLUMNS)


@group.command("update")
def update(
    spec: Path = SPEC_OPTION,
    reprocess: bool = typer.Option(False, "--reprocess",
                                   help="run every datum again, not only new or changed ones"),
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Give a pipeline a new version; the next `crowdline run` makes a job with it."""
    with open_workspace() as ws:
        render(ws.pipelines.update_pipeline(spec, reprocess=reprocess), output, columns=COLUMNS)


@group.command("list")
def list_(output: OutputFormat = OUTPUT_OPTION) -> None:
    """List pipelines with their inputs and last job state."""
    with open_workspace() as ws:
        render(ws.pipelines.list_pipelines(), output, columns=COLUMNS)


@group.command("inspect")
def inspect(name: str, output: OutputFormat = OUTPUT_OPTION) -> None:
    """Show a pipeline, its spec and its last job."""
    with open_workspace() as ws:
        render(ws.pipelines.inspect_pipeline(name), output)


@group.command("delete")
def delete(name: str) -> None:
    """Delete a pipeline and its jobs (its output repo is kept)."""
    with open_workspace() as ws:
        ws.pipelines.delete_pipeline(name)
    typer.echo(f"deleted pipeline {name}")
