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
    """Create jobs for new input commits, run them, wake waiting datums; exit when quiet.

    Each failed datum is named with its input files and the last lines of its error.
    Exit status 10 when a job failed."""
    from crowdline.pipelines.spec import parse_duration

    seconds = parse_duration(timeout, "--timeout") if timeout else None
    with open_workspace() as ws:
        report = ws.pipelines.run(timeout=seconds)
    if output == OutputFormat.json:
        render(report, output)
        if report.jobs_failed:
            raise typer.Exit(10)
        return
    recovered = f", {report.datums_recovered} recovered" if report.datums_recovered else ""
    typer.echo(f"jobs: {len(report.jobs_created)} created, {len(report.jobs_succeeded)} "
               f"succeeded, {len(report.jobs_failed)} failed; datums: "
               f"{report.datums_processed} processed, {report.datums_failed} failed{recovered}")
    for condition, count in sorted(report.waiting.items()):
        typer.echo(f"waiting: {count} datum(s) on {condition}")
    for warning in report.warnings:
        typer.secho(f"warning: {warning['pipeline']} (job {warning['job_id'][:8]}): "
                    f"{warning['message']}", fg="yellow", err=True)
    for failure in report.failures:
        _print_failure(failure)
    if report.jobs_unrunnable:  # their error names the upstream job that failed
        typer.echo("not run (an upstream job of their commit set failed or was superseded): "
                   + " ".join(j[:8] for j in report.jobs_unrunnable)
                   + " (`crowdline job inspect JOB` says which)")
    if report.jobs_failed:
        typer.echo("failed job(s): " + " ".join(report.jobs_failed)
                   + " (full logs: `crowdline job logs JOB`)")
        raise typer.Exit(10)


def _print_failure(failure: dict) -> None:
    if failure["state"] == "recovered":
        what = "recovered by its error handler"
    elif failure["skipped"]:
        what = f"rejected (report: {failure['pipeline']}@master:{failure['report']})"
    else:
        what = "FAILED"
    typer.echo(f"\n{failure['pipeline']}: datum {failure['datum_id'][:12]} {what}")
    for name in failure["inputs"]:
        typer.echo(f"  input: {name}")
    typer.echo(f"  error: {failure['error']}")
    for line in failure["log_tail"]:
        typer.echo(f"  | {line}")
    if failure["permanent"]:
        targets = " ".join(failure.get("files") or ["REPO@BRANCH:/PATH"])
        typer.echo("  invalid input: not retried until the file or the pipeline changes; put "
                   f"a fixed file, or: crowdline delete file {targets}")
    typer.echo(f"  logs: crowdline job logs {failure['job_id']} --datum {failure['datum_id']}")
