"""One labeling step, several crowds: the labeling back-end protocol and ``label_batch``.

A pipeline step that needs people calls ``label_batch(backend, ...)`` with its rows; the
back-end is the built-in service (people in crowdline's web UI), the simulated crowd (demos and
benchmarks, in ``crowdline.crowd.simulate``), or Toloka (``TolokaBackend``: real Toloka or
another crowdline server through toloka-kit). They all do the same few things:

    ensure_project(config) -> id        ensure_pool(project_id, config) -> id
    upload_tasks(pool_id, tasks, honeypots)  (once; a rerun uploads nothing)
    open_pool(pool_id)   is_pool_complete(pool_id) -> bool   close_pool(pool_id)
    answers_frame(pool_id, include_golden=...)   bans(pool_id)

Tasks carry the caller's row id in a hidden input field (``row_id``: Toloka's ``hidden``
input, never shown to annotators), so answers come back keyed by row, not matched by text.
Every step is idempotent: a retried or resumed datum never duplicates a project, pool or task.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from crowdline.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd

    from crowdline.crowd import Crowd

ROW_FIELD = "row_id"
ANSWER_COLUMNS = ["row_id", "task", "worker", "label", "assignment", "submitted", "is_golden",
                  "golden_label"]
BAN_COLUMNS = ["worker", "scope", "reason", "until", "restriction_id"]


class LabelingBackend(Protocol):
    """What a crowd must offer a labeling step (see the module docstring)."""

    name: str

    def ensure_project(self, config: Mapping[str, Any]) -> str: ...

    def ensure_pool(self, project_id: str, config: Mapping[str, Any]) -> str: ...

    def upload_tasks(self, pool_id: str, tasks: Sequence[Mapping[str, Any]],
                     honeypots: Sequence[Mapping[str, Any]] = ()) -> int: ...

    def open_pool(self, pool_id: str) -> None: ...

    def is_pool_complete(self, pool_id: str) -> bool: ...

    def close_pool(self, pool_id: str) -> None: ...

    def answers_frame(self, pool_id: str, *, include_golden: bool = False,
                      include_banned: bool = True) -> pd.DataFrame: ...

    def bans(self, pool_id: str) -> pd.DataFrame: ...

    def wait_params(self) -> dict[str, Any]:
        """How ``pool_complete`` rebuilds this back-end in a later process (no secrets)."""
        ...


def with_row_field(project: Mapping[str, Any]) -> dict[str, Any]:
    """The project config with the hidden ``row_id`` input added (a copy)."""
    config = copy.deepcopy(dict(project))
    inputs = config.setdefault("task_spec", {}).setdefault("input_spec", {})
    inputs.setdefault(ROW_FIELD, {"type": "string", "required": False, "hidden": True})
    return config


class BuiltinBackend:
    """The built-in labeling service: people work in crowdline's web UI (`crowdline serve`)."""

    name = "builtin"

    def __init__(self, crowd: Crowd) -> None:
        self.crowd = crowd

    def ensure_project(self, config: Mapping[str, Any]) -> str:
        name = config.get("public_name")
        if not name:
            raise InvalidInput("the project config needs public_name")
        for project in self.crowd.list_projects(status="ACTIVE"):
            if project.public_name == name:
                if ROW_FIELD not in project.task_spec.get("input_spec", {}):
                    current = {k: v for k, v in project.to_dict().items()
                               if k not in ("id", "status", "created")}
                    self.crowd.update_project(project.id, with_row_field(current))
                return project.id
        return self.crowd.create_project(with_row_field(config)).id

    def ensure_pool(self, project_id: str, config: Mapping[str, Any]) -> str:
        name = config.get("private_name")
        if not name:
            raise InvalidInput("the pool config needs private_name")
        for pool in self.crowd.list_pools(project_id=project_id):
            if pool.private_name == name and pool.status != "ARCHIVED":
                return pool.id
        return self.crowd.create_pool({**config, "project_id": project_id}).id

    def upload_tasks(self, pool_id: str, tasks: Sequence[Mapping[str, Any]],
                     honeypots: Sequence[Mapping[str, Any]] = ()) -> int:
        if self.crowd.count_tasks(pool_id):
            return 0
        items = [{**dict(item), "pool_id": pool_id} for item in [*tasks, *honeypots]]
        if not items:
            return 0
        report = self.crowd.create_tasks(items, allow_defaults=True, report_items=False)
        if report.validation_errors:
            row, errors = next(iter(report.validation_errors.items()))
            raise InvalidInput(f"task #{row} was refused by pool {pool_id}: {errors}")
        return len(items)

    def open_pool(self, pool_id: str) -> None:
        if self.crowd.get_pool(pool_id).status != "OPEN":
            self.crowd.open_pool(pool_id)

    def is_pool_complete(self, pool_id: str) -> bool:
        return self.crowd.is_pool_complete(pool_id)

    def close_pool(self, pool_id: str) -> None:
        if self.crowd.get_pool(pool_id).status == "OPEN":
            self.crowd.close_pool(pool_id)

    def answers_frame(self, pool_id: str, *, include_golden: bool = False,
                      include_banned: bool = True) -> pd.DataFrame:
        import pandas as pd

        frame = self.crowd.answers_frame(pool_id, include_golden=include_golden,
                                         include_banned=include_banned)
        tasks = {t.id: t for t in self.crowd.list_tasks(pool_id)}
        frame["row_id"] = [tasks[str(k)].input_values.get(ROW_FIELD) if str(k) in tasks
                           else None for k in frame["task"]]
        if include_golden:
            frame["is_golden"] = [bool(tasks[str(k)].known_solutions) for k in frame["task"]]
            frame["golden_label"] = [_known_label(tasks[str(k)].known_solutions)
                                     for k in frame["task"]]
        return frame if len(frame) else pd.DataFrame(columns=ANSWER_COLUMNS)

    def bans(self, pool_id: str) -> pd.DataFrame:
        import pandas as pd

        pool = self.crowd.get_pool(pool_id)
        rows = [{"worker": r.user_id, "scope": r.scope, "reason": r.private_comment or "",
                 "until": r.will_expire, "restriction_id": r.id}
                for r in self.crowd.list_restrictions()
                if r.scope == "ALL_PROJECTS" or (r.scope == "POOL" and r.pool_id == pool.id)
                or (r.scope == "PROJECT" and r.project_id == pool.project_id)]
        return pd.DataFrame(rows, columns=BAN_COLUMNS)

    def wait_params(self) -> dict[str, Any]:
        return {"backend": self.name}


