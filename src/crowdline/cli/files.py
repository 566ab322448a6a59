"""File and commit verbs, Pachyderm style: ``put file``, ``get file``, ``list file``,
``list commit``, ``inspect commit``, ``diff file``, ``delete file``.
Targets read ``REPO@REF:/PATH``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from crowdline.cli.output import OUTPUT_OPTION, OutputFormat, console, open_workspace, render
from crowdline.errors import InvalidInput

if TYPE_CHECKING:
    from crowdline.store import CommitInfo

put_app = typer.Typer(help="Put data into a repo (each put is one commit).", no_args_is_help=True)
get_app = typer.Typer(help="Get data out of a repo.", no_args_is_help=True)
list_app = typer.Typer(help="List files or commits.", no_args_is_help=True)
inspect_app = typer.Typer(help="Show one commit in full, with its provenance.",
                          no_args_is_help=True)
diff_app = typer.Typer(help="Compare two commits.", no_args_is_help=True)
delete_app = typer.Typer(help="Delete data from a repo (each delete is one commit).",
                         no_args_is_help=True)

_PROGRESS_FROM = 200  # files: show a progress bar for puts at least this big


def register(app: typer.Typer) -> None:
    for name, group in (("put", put_app), ("get", get_app), ("list", list_app),
                        ("inspect", inspect_app), ("diff", diff_app), ("delete", delete_app)):
        app.add_typer(group, name=name)


def parse_target(text: str, *, need_ref: bool = False,
                 default_ref: str | None = None) -> tuple[str, str | None, str | None]:
    """``repo@ref:/path`` -> (repo, ref, path); ref and path may be missing."""
    repo, _, rest = text.partition("@")
    ref, _, path = rest.partition(":") if rest else ("", "", "")
    if not repo or (need_ref and not ref):
        raise InvalidInput(f"{text!r} is not REPO@REF[:/PATH]", hint="e.g. raw@master:/a.txt")
    return repo, ref or default_ref, path or None


@put_app.command("file")
def put_file(
    target: str = typer.Argument(..., help="REPO@BRANCH:/PATH"),
    local: str = typer.Option(..., "--file", "-f", help="local file or folder; - reads stdin"),
    recursive: bool = typer.Option(False, "--recursive", "-r", help="put a folder's files"),
    message: str = typer.Option("", "--message", "-m", help="commit message"),
) -> None:
    """Put a file, a folder (-r) or stdin (-f -) into a branch as one new commit."""
    repo, branch, path = parse_target(target, need_ref=True)
    source = Path(local)
    if local != "-" and source.is_dir() and not recursive:
        raise InvalidInput(f"{local} is a folder", hint="pass -r to put its files recursively")
    if local != "-" and not source.exists():
        raise InvalidInput(f"local path {local!r} does not exist")
    with open_workspace() as ws, ws.store.commit(repo, branch or "master",
                                                 message=message) as commit:
        if local == "-":
            if not path:
                raise InvalidInput("stdin needs a destination path", hint="e.g. raw@master:/a.txt")
            commit.put_file(path, sys.stdin.buffer)
        elif source.is_dir():
            total = sum(1 for f in source.rglob("*") if f.is_file())
            from rich.progress import Progress

            with Progress(console=console, disable=total < _PROGRESS_FROM) as progress:
                task = progress.add_task(f"put {local}", total=total)
                commit.put_local(source, path or "/",
                                 progress=lambda n: progress.advance(task, n))
        else:
            commit.put_local(source, path or "/")
    typer.echo(f"{repo}@{commit.info.branch}: commit {commit.info.id}")


@delete_app.command("file")
def delete_file(
    target: str = typer.Argument(..., help="REPO@BRANCH:/PATH"),
    recursive: bool = typer.Option(False, "--recursive", "-r", help="delete a folder's files"),
    message: str = typer.Option("", "--message", "-m", help="commit message"),
) -> None:
    """Delete a file (or a folder with -r) in a new commit; pipelines delete what they
    derived from it on their next run."""
    repo, branch, path = parse_target(target, need_ref=True)
    if not path or path.strip("/") == "" and not recursive:
        raise InvalidInput(f"{target!r} names no file", hint="e.g. raw@master:/bad.csv "
                           "(or REPO@BRANCH:/ -r to empty the branch)")
    with open_workspace() as ws:
        found = list(ws.store.walk_files(repo, branch, path))
        is_file = len(found) == 1 and found[0].path == "/" + path.strip("/")
        if found and not is_file and not recursive:
            raise InvalidInput(f"{repo}@{branch}:{path} is a folder of {len(found)} file(s)",
                               hint="pass -r to delete it and everything under it")
        with ws.store.commit(repo, branch, message=message or f"delete {path}") as commit:
            commit.delete_file(path)
    typer.echo(f"{repo}@{commit.info.branch}: commit {commit.info.id} deleted "
               f"{'1 file' if is_file else f'{len(found)} file(s)'} at {path}")


@get_app.command("file")
def get_file(
    target: str = typer.Argument(..., help="REPO@REF:/PATH (REF: branch or commit id)"),
    out: Path = typer.Option(None, "--output", "-o", help="local file or folder to write"),
) -> None:
    """Print a file to stdout, or write a file or folder to -o."""
    repo, ref, path = parse_target(target, need_ref=True)
    if not path:
        raise InvalidInput(f"{target!r} names no path", hint="e.g. raw@master:/a.txt")
    with open_workspace() as ws:
        store = ws.store
        files = list(store.walk_files(repo, ref, path))
        single = len(files) == 1 and files[0].path == "/" + path.strip("/")
        if out is None:
            if not single:
                raise InvalidInput(f"{path} is a folder", hint="pass -o FOLDER to download it")
            with store.open_file(repo, ref, path) as handle:
                while chunk := handle.read(1 << 20):
                    sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
        elif single and not out.is_dir():
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(store.get_file(repo, ref, path))
        else:
            written = store.download(repo, ref, path, out)
            typer.echo(f"wrote {len(written)} files under {out}", err=True)


@list_app.command("file")
def list_file(target: str = typer.Argument(..., help="REPO@REF[:/DIR]"),
              output: OutputFormat = OUTPUT_OPTION) -> None:
    """List a folder's direct children (files and folders)."""
    repo, ref, path = parse_target(target, need_ref=True)
    with open_workspace() as ws:
        found = ws.store.list_files(repo, ref, path or "/")
    render(found, output, columns=["path", "type", "size", "hash"])


