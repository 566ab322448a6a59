"""``crowdline datum list JOB`` and ``crowdline datum retry JOB [DATUM...]``."""

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


@group.command("retry")
def retry(job_id: str,
          datum_ids: list[str] = typer.Argument(None, help="datum ids (default: every "
                                                "failed datum of the job)")) -> None:
    """Run failed datums again in the pipeline's next job (`crowdline run`), even though
    their input did not change (e.g. after fixing what they depend on)."""
    with open_workspace() as ws:
        chosen = ws.pipelines.retry_datums(job_id, datum_ids or None)
    typer.echo(f"{len(chosen)} datum(s) will run again at the next `crowdline run`"
               if chosen else f"job {job_id} has no failed datums")
