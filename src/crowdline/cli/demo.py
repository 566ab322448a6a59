"""``crowdline demo``: the clickbait human-in-the-loop flow end to end, with a report."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from crowdline.cli.output import console
from crowdline.errors import InvalidInput

if TYPE_CHECKING:
    from crowdline.workspace import Workspace

DEMO_FOLDER = ".crowdline-demo"
DEMO_MARKER = "demo.json"  # only a folder the demo made is ever deleted by it


def register(app: typer.Typer) -> None:
    app.command(name="demo")(demo)


def demo(
    humans: bool = typer.Option(False, "--humans", help="wait for real people in the web UI "
                                "instead of the simulated crowd"),
    home: Path = typer.Option(None, "--home", help="workspace folder (default: "
                              "./.crowdline-demo); a folder an earlier demo made is recreated"),
    workers: int = typer.Option(3, "--workers", min=1, help="how many people label with "
                                "--humans (one invite link each; overlap and bans fit them)"),
    port: int = typer.Option(None, "--port", min=1, max=65535,
                             help="port of the web UI with --humans (default 8765)"),
) -> None:
    """Run the clickbait flow: commit a batch, label it (model + crowd), aggregate, retrain."""
    from crowdline.workspace import Workspace
    from crowdline_examples.clickbait import flow
    from crowdline_examples.clickbait.report import build_report

    folder = _fresh_folder(home)
    started = time.monotonic()
    workspace = Workspace.init(folder, **({"server_port": port} if port else {}))
    (folder / DEMO_MARKER).write_text('{"made_by": "crowdline demo"}\n')
    try:
        with console.status("setting up repos, configs and pipelines") as status:
            adapted = flow.set_up(workspace, backend="builtin" if humans else "simulated",
                                  people=workers if humans else None)
            status.update("training the first model on the seed labels")
            workspace.pipelines.run()
            status.update("committing batch 1 and running the flow")
            flow.commit_batch(workspace, flow.DATA_DIR / "batch_1.csv")
            if not humans:
                workspace.pipelines.run()
        for note in adapted:
            console.print(f"[yellow]for {workers} annotator(s):[/yellow] {note}")
        if humans:
            workspace.pipelines.run(until_quiet=True)  # route batch 1; labeling then waits
            _serve_for_humans(workspace, workers)
            _print_report(build_report(workspace), title="so far")
            return
        _print_report(build_report(workspace), title="after batch 1")
        with console.status("committing batch 2: only it is processed"):
            jobs_before = {job.id for job in workspace.pipelines.list_jobs()}
            flow.commit_batch(workspace, flow.DATA_DIR / "batch_2.csv")
            workspace.pipelines.run()
        _print_incremental(workspace, jobs_before)
        _print_report(build_report(workspace), title="after batch 2")
        console.print(f"[green]done[/green] in {time.monotonic() - started:.1f} s — workspace: "
                      f"{folder}\nlook around: {_activate_hint()}export CROWDLINE_HOME={folder}; "
                      "crowdline list commit dataset")
    finally:
        workspace.close()


def _activate_hint() -> str:
    """`make demo` runs crowdline from .venv without activating it: say how to, if needed."""
    import os
    import sys

    bin_dir = Path(sys.executable).parent
    on_path = any(Path(p).resolve() == bin_dir.resolve()
                  for p in os.environ.get("PATH", "").split(os.pathsep) if p)
    return "" if on_path else f". {bin_dir / 'activate'}; "


def _fresh_folder(home: Path | None) -> Path:
    """The demo's own workspace: recreated only if an earlier demo made it."""
    folder = (home or Path.cwd() / DEMO_FOLDER).absolute()
    if folder.exists() and any(folder.iterdir()):
        if not (folder / DEMO_MARKER).exists():
            raise InvalidInput(f"{folder} is not empty and was not made by `crowdline demo`",
                               hint="pass --home with an empty or new folder")
        shutil.rmtree(folder)
    return folder


