"""``crowdline wait commit SET`` and ``crowdline commit`` (several repos, one commit set)."""

from __future__ import annotations

from pathlib import Path

import typer

from crowdline.cli.files import parse_target
from crowdline.cli.output import err_console, open_workspace
from crowdline.errors import InvalidInput

wait_app = typer.Typer(help="Wait for commit sets to be processed.", no_args_is_help=True)

# How a commit set ended, as `crowdline wait commit` exit statuses.
EXIT_STATUS = {"success": 0, "failed": 10, "unrunnable": 11, "killed": 12}
TIMED_OUT = 124


def register(app: typer.Typer) -> None:
    app.add_typer(wait_app, name="wait")
    app.command("commit")(commit)


@wait_app.command("commit")
def wait_commit(
    commit_set: str = typer.Argument(..., help="commit set id (the origin commit's id)"),
    timeout: float = typer.Option(None, "--timeout", help="give up after this many seconds"),
) -> None:
    """Block until every job of a commit set has ended (`crowdline serve` or `crowdline run`
    runs them). Exit status: 0 every job succeeded, 10 a job failed, 11 a job was
    unrunnable (an upstream job failed), 12 a job was killed or superseded, 124 timed out."""

    def show(status) -> None:  # type: ignore[no-untyped-def]
        for job in status.jobs:
            note = job.reason if job.state == "created" else (job.error or "")
            err_console.print(f"{job.pipeline:<30} {job.id}  {job.state:<10} {note}",
                              highlight=False, markup=False)

    with open_workspace() as ws:
        status = ws.pipelines.wait_commit_set(commit_set, timeout=timeout, on_change=show)
    if not status.done:
        typer.echo(f"commit set {commit_set}: still running after {timeout} s")
        raise typer.Exit(TIMED_OUT)
    typer.echo(f"commit set {commit_set}: {status.state} ({len(status.jobs)} jobs)")
    raise typer.Exit(EXIT_STATUS.get(str(status.state), 1))


def commit(
    puts: list[str] = typer.Option(..., "--put", "-p",
                                   help="REPO@BRANCH:/PATH=LOCAL_FILE (repeat for more)"),
    message: str = typer.Option("", "--message", "-m", help="commit message"),
) -> None:
    """Put files into several repos as one transaction: the commits become visible together
    and form one commit set, so a pipeline reading several of them runs once, on all."""
    parsed = []
    for item in puts:
        target, sep, local = item.partition("=")
        repo, branch, path = parse_target(target, need_ref=True)
        if not sep or not path or not Path(local).is_file():
            raise InvalidInput(f"{item!r} is not REPO@BRANCH:/PATH=LOCAL_FILE",
                               hint="e.g. --put raw@master:/a.csv=./a.csv (an existing file)")
        parsed.append((repo, branch or "master", path, Path(local)))
    with open_workspace() as ws, ws.store.transaction() as tx:
        writers = {}
        for repo, branch, path, local in parsed:
            if (repo, branch) not in writers:
                writers[(repo, branch)] = tx.commit(repo, branch, message=message)
            writers[(repo, branch)].put_local(local, path)
    for (repo, branch), writer in writers.items():
        typer.echo(f"{repo}@{branch}: commit {writer.id}")
    typer.echo(f"commit set {tx.id}")
