"""File and row lineage: which datum of which job wrote a file, from which input files.

Provenance in the store is commit-granular; the datum rows of the pipelines part add the
file-level edges (a datum's input files → the paths it wrote), as Pachyderm's datum metadata
does. ``trace`` walks them back to files people committed. Given a row id, it follows the row
through every CSV on the way that has it (column ``id`` by default), and a hook
(``"pkg.mod:fn"``, called ``fn(workspace, root, row_id) -> dict``) may add what only the
flow knows (answers, workers, pools) to ``root.details``.

    node = ws.pipelines.trace("dataset", "master", "/parts/batch_1.csv", row="batch_1-00003")
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from crowdline.errors import NotFound
from crowdline.pipelines import tables as t
from crowdline.pipelines.states import DatumState, JobState
from crowdline.pipelines.transform import load_callable

MAX_NODES = 200


@dataclass
class LineageNode:
    repo: str
    commit: str
    path: str
    pipeline: str | None = None  # the pipeline that wrote the file; None: committed by people
    job_id: str | None = None
    datum_id: str | None = None
    row: dict[str, str] | None = None  # the traced row, when this file has it
    traced: bool = True  # False: listed as an input of the datum, not followed further
    repeated: bool = False  # written by a datum shown above (its inputs are listed there)
    inputs: list[LineageNode] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def walk(self) -> list[LineageNode]:
        """This node and every node under it, depth first."""
        found = [self]
        for child in self.inputs:
            found += child.walk()
        return found


class Tracer:
    def __init__(self, workspace: Any, *, row: str | None, id_column: str) -> None:
        self.workspace = workspace
        self.store = workspace.store
        self.engine: sa.Engine = workspace.engine
        self.row = row
        self.id_column = id_column
        self.nodes = 0
        self._datums: dict[tuple[str, str], Any] = {}
        self._rows: dict[tuple[str, str, str], dict[str, str] | None] = {}
        self._traced: set[tuple[str, str]] = set()
        self._no_ids: set[tuple[str, str, str]] = set()  # CSV files without the id column
        with t.reading(self.engine) as conn:
            self.pipelines = set(conn.execute(sa.select(t.pipelines.c.name)).scalars())

    def trace(self, repo: str, commit: str, path: str) -> LineageNode:
        self.nodes += 1
        node = LineageNode(repo, commit, path, row=self._find_row(repo, commit, path))
        if repo not in self.pipelines or self.nodes > MAX_NODES:
            return node
        datum = self._writer(repo, commit, path)
        if datum is None:
            return node
        node.pipeline, node.job_id, node.datum_id = repo, datum.job_id, datum.datum_id
        if (datum.job_id, datum.datum_id) in self._traced:
            node.repeated = True
            return node
        self._traced.add((datum.job_id, datum.datum_id))
        for part in datum.parts:
            for file_path, _hash, _size in part["files"]:
                child_row = self._find_row(part["repo"], part["commit"], file_path)
                # a CSV without the id column may still hold the row (under another key)
                follow = (self.row is None or child_row is not None
                          or (part["repo"], part["commit"], file_path) in self._no_ids)
                if follow and self.nodes < MAX_NODES:
                    node.inputs.append(self.trace(part["repo"], part["commit"], file_path))
                else:
                    node.inputs.append(LineageNode(part["repo"], part["commit"], file_path,
                                                   traced=False))
        return node

    def _writer(self, pipeline: str, commit: str, path: str) -> Any:
        """The newest successful datum, of a job no newer than ``commit``'s, that wrote
        ``path``."""
        key = (pipeline, commit)
        if key not in self._datums:
            self._datums[key] = self._datum_rows(pipeline, commit)
        for row in self._datums[key]:
            if path in (row.outputs or ()):
                return row
        return None

    def _datum_rows(self, pipeline: str, commit: str) -> list[Any]:
        info = self.store.inspect_commit(pipeline, commit)
        job_id = (info.metadata or {}).get("job_id")
        with t.reading(self.engine) as conn:
            query = (sa.select(t.datums.c.job_id, t.datums.c.datum_id, t.datums.c.parts,
                               t.datums.c.outputs)
                     .join(t.jobs, t.jobs.c.id == t.datums.c.job_id)
                     .where(t.jobs.c.pipeline == pipeline,
                            t.jobs.c.state == JobState.SUCCESS.value,
                            t.datums.c.state.in_([DatumState.SUCCESS.value,
                                                  DatumState.FAILED.value]),
                            t.datums.c.outputs.is_not(None))
                     .order_by(t.jobs.c.created_at.desc()))
            if job_id:
                made = conn.execute(sa.select(t.jobs.c.created_at)
                                    .where(t.jobs.c.id == job_id)).scalar()
                if made is not None:
                    query = query.where(t.jobs.c.created_at <= made)
            return list(conn.execute(query).all())

    def _find_row(self, repo: str, commit: str, path: str) -> dict[str, str] | None:
        if self.row is None or not path.endswith(".csv"):
            return None
        key = (repo, commit, path)
        if key not in self._rows:
            self._rows[key] = self._read_row(repo, commit, path)
        return self._rows[key]

    def _read_row(self, repo: str, commit: str, path: str) -> dict[str, str] | None:
        try:
            text = self.store.get_file(repo, commit, path).decode("utf-8")
        except (NotFound, UnicodeDecodeError):
            return None
        reader = csv.DictReader(io.StringIO(text))
        if self.id_column not in (reader.fieldnames or ()):
            self._no_ids.add((repo, commit, path))
            return None
        for record in reader:
            if record.get(self.id_column) == self.row:
                return dict(record)
        return None


def trace(workspace: Any, repo: str, ref: str, path: str, *, row: str | None = None,
          id_column: str = "id", hook: str | None = None) -> LineageNode:
    """Walk ``repo@ref:path`` back to the files people committed (see the module doc)."""
    commit = workspace.store.inspect_commit(repo, ref).id
    path = "/" + path.strip("/")
    tracer = Tracer(workspace, row=row, id_column=id_column)
    root = tracer.trace(repo, commit, path)
    if row is not None and root.row is None:
        raise NotFound(f"{repo}@{ref}:{path} has no row with {id_column} = {row!r}",
                       hint="check the id (or pass --id-column)")
    if hook:
        root.details = dict(load_callable(hook)(workspace, root, row) or {})
    return root
