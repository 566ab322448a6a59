"""``crowdline job list|inspect|logs|restart``."""

from __future__ import annotations

import typer

from crowdline.cli.output import OUTPUT_OPTION, OutputFormat, open_workspace, render, to_plain

group = typer.Typer(help="Jobs: one run of a pipeline over its input commits.",
                    no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(group, name="job")


def _row(job) -> dict:  # type: ignore[no-untyped-def]
    row = to_plain(job)
    row["progress"] = job.progress
    return row


@group.command("list")
def list_(
    commit_set: str = typer.Argument(None, help="only the jobs of this commit set"),
    pipeline: str = typer.Option(None, "--pipeline", "-p", help="only this pipeline's jobs"),
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """List jobs, newest first, with datum progress (success+skipped / total) and what a
    created job waits for."""
    with open_workspace() as ws:
        if commit_set is not None:
            ws.store.inspect_commit_set(commit_set)  # a clear error for an unknown id
        jobs = [_row(job) for job in ws.pipelines.list_jobs(pipeline, commit_set)]
    render(jobs, output, columns=["id", "pipeline", "state", "progress", "commit_set",
                                  "output_commit", "reason", "error", "created_at"])


@group.command("inspect")
def inspect(job_id: str, output: OutputFormat = OUTPUT_OPTION) -> None:
    """Show a job: state, input and output commits, datum counts, what it waits on."""
    with open_workspace() as ws:
        render(_row(ws.pipelines.inspect_job(job_id)), output)


@group.command("logs")
def logs(
    job_id: str,
    datum: str = typer.Option(None, "--datum", "-d", help="only this datum's log"),
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Print the logs of a job's datums (every try, with tracebacks)."""
    with open_workspace() as ws:
        entries = ws.pipelines.job_logs(job_id, datum)
    if output == OutputFormat.json:
        render(entries, output)
        return
    for entry in entries:
        typer.echo(f"=== datum {entry.datum_id} ({entry.state}) ===")
        typer.echo(entry.log.rstrip())


@group.command("restart")
def restart(job_id: str) -> None:
    """Run every failed datum of a job again in the pipeline's next job (`crowdline run`)."""
    with open_workspace() as ws:
        chosen = ws.pipelines.retry_datums(job_id)
    typer.echo(f"{len(chosen)} failed datum(s) of job {job_id} will run again at the next "
               "`crowdline run`" if chosen else f"job {job_id} has no failed datums")
