"""``crowdline fsck``: check that every stored blob exists and hashes right."""

from __future__ import annotations

import typer

from crowdline.cli.output import OUTPUT_OPTION, OutputFormat, open_workspace, render
from crowdline.errors import IntegrityError


def register(app: typer.Typer) -> None:
    app.command(name="fsck")(fsck)


def fsck(output: OutputFormat = OUTPUT_OPTION) -> None:
    """Check every blob a commit references (exists, right hash) and every branch head."""
    with open_workspace() as ws:
        report = ws.store.fsck()
    if output == OutputFormat.json:
        render(report, output)
    else:
        typer.echo(f"checked {report.blobs_checked} blobs: "
                   + ("ok" if report.ok else f"{len(report.problems)} problems"))
        for problem in report.problems:
            typer.echo(f"  {problem}")
    if not report.ok:
        raise IntegrityError(f"fsck found {len(report.problems)} problems",
                             hint="restore the missing blobs from a backup, or re-put the files")
