"""``crowdline datum list JOB``."""

from __future__ import annotations

import typer

from crowdline.cli.output import OUTPUT_OPTION, OutputFormat, open_workspace, render

group = typer.Typer(help="Datums: the units of work of a job.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(group, name="datum")


@group.command("list")
def list_(job_id: str, output: OutputFormat = OUTPUT_OPTION) -> None:
    """List a job's datums: input paths, state, tries, error, what a waiting one waits on."""
    with open_workspace() as ws:
        datums = ws.pipelines.list_datums(job_id)
    render(datums, output, columns=["datum_id", "state", "paths", "tries", "error",
                                    "wait_condition", "duration"])