@list_app.command("commit")
def list_commit(target: str = typer.Argument(..., help="REPO[@BRANCH], or a commit set id"),
                limit: int = typer.Option(None, "--limit", "-n", help="newest N only"),
                output: OutputFormat = OUTPUT_OPTION) -> None:
    """List finished commits, newest first; given a commit set id (the id `put file` printed),
    every commit of that set: the origin commit(s) and the pipelines' output commits."""
    repo, branch, _ = parse_target(target)
    with open_workspace() as ws:
        if branch is None and is_commit_set(ws, repo):
            found = ws.store.inspect_commit_set(repo).commits
        else:
            found = ws.store.list_commits(repo, branch, limit=limit)
    if output == OutputFormat.json:
        render(found, output)
        return
    render([_commit_row(c) for c in found], output,
           columns=["id", "branch", "finished_at", "size_bytes", "message",
                    "provenance"])


@inspect_app.command("commit")
def inspect_commit(target: str = typer.Argument(..., help="REPO@REF"),
                   lineage: bool = typer.Option(False, "--lineage",
                                                help="also every commit it was made from, "
                                                "down to the origin commits"),
                   output: OutputFormat = OUTPUT_OPTION) -> None:
    """Show a commit: parent, state, times, size, metadata and provenance."""
    repo, ref, _ = parse_target(target, need_ref=True)
    with open_workspace() as ws:
        info = ws.store.inspect_commit(repo, ref)
        upstream = ws.store.provenance(repo, info.id) if lineage else []
    if not lineage:
        render(info if output == OutputFormat.json else _commit_row(info), output)
        return
    if output == OutputFormat.json:
        render({"commit": info, "lineage": upstream}, output)
        return
    render(_commit_row(info), output)
    rows = [{**_commit_row(c), "origin": "origin" if not c.provenance else c.origin}
            for c in upstream]
    render(rows, output, title="lineage (transitive provenance)",
           columns=["repo", "id", "origin", "commit_set", "message", "provenance"])


@diff_app.command("file")
def diff_file(target: str = typer.Argument(..., help="REPO@REF (the newer commit)"),
              other: str = typer.Argument(None, help="REPO@OTHER (default: REF's parent)"),
              output: OutputFormat = OUTPUT_OPTION) -> None:
    """Show files added, modified and deleted going from OTHER to REF."""
    repo, ref, _ = parse_target(target, need_ref=True)
    other_ref = None
    if other:
        other_repo, other_ref, _ = parse_target(other, need_ref=True)
        if other_repo != repo:
            raise InvalidInput("diff compares two commits of one repo",
                               hint=f"write both as {repo}@REF")
    with open_workspace() as ws:
        changes = ws.store.diff(repo, ref, other_ref)
    render(changes, output, columns=["status", "path", "old_size", "new_size"])


def is_commit_set(ws: object, name: str) -> bool:
    """Is ``name`` a commit set id rather than a repo name?"""
    from crowdline.errors import NotFound

    store = ws.store  # type: ignore[attr-defined]
    try:
        store.inspect_repo(name)
    except NotFound:
        try:
            store.inspect_commit_set(name)
        except NotFound:
            return False
        return True
    return False


def _commit_row(info: CommitInfo) -> dict[str, object]:
    row = dict(vars(info))
    row["provenance"] = ", ".join(f"{p.repo}@{p.id}" for p in info.provenance) or "-"
    return row
