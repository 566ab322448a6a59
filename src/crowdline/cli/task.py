"""``crowdline task upload|list``: tasks and control tasks of a pool."""

from __future__ import annotations

from pathlib import Path

import typer

from crowdline.cli.output import OUTPUT_OPTION, OutputFormat, open_workspace, render

task_app = typer.Typer(help="Upload and list a pool's tasks (Toloka's task files).",
                       no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(task_app, name="task")


@task_app.command("upload")
def upload(pool_id: str = typer.Argument(..., help="pool id"),
           file: Path = typer.Option(..., "--file", "-f",
                                     help="CSV/TSV (INPUT:/GOLDEN:/HINT: columns), JSON or JSONL"),
           format: str = typer.Option(None, "--format", help="csv, tsv, json or jsonl"),
           open_pool: bool = typer.Option(False, "--open", help="open the pool afterwards"),
           output: OutputFormat = OUTPUT_OPTION) -> None:
    """Upload tasks; rows that fail validation are listed and skipped."""
    with open_workspace() as ws:
        from crowdline.crowd.uploads import UploadLimits

        report = ws.crowd.import_task_file(pool_id, file, format=format,
                                           limits=UploadLimits.from_settings(ws.settings))
        if open_pool:
            ws.crowd.open_pool(pool_id)
    if output == OutputFormat.json:
        render(report.to_dict(), output)
        return
    typer.echo(f"created {len(report.items)} tasks in pool {pool_id}; "
               f"rejected {len(report.validation_errors)} rows")
    for row, errors in sorted(report.validation_errors.items()):
        typer.echo(f"  row {row}: " + "; ".join(f"{k} {v}" for k, v in errors.items()))


@task_app.command("list")
def list_tasks(pool_id: str = typer.Argument(..., help="pool id"),
               limit: int = typer.Option(50, "--limit", help="at most this many"),
               output: OutputFormat = OUTPUT_OPTION) -> None:
    """List a pool's tasks."""
    with open_workspace() as ws:
        tasks = ws.crowd.list_tasks(pool_id, limit=limit)
        total = ws.crowd.count_tasks(pool_id) if len(tasks) == limit else len(tasks)
    render([t.to_dict() for t in tasks], output,
           columns=["id", "input_values", "overlap", "known_solutions"], total=total)