def _serve_for_humans(workspace: Workspace, workers: int) -> None:
    """Serve the annotator UI with the pipelines' wake-up loop until Ctrl-C."""
    import threading

    import uvicorn

    from crowdline.server import create_app

    settings = workspace.settings
    links = [f"{settings.public_url}/join/{workspace.crowd.invite_worker(f'annotator {i + 1}')[1]}"
             for i in range(workers)]
    token = workspace.crowd.create_requester_token("demo")
    console.print(Panel("\n".join(links), title="invite links: open one in a browser and label"))
    console.print(f"dashboard: {settings.public_url}/dashboard (requester token: {token})")
    console.print("the label step waits for the pool to complete; Ctrl-C stops the server "
                  "(`crowdline serve` or `crowdline run` picks up where it stopped)")
    stop = threading.Event()
    loop = threading.Thread(target=workspace.pipelines.serve_forever, args=(stop,), daemon=True)
    loop.start()
    try:
        uvicorn.run(create_app(workspace), host=settings.server_host, port=settings.server_port,
                    log_level="warning", access_log=False)
    finally:
        stop.set()
        loop.join(timeout=10)


def _print_report(report: dict, *, title: str) -> None:
    table = Table(title=f"clickbait flow — {title}", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("figure")
    crowd = "the simulated crowd" if report.get("crowd") == "simulated" else "people"
    rows = [
        ("items labeled", report.get("items")),
        (f"  by {crowd}", report.get("labeled_by_people")),
        ("  by the model", report.get("labeled_by_model")),
        (f"  audit sample (checked by {crowd}, the model not voting)", report.get("audited")),
        ("judgments used", report.get("judgments")),
        ("judgments per crowd-labeled item", report.get("judgments_per_human_item")),
        ("label accuracy vs held-out truth", report.get("accuracy")),
        ("  people's labels" if crowd == "people" else "  the simulated crowd's labels",
         report.get("accuracy_human")),
        ("  model's labels", report.get("accuracy_model")),
        ("model versions", report.get("model_versions")),
    ]
    metrics = report.get("model_metrics") or {}
    first = report.get("first_model_metrics") or {}
    if metrics:
        rows.append(("model accuracy / F1 (held-out)",
                     f"{metrics.get('accuracy')} / {metrics.get('f1')} "
                     f"(first model: {first.get('accuracy')} / {first.get('f1')})"))
    threshold = report.get("routing_threshold")
    if threshold:
        rows.append(("routing threshold, next batch",
                     f"{threshold['threshold']}: {threshold['reason']}"))
    for label, value in rows:
        table.add_row(label, Text("" if value is None else str(value)))
    for ban in report.get("banned", []):
        table.add_row("banned", Text(f"{ban['worker']} ({ban['scope']}): {ban['why']}"))
    console.print(table)
    lineage = report.get("lineage")
    if lineage:
        # headlines and answers are user text: escaped, so "[...]" in them is not rich markup
        lines = [f"[bold]{escape(str(lineage['headline']))}[/bold] → "
                 f"{escape(str(lineage['label']))} (confidence {lineage['confidence']})",
                 "commits: " + " ← ".join(lineage["commits"]),
                 f"raw row: {escape(str(lineage['raw_row']))}",
                 f"routed by model {lineage['model_version']}; pool {lineage['pool']}, "
                 f"task {lineage['task']}"]
        for judgment in lineage["judgments"]:
            accuracy = judgment["honeypot_accuracy"]
            shown = "no honeypots yet" if accuracy is None else f"{accuracy:.2f}"
            lines.append(f"  {escape(str(judgment['worker']))}: "
                         f"{escape(str(judgment['answer']))} (honeypot accuracy {shown})")
        console.print(Panel("\n".join(lines), title="lineage of one label", highlight=False))


def _print_incremental(workspace: Workspace, jobs_before: set[str]) -> None:
    table = Table(title="batch 2: the jobs it triggered (datums processed vs skipped)")
    for column in ("pipeline", "job", "state", "processed", "skipped", "total"):
        table.add_column(column)
    for pipeline in workspace.pipelines.list_pipelines():
        jobs = [j for j in workspace.pipelines.list_jobs(pipeline.name) if j.id not in jobs_before
                and sum(j.datums.values())]
        if not jobs:
            continue
        job = jobs[0]
        table.add_row(pipeline.name, str(job.id)[:8], str(job.state),
                      str(job.datums.get("success", 0)), str(job.datums.get("skipped", 0)),
                      str(sum(job.datums.values())))
    console.print(table)
