"""Helpers the pipeline tests share (commits, output contents, small specs)."""

from __future__ import annotations

from pathlib import Path

from crowdline.workspace import Workspace


def put(ws: Workspace, repo: str, files: dict[str, str | None], message: str = "test") -> str:
    """One commit on master: text puts a file, None deletes it."""
    with ws.store.commit(repo, "master", message=message) as writer:
        for path, text in files.items():
            if text is None:
                writer.delete_file(path)
            else:
                writer.put_file(path, text.encode())
    return writer.id


def contents(ws: Workspace, repo: str) -> dict[str, str]:
    return {info.path: ws.store.get_file(repo, "master", info.path).decode()
            for info in ws.store.walk_files(repo, "master") if info.type == "file"}


def spec(name: str, repo: str, transform: str, glob: str = "/*", **extra: object) -> dict:
    return {"pipeline": {"name": name}, "input": {"pfs": {"repo": repo, "glob": glob}},
            "transform": {"python": f"pipelines_testkit:{transform}"}, **extra}


def calls(paths: dict[str, Path]) -> list[str]:
    """What the test transforms noted, sorted."""
    if not paths["calls"].exists():
        return []
    return sorted(paths["calls"].read_text().split())