def _known_label(known: Any) -> Any:
    if not known:
        return None
    values = known[0].get("output_values") or {}
    return next(iter(values.values()), None)


@dataclass
class LabelingResult:
    """What a finished pool gave: answers (banned workers' kept, flagged by ``bans``)."""

    pool_id: str
    answers: pd.DataFrame
    bans: pd.DataFrame


def label_batch(backend: LabelingBackend, *, project: Mapping[str, Any],
                pool: Mapping[str, Any], rows: Sequence[tuple[str, Mapping[str, Any]]],
                honeypots: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]] = (),
                overlap: int | Mapping[str, int] | None = None,
                baseline_solutions: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
                ) -> LabelingResult:
    """The whole labeling step of a pipeline datum, safe to run again and again.

    ``rows``: (row id, input values); ``honeypots``: (input values, known output values);
    ``overlap``: every task's overlap, or row id → overlap (rows left out get the pool's);
    ``baseline_solutions``: row id → Toloka's preliminary answers (``output_values`` and
    ``confidence_weight``, e.g. a model's label and probability), which dynamic overlap
    counts as a voter when it decides whether a task needs another answer.
    First run: project, pool, tasks and honeypots, the pool opened, then
    ``WaitFor(pool_complete)`` — the datum waits without holding a worker. The run after the
    wake: every answer (with ``row_id``, ``is_golden``, ``golden_label``) and the bans, and
    the pool closed.
    """
    from crowdline.pipelines import WaitFor

    project_id = backend.ensure_project(with_row_field(project))
    pool_id = backend.ensure_pool(project_id, pool)
    baseline_solutions = baseline_solutions or {}
    overlaps = overlap if isinstance(overlap, Mapping) else {}
    tasks = [{"input_values": {**dict(values), ROW_FIELD: str(row_id)},
              **({"overlap": overlap} if isinstance(overlap, int) and overlap else {}),
              **({"overlap": overlaps[str(row_id)]} if overlaps.get(str(row_id)) else {}),
              **({"baseline_solutions": [dict(b) for b in baseline_solutions[str(row_id)]]}
                 if baseline_solutions.get(str(row_id)) else {})}
             for row_id, values in rows]
    known = [{"input_values": dict(values), "known_solutions": [{"output_values": dict(out)}],
              "infinite_overlap": True} for values, out in honeypots]
    backend.upload_tasks(pool_id, tasks, known)
    if not backend.is_pool_complete(pool_id):
        backend.open_pool(pool_id)
        if not backend.is_pool_complete(pool_id):  # a simulated crowd may finish at once
            raise WaitFor(f"{__name__}:pool_complete", pool_id=pool_id,
                          **backend.wait_params())
    result = LabelingResult(pool_id, backend.answers_frame(pool_id, include_golden=True),
                            backend.bans(pool_id))
    backend.close_pool(pool_id)
    return result


def backend_for(workspace: Any, params: Mapping[str, Any]) -> LabelingBackend:
    """The back-end ``params["backend"]`` names: "builtin" (the workspace's crowd) or
    "toloka" (URL and token from params, the pipelines' secret ``toloka``, or the env)."""
    name = params.get("backend", "builtin")
    if name == "builtin":
        return BuiltinBackend(workspace.crowd)
    if name == "toloka":
        from crowdline.crowd.toloka_backend import TolokaBackend

        return TolokaBackend.from_config(workspace, params)
    raise InvalidInput(f"unknown labeling back-end {name!r}",
                       hint="use builtin, simulated or toloka")


def pool_complete(workspace: Any, params: Mapping[str, Any]) -> bool:
    """Wake condition of a waiting labeling datum: is its pool done on its back-end?"""
    if "pool_id" not in params:
        raise InvalidInput("pool_complete needs params['pool_id']")
    return backend_for(workspace, params).is_pool_complete(str(params["pool_id"]))
