"""``crowdline pool create|list|inspect|open|close|archive|export``: pools of tasks."""

from __future__ import annotations

from pathlib import Path

import typer

from crowdline.cli.output import OUTPUT_OPTION, OutputFormat, open_workspace, render
from crowdline.cli.project import read_json

pool_app = typer.Typer(help="Pools: batches of tasks with overlap, honeypots and QC rules.",
                       no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(pool_app, name="pool")


@pool_app.command("create")
def create(file: Path = typer.Option(..., "--file", "-f", help="pool JSON (Toloka's shape)"),
           project_id: str = typer.Option(None, "--project", help="project id (overrides file)"),
           ignore: list[str] = typer.Option([], "--ignore",
                                            help="drop this unsupported field (repeatable)"),
           ) -> None:
    """Create a CLOSED pool from a JSON config."""
    config = read_json(file)
    if project_id is not None:
        config["project_id"] = project_id
    with open_workspace() as ws:
        pool = ws.crowd.create_pool(config, ignore=ignore)
    typer.echo(f"created pool {pool.id} ({pool.private_name}) in project {pool.project_id}")


@pool_app.command("list")
def list_pools(project_id: str = typer.Option(None, "--project", help="only this project"),
               status: str = typer.Option(None, "--status", help="OPEN, CLOSED or ARCHIVED"),
               output: OutputFormat = OUTPUT_OPTION) -> None:
    """List pools."""
    with open_workspace() as ws:
        pools = ws.crowd.list_pools(project_id=project_id, status=status)
    render([p.to_dict() for p in pools], output,
           columns=["id", "project_id", "private_name", "type", "status", "priority"])


@pool_app.command("inspect")
def inspect(pool_id: str = typer.Argument(..., help="pool id"),
            output: OutputFormat = OUTPUT_OPTION) -> None:
    """Show a pool's progress: tasks, assignments, answers, honeypot accuracy, bans."""
    with open_workspace() as ws:
        stats = ws.crowd.pool_stats(pool_id)
    if output == OutputFormat.json:
        render(stats, output)
        return
    _print_pool(stats)


def _print_pool(stats: dict) -> None:
    from crowdline.crowd.worker_overview import describe_ban

    done = stats["completion"]
    render({"pool": stats["pool_id"], "status": stats["status"],
            "tasks": f"{stats['tasks']:,} (+ {stats['control_tasks']:,} honeypots, "
                     f"{stats['training_tasks']:,} training)",
            "complete tasks": f"{done['tasks_complete']:,} of {done['tasks_total']:,} "
                              f"({done['ratio']:.0%})",
            "assignments": stats["assignments"] or "none yet",
            "labels so far": stats["label_distribution"] or "none yet"},
           OutputFormat.table, title=f"pool {stats['pool_id']}")
    names = stats["workers"]
    accuracy = stats["golden_accuracy"]
    people = [{"worker": f"{names.get(w, '?')} ({w})",
               "answers": stats["answers_per_worker"].get(w, 0),
               "honeypots": accuracy.get(w, {}).get("answers", 0),
               "honeypot_accuracy": accuracy.get(w, {}).get("accuracy")}
              for w in sorted(names, key=int)]
    if people:
        render(people, OutputFormat.table, title="annotators",
               columns=["worker", "answers", "honeypots", "honeypot_accuracy"])
    bans = [{"worker": f"{b['worker'] or '?'} ({b['worker_id']})", "scope": b["scope"].lower(),
             "why": describe_ban(b["qc"]) if b["qc"] else (b["private_comment"] or "set by hand"),
             "until": b["will_expire"] or "permanent"} for b in stats["bans"]]
    if bans:
        render(bans, OutputFormat.table, title="bans", columns=["worker", "scope", "why", "until"])


def _set_status(pool_id: str, verb: str) -> None:
    with open_workspace() as ws:
        pool = getattr(ws.crowd, f"{verb}_pool")(pool_id)
    typer.echo(f"pool {pool.id} is {pool.status}")


@pool_app.command("open")
def open_(pool_id: str = typer.Argument(..., help="pool id")) -> None:
    """Open a pool: annotators start getting its tasks."""
    _set_status(pool_id, "open")


@pool_app.command("close")
def close(pool_id: str = typer.Argument(..., help="pool id")) -> None:
    """Close a pool: no new task suites are issued."""
    _set_status(pool_id, "close")


@pool_app.command("archive")
def archive(pool_id: str = typer.Argument(..., help="pool id")) -> None:
    """Archive a closed pool (read-only from then on)."""
    _set_status(pool_id, "archive")


EXPORT_KINDS = ("answers", "labels", "label-studio")


@pool_app.command("export")
def export(pool_id: str = typer.Argument(..., help="pool id"),
           what: str = typer.Option("answers", "--what",
                                    help="answers, labels (aggregated, with confidence) or "
                                    "label-studio (Label Studio's JSON export)"),
           fmt: str = typer.Option("csv", "--format", help="csv, jsonl or parquet"),
           out: Path = typer.Option(None, "--output-file", "-O",
                                    help="write here (default: standard output)"),
           repo: str = typer.Option(None, "--repo",
                                    help="instead, commit answers and tasks to this store repo"),
           branch: str = typer.Option("master", "--branch", help="branch (with --repo)"),
           ) -> None:
    """Export a pool's answers or labels as a file, or commit them to a store repo."""
    import json
    import sys

    from crowdline.errors import InvalidInput

    if what not in EXPORT_KINDS:
        raise InvalidInput(f"--what {what!r} is not one of {', '.join(EXPORT_KINDS)}")
    with open_workspace() as ws:
        if repo is not None:
            info = ws.crowd.export_pool(pool_id, repo, branch)
            typer.echo(f"exported pool {pool_id} to {repo}@{info.id}")
            return
        if what == "label-studio":
            data = json.dumps(ws.crowd.export_label_studio(pool_id), indent=2).encode()
        elif what == "labels":
            data = ws.crowd.export_labels(pool_id, fmt)
        else:
            data = ws.crowd.export_answers(pool_id, fmt)
    if out is None:
        if fmt == "parquet" and what != "label-studio" and sys.stdout.isatty():
            raise InvalidInput("parquet is binary: not writing it to a terminal",
                               hint="add -O FILE.parquet")
        sys.stdout.buffer.write(data)
        return
    out.write_bytes(data)
    typer.echo(f"wrote {len(data):,} bytes to {out}")


@pool_app.command("import")
def import_(file: Path = typer.Argument(..., help="Label Studio JSON export (a list of tasks)"),
            name: str = typer.Option(None, "--name", help="project and pool name "
                                     "(default: the file's name)"),
            output: OutputFormat = OUTPUT_OPTION) -> None:
    """Import a Label Studio JSON export: tasks and annotations become a project, a closed
    pool and its answers (aggregate, inspect and export them like any pool)."""
    import json

    from crowdline.errors import InvalidInput

    try:
        tasks = json.loads(file.read_bytes())
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"cannot read {file} as JSON: {exc}",
                           hint="export from Label Studio in its JSON format") from exc
    with open_workspace() as ws:
        report = ws.crowd.import_label_studio(tasks, name=name or file.stem)
    if output == OutputFormat.json:
        render(report.to_dict(), output)
        return
    typer.echo(f"imported {report.tasks} tasks and {report.answers} answers from "
               f"{report.workers} annotators into project {report.project_id}, pool "
               f"{report.pool_id}" + (f" ({report.skipped_results} non-choice results skipped)"
                                      if report.skipped_results else ""))
