"""``crowdline run``: process every pending job until nothing can progress, then exit."""

from __future__ import annotations

import typer

from crowdline.cli.output import OUTPUT_OPTION, OutputFormat, open_workspace, render


def register(app: typer.Typer) -> None:
    app.command(name="run")(run)


def run(
    timeout: str = typer.Option(None, "--timeout", help="stop after this long (e.g. 10m)"),
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Create jobs for new input commits, run them, wake waiting datums; exit when quiet."""
    from crowdline.pipelines.spec import parse_duration

    seconds = parse_duration(timeout, "--timeout") if timeout else None
    with open_workspace() as ws:
        report = ws.pipelines.run(timeout=seconds)
    if output == OutputFormat.json:
        render(report, output)
        return
    typer.echo(f"jobs: {len(report.jobs_created)} created, {len(report.jobs_succeeded)} "
               f"succeeded, {len(report.jobs_failed)} failed; datums: "
               f"{report.datums_processed} processed, {report.datums_failed} failed")
    for condition, count in sorted(report.waiting.items()):
        typer.echo(f"waiting: {count} datum(s) on {condition}")
    if report.jobs_failed:
        typer.echo("see `crowdline job logs JOB` for the failed jobs: "
                   + " ".join(report.jobs_failed))
        raise typer.Exit(10)
