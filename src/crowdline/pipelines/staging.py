"""Datum outputs kept on the coordinator's disk until the job's output commit lands.

One file per finished batch (not per datum) keeps a 100,000-datum job to a few hundred
files. A file is written to a temporary name and renamed, so it is either whole or absent;
the datum rows that point at it are updated only after the rename.
"""

from __future__ import annotations

import os
import pickle
import shutil
import uuid
from pathlib import Path


class Staging:
    def __init__(self, root: Path) -> None:
        self.root = root

    def folder(self, pipeline: str) -> Path:
        return self.root / pipeline

    def write(self, pipeline: str, outputs: dict[str, list[tuple[str, bytes]]]) -> str:
        """Store ``{datum_id: [(path, data), ...]}``; returns the batch file's name."""
        folder = self.folder(pipeline)
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{uuid.uuid4().hex}.batch"
        temporary = folder / f".tmp-{name}"
        with temporary.open("wb") as handle:
            pickle.dump(outputs, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, folder / name)
        return name

    def read(self, pipeline: str, name: str) -> dict[str, list[tuple[str, bytes]]]:
        with (self.folder(pipeline) / name).open("rb") as handle:
            data: dict[str, list[tuple[str, bytes]]] = pickle.load(handle)  # noqa: S301 - ours
        return data

    def exists(self, pipeline: str, name: str) -> bool:
        return (self.folder(pipeline) / name).exists()

    def remove(self, pipeline: str, names: set[str]) -> None:
        for name in names:
            (self.folder(pipeline) / name).unlink(missing_ok=True)

    def remove_unreferenced(self, pipeline: str, referenced: set[str]) -> None:
        """Drop half-written files and batches no datum row points at (after a crash)."""
        folder = self.folder(pipeline)
        if not folder.exists():
            return
        for path in folder.iterdir():
            if path.name not in referenced:
                path.unlink(missing_ok=True)

    def drop_pipeline(self, pipeline: str) -> None:
        shutil.rmtree(self.folder(pipeline), ignore_errors=True)
