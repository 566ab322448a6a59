"""``crowdline lineage REPO@REF:/PATH [--row ID]``: where a file (or one row) came from."""

from __future__ import annotations

import typer

from crowdline.cli.output import OUTPUT_OPTION, OutputFormat, open_workspace, render


def register(app: typer.Typer) -> None:
    app.command(name="lineage")(lineage)


def lineage(
    target: str = typer.Argument(..., help="REPO@REF:/PATH of a file a pipeline wrote"),
    row: str = typer.Option(None, "--row", help="trace this row (its id) through every CSV"),
    id_column: str = typer.Option("id", "--id-column", help="the column holding row ids"),
    hook: str = typer.Option(None, "--hook", help="pkg.mod:fn adding what only the flow knows "
                             "(clickbait: crowdline_examples.clickbait.report:row_lineage)"),
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Walk a file back through the datums and jobs that made it to the files people
    committed; with --row, show that row at every step (raw row, answers, model version)."""
    from crowdline.cli.files import parse_target
    from crowdline.errors import InvalidInput

    repo, ref, path = parse_target(target, need_ref=True)
    if not path:
        raise InvalidInput(f"{target!r} names no file", hint="e.g. dataset@master:/parts/b1.csv")
    with open_workspace() as ws:
        root = ws.pipelines.trace(repo, ref, path, row=row, id_column=id_column, hook=hook)
    if output == OutputFormat.json:
        render(root, output)
        return
    _print(root, 0)
    for key, value in root.details.items():
        if isinstance(value, list):
            typer.echo(f"{key}:")
            for item in value:
                typer.echo(f"  {item}")
        else:
            typer.echo(f"{key}: {value}")


def _print(node, depth: int) -> None:  # type: ignore[no-untyped-def]
    pad = "  " * depth
    arrow = "← " if depth else ""
    made = (f"  (pipeline {node.pipeline}, job {node.job_id[:8]}, datum {node.datum_id[:8]}"
            f"{', as above' if node.repeated else ''})"
            if node.pipeline else "  (committed)" if node.traced else "")
    typer.echo(f"{pad}{arrow}{node.repo}@{node.commit[:8]}:{node.path}{made}")
    if node.row is not None:
        typer.echo(f"{pad}    row: " + ", ".join(f"{k}={v}" for k, v in node.row.items()))
    for child in node.inputs:
        _print(child, depth + 1)
