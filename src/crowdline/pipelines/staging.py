"""Datum outputs kept on the coordinator's disk until the job's output commit lands.

One folder per finished batch (not per datum) keeps a 100,000-datum job to a few hundred
folders: ``<name>/files/...`` holds the batch's outputs at their output paths and
``<name>/manifest.json`` says which datum wrote which path. A batch is written under a
temporary name and renamed, so it is either whole or absent; the datum rows that point at it
are updated only after the rename. The output commit reads the folders with the store's
batched ``put_local``, so outputs are written to disk once.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import uuid
from pathlib import Path

MANIFEST = "manifest.json"
TRASH = ".trash-"


def _sweep(paths: list[Path]) -> None:
    """Delete folders in a daemon thread; what a process exit interrupts is swept later."""
    if not paths:
        return

    def work() -> None:
        for path in paths:
            shutil.rmtree(path, ignore_errors=True)

    threading.Thread(target=work, name="crowdline-staging-sweep", daemon=True).start()


class Staging:
    def __init__(self, root: Path) -> None:
        self.root = root

    def folder(self, pipeline: str) -> Path:
        return self.root / pipeline

    def write(self, pipeline: str, outputs: dict[str, list[tuple[str, bytes]]]) -> str:
        """Store ``{datum_id: [(path, data), ...]}``; returns the batch's name."""
        name = uuid.uuid4().hex
        temporary = self.folder(pipeline) / f".tmp-{name}"
        files = temporary / "files"
        files.mkdir(parents=True)
        made: set[Path] = {files}
        manifest: dict[str, list[str]] = {}
        for datum_id, written in outputs.items():
            manifest[datum_id] = [path for path, _ in written]
            for path, data in written:
                target = files / path.lstrip("/")
                if target.parent not in made:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    made.add(target.parent)
                target.write_bytes(data)
        (temporary / MANIFEST).write_text(json.dumps(manifest))
        os.replace(temporary, self.folder(pipeline) / name)
        return name

    def files(self, pipeline: str, name: str) -> Path:
        return self.folder(pipeline) / name / "files"

    def manifest(self, pipeline: str, name: str) -> dict[str, list[str]]:
        data: dict[str, list[str]] = json.loads(
            (self.folder(pipeline) / name / MANIFEST).read_text())
        return data

    def exists(self, pipeline: str, name: str) -> bool:
        return (self.folder(pipeline) / name / MANIFEST).exists()

    def remove(self, pipeline: str, names: set[str]) -> None:
        """Forget batches now (a rename each); their files are deleted in the background,
        so a job's end does not wait for 100,000 unlinks."""
        folder = self.folder(pipeline)
        trash = []
        for name in names:
            target = folder / f"{TRASH}{name}"
            try:
                os.replace(folder / name, target)
            except FileNotFoundError:
                continue
            trash.append(target)
        _sweep(trash)

    def remove_unreferenced(self, pipeline: str, referenced: set[str]) -> None:
        """Drop half-written batches, batches no datum row points at (after a crash) and
        trash a previous process did not finish deleting."""
        folder = self.folder(pipeline)
        if not folder.exists():
            return
        stale = [p for p in folder.iterdir() if p.name not in referenced]
        self.remove(pipeline, {p.name for p in stale if not p.name.startswith((TRASH, ".tmp-"))})
        _sweep([p for p in stale if p.name.startswith((TRASH, ".tmp-"))])

    def drop_pipeline(self, pipeline: str) -> None:
        shutil.rmtree(self.folder(pipeline), ignore_errors=True)
