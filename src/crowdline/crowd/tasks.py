"""Tasks: input values checked against the project's input spec; a task with known solutions
is a control task (honeypot) in a regular pool and a training task in a training pool.

Also the answer side of the spec: checking an annotator's ``output_values`` and comparing
them with known solutions.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from crowdline.crowd import tables as t
from crowdline.crowd.configs import MAX_OVERLAP
from crowdline.crowd.lifecycle import set_pool_status
from crowdline.crowd.models import Pool, Project, Task, TaskImportReport, now, utc
from crowdline.crowd.pools import get_pool
from crowdline.crowd.projects import get_project, label_values
from crowdline.crowd.transactions import key, missing
from crowdline.errors import InvalidInput, PoolNotFound, TaskNotFound, UnknownLabel

TASK_FIELDS = {"pool_id", "input_values", "known_solutions", "message_on_unknown_solution",
               "overlap", "infinite_overlap", "id", "created", "origin_task_id",
               "baseline_solutions"}
INSERT_CHUNK = 5000
# crowd_pools.grouping: how a pool groups its tasks into suites, fixed by its first upload
MIXER, SUITES = "MIXER", "SUITES"


# -- the answer side of the spec ----------------------------------------------------------


def output_field(project: Project) -> tuple[str, dict[str, Any]]:
    name, spec = next(iter(project.task_spec["output_spec"].items()))
    return name, spec


def check_output(project: Project, output_values: Any, where: str = "output_values"
                 ) -> dict[str, Any]:
    """The annotator's answer, normalised; UnknownLabel/InvalidInput when it is not valid."""
    name, spec = output_field(project)
    allowed = label_values(project.task_spec)
    if not isinstance(output_values, dict) or name not in output_values:
        raise InvalidInput(f"{where} must be an object with the field {name!r}",
                           hint=f'e.g. {{"{name}": "{(allowed or [""])[0]}"}}')
    extra = set(output_values) - set(project.task_spec["output_spec"])
    if extra:
        raise InvalidInput(f"{where} has fields the project does not define: "
                           f"{', '.join(sorted(extra))}")
    value = output_values[name]
    if spec["type"] == "boolean":
        if not isinstance(value, bool):
            raise UnknownLabel(f"{where}.{name} must be true or false, not {value!r}")
    elif spec["type"] == "array_string":
        if not isinstance(value, list) or any(v not in allowed for v in value):
            raise UnknownLabel(f"{where}.{name} {value!r} is not a list of allowed labels",
                               hint=f"allowed: {', '.join(map(str, allowed))}")
        value = sorted(set(value))
    elif value not in allowed:
        raise UnknownLabel(f"label {value!r} is not one of the allowed labels",
                           hint=f"allowed: {', '.join(map(str, allowed))}")
    return {**output_values, name: value}


def label_of(field: str, output_values: dict[str, Any] | None) -> Any:
    """The label an answer gives: a string (multi-label answers joined with '|')."""
    if not output_values or field not in output_values:
        return None
    value = output_values[field]
    if isinstance(value, list):
        return "|".join(sorted(map(str, value)))
    return value if isinstance(value, str) else str(value).lower() if isinstance(
        value, bool) else str(value)


def is_correct(field: str, output_values: dict[str, Any],
               known_solutions: list[dict[str, Any]] | None) -> bool | None:
    if not known_solutions:
        return None
    given = label_of(field, output_values)
    return any(label_of(field, s.get("output_values")) == given for s in known_solutions)


# -- input side -----------------------------------------------------------------------------


def _check_input(project: Project, values: Any) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not isinstance(values, dict):
        return {"input_values": "must be an object of the project's input fields"}
    spec = project.task_spec["input_spec"]
    for name, field in spec.items():
        if name not in values:
            if field.get("required", True):
                errors[f"input_values.{name}"] = "is required by the project's input spec"
            continue
        value, kind = values[name], field["type"]
        ok = {"string": isinstance(value, str), "url": isinstance(value, str) and bool(value),
              "integer": isinstance(value, int) and not isinstance(value, bool),
              "float": isinstance(value, (int, float)) and not isinstance(value, bool),
              "boolean": isinstance(value, bool), "json": True}[kind]
        if not ok:
            errors[f"input_values.{name}"] = f"must be a {kind}, not {type(value).__name__}"
    for name in values:
        if name not in spec:
            errors[f"input_values.{name}"] = "is not in the project's input spec"
    return errors


def check_task(item: Any, pool: Pool, project: Project, allow_defaults: bool
                ) -> tuple[dict[str, Any] | None, dict[str, str]]:
    if not isinstance(item, dict):
        return None, {"task": "must be an object"}
    errors = {f"{name}": "is not supported by crowdline" for name in item
              if name not in TASK_FIELDS}
    if pool.status == "ARCHIVED":
        errors["pool_id"] = f"pool {pool.id} is archived; clone it to add tasks"
    errors.update(_check_input(project, item.get("input_values")))
    known = item.get("known_solutions") or None
    if known is not None:
        if not isinstance(known, list):
            errors["known_solutions"] = "must be a list of {output_values: {...}}"
        else:
            for i, solution in enumerate(known):
                try:
                    check_output(project, (solution or {}).get("output_values"),
                                 f"known_solutions[{i}].output_values")
                except InvalidInput as exc:
                    errors[f"known_solutions[{i}]"] = exc.message
    baseline = item.get("baseline_solutions") or None
    if baseline is not None:
        errors.update(_check_baseline(project, baseline))
    if pool.type == "TRAINING" and not known:
        errors["known_solutions"] = "training tasks need known solutions (and a hint)"
    kind = "TRAINING" if pool.type == "TRAINING" else "GOLDEN" if known else "REAL"
    infinite = bool(item.get("infinite_overlap"))
    overlap = item.get("overlap")
    if infinite or (overlap is None and kind != "REAL"):
        overlap = None  # control and training tasks: each worker at most once, no cap
    elif overlap is None:
        if allow_defaults:
            overlap = pool.default_overlap
        else:
            errors["overlap"] = "is required when allow_defaults is false"
    elif isinstance(overlap, bool) or not isinstance(overlap, int) or not (
            1 <= overlap <= MAX_OVERLAP):
        errors["overlap"] = f"must be an integer in 1..{MAX_OVERLAP}, not {overlap!r}"
    if errors:
        return None, errors
    return {"pool_id": int(pool.id), "kind": kind, "input_values": item["input_values"],
            "known_solutions": known,
            "message_on_unknown_solution": item.get("message_on_unknown_solution"),
            "baseline_solutions": baseline,
            "overlap": overlap, "issued": 0, "available": True}, {}


PoolsSeen = dict[str, tuple[Pool, Project] | None]


def pool_of(conn: sa.Connection, item: Any, pools: PoolsSeen
            ) -> tuple[str, tuple[Pool, Project] | None]:
    """The pool (and project) an uploaded item names, read once per batch; None: no such
    pool."""
    pool_id = str(item.get("pool_id", "")) if isinstance(item, dict) else ""
    if pool_id not in pools:
        try:
            pool = get_pool(conn, pool_id)
            pools[pool_id] = (pool, get_project(conn, pool.project_id))
        except PoolNotFound:
            pools[pool_id] = None
    return pool_id, pools[pool_id]


def claim_grouping(conn: sa.Connection, pool_keys: Iterable[int], grouping: str) -> None:
    """Record how these pools group their tasks (MIXER: tasks for the mixer; SUITES:
    requester-made suites) as they get their first. A guarded UPDATE: of two first uploads
    racing, the later one sees the earlier one's choice and fails (nothing is created)."""
    c = t.pools.c
    for pool_key in sorted(set(pool_keys)):
        conn.execute(t.pools.update().where(c.id == pool_key, c.grouping.is_(None))
                     .values(grouping=grouping))
        current = conn.execute(sa.select(c.grouping).where(c.id == pool_key)).scalar()
        if current != grouping:
            raise InvalidInput(
                f"pool {pool_key} got {'task suites' if current == 'SUITES' else 'tasks'} "
                "another way meanwhile; as on Toloka, a pool groups its tasks one way",
                hint="use another pool for these")


def refuse_batch(errors: dict[int, dict[str, str]], total: int, noun: str) -> None:
    """All or nothing: the batch fails naming its first invalid item; nothing is created."""
    if not errors:
        return
    first = min(errors)
    raise InvalidInput(
        f"{len(errors)} of {total} {noun} are not valid; nothing was created (first, "
        f"#{first}: {errors[first]})",
        hint="fix them, or pass skip_invalid_items=True to create the valid ones",
        payload={"validation_errors": {str(k): v for k, v in errors.items()}})


def _check_baseline(project: Project, baseline: Any) -> dict[str, str]:
    """Toloka's baseline_solutions: a list of {output_values, confidence_weight in [0, 1]}."""
    if not isinstance(baseline, list):
        return {"baseline_solutions": "must be a list of {output_values: {...}, "
                                      "confidence_weight: 0..1}"}
    errors = {}
    for i, solution in enumerate(baseline):
        where = f"baseline_solutions[{i}]"
        solution = solution if isinstance(solution, dict) else {}
        try:
            check_output(project, solution.get("output_values"), f"{where}.output_values")
        except InvalidInput as exc:
            errors[where] = exc.message
            continue
        weight = solution.get("confidence_weight")
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not (
                0.0 <= weight <= 1.0):
            errors[f"{where}.confidence_weight"] = (
                f"must be a number in [0, 1] (the voter's chance of being right), not {weight!r}")
    return errors


def create_tasks(conn: sa.Connection, items: list[dict[str, Any]], *,
                 allow_defaults: bool = True, skip_invalid_items: bool = False,
                 open_pool: bool = False, report_items: bool = True) -> TaskImportReport:
    """Insert tasks (any pools); invalid ones are reported by position, or fail the batch."""
    pools: PoolsSeen = {}
    report = TaskImportReport()
    rows: list[tuple[int, dict[str, Any]]] = []
    for position, item in enumerate(items):
        pool_id, found = pool_of(conn, item, pools)
        if found is None:
            report.validation_errors[position] = {"pool_id": f"pool {pool_id!r} does not exist"}
            continue
        if found[0].grouping == SUITES:
            report.validation_errors[position] = {"pool_id": (
                f"pool {pool_id} holds requester-made task suites; as on Toloka, a pool does "
                "not also take tasks for the mixer: add them as task suites "
                "(POST /task-suites), or use another pool")}
            continue
        row, errors = check_task(item, *found, allow_defaults)
        if errors:
            report.validation_errors[position] = errors
        else:
            rows.append((position, row))  # type: ignore[arg-type]
    if not skip_invalid_items:
        refuse_batch(report.validation_errors, len(items), "tasks")
    claim_grouping(conn, {row["pool_id"] for _, row in rows}, MIXER)
    created = now()
    for start in range(0, len(rows), INSERT_CHUNK):
        chunk = rows[start:start + INSERT_CHUNK]
        params = [{**row, "created": created} for _, row in chunk]
        ids = insert_with_ids(conn, t.tasks, params)
        if report_items:
            for (position, row), task_key in zip(chunk, ids, strict=True):
                report.items[position] = _task_from(task_key, row, created)
    if open_pool:
        for found in pools.values():
            if found is not None and found[0].status == "CLOSED":
                set_pool_status(conn, int(found[0].id), "OPEN", created)
    return report


def insert_with_ids(conn: sa.Connection, table: sa.Table, params: list[dict[str, Any]]
                    ) -> list[int]:
    """Insert rows with ids chosen first, in order; returns the ids. A plain executemany is
    many times faster than INSERT ... RETURNING row by row."""
    if not params:
        return []
    if conn.dialect.name == "sqlite":
        # The transaction holds SQLite's write lock (BEGIN IMMEDIATE): the next ids are ours.
        first = conn.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))
                             ).scalar_one() + 1
        ids = list(range(first, first + len(params)))
    else:  # PostgreSQL: one round trip reserves the ids
        ids = sorted(conn.execute(sa.text(
            f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) "
            "FROM generate_series(1, :n)"), {"n": len(params)}).scalars().all())
    for row_key, param in zip(ids, params, strict=True):
        param["id"] = row_key
    conn.execute(table.insert(), params)
    return ids


def _task_from(task_key: int, row: dict[str, Any], created: Any) -> Task:
    return Task(id=str(task_key), pool_id=str(row["pool_id"]), input_values=row["input_values"],
                known_solutions=row["known_solutions"],
                message_on_unknown_solution=row["message_on_unknown_solution"],
                overlap=row["overlap"], infinite_overlap=row["overlap"] is None,
                created=created, baseline_solutions=row["baseline_solutions"])


def _task(row: Any) -> Task:
    return Task(id=str(row.id), pool_id=str(row.pool_id), input_values=row.input_values,
                known_solutions=row.known_solutions,
                message_on_unknown_solution=row.message_on_unknown_solution,
                overlap=row.overlap, infinite_overlap=row.overlap is None,
                created=utc(row.created), baseline_solutions=row.baseline_solutions)


task_of_row = _task  # for crowdline.crowd.search callers


def get_task(conn: sa.Connection, task_id: str) -> Task:
    row = conn.execute(sa.select(t.tasks).where(
        t.tasks.c.id == key(task_id, TaskNotFound, "task"))).first()
    if row is None:
        raise missing(TaskNotFound, "task", task_id)
    return _task(row)


def get_tasks(conn: sa.Connection, task_keys: Iterable[int]) -> dict[int, Any]:
    keys = sorted(set(task_keys))
    return {r.id: r for r in conn.execute(sa.select(t.tasks).where(t.tasks.c.id.in_(keys)))}


def list_tasks(conn: sa.Connection, pool_id: str, *, limit: int | None = None,
               after_id: str | None = None) -> list[Task]:
    pool = get_pool(conn, pool_id)
    query = sa.select(t.tasks).where(t.tasks.c.pool_id == int(pool.id)).order_by(t.tasks.c.id)
    if after_id is not None:
        query = query.where(t.tasks.c.id > key(after_id, TaskNotFound, "task"))
    if limit is not None:
        query = query.limit(limit)
    return [_task(r) for r in conn.execute(query)]


def count_tasks(conn: sa.Connection, pool_id: str) -> int:
    pool = get_pool(conn, pool_id)
    return int(conn.execute(sa.select(sa.func.count()).select_from(t.tasks).where(
        t.tasks.c.pool_id == int(pool.id))).scalar_one())


def set_task_overlap(conn: sa.Connection, task_id: str, overlap: int | None = None,
                     infinite_overlap: bool | None = None) -> Task:
    """Change a task's overlap; raising it sends the task back to the queue."""
    task = get_task(conn, task_id)
    suite_key = conn.execute(sa.select(t.tasks.c.suite_id).where(
        t.tasks.c.id == int(task.id))).scalar()
    if suite_key is not None:
        raise InvalidInput(f"task {task.id} belongs to task suite {suite_key}, which is issued "
                           "as a whole", hint=f"change the overlap of task suite {suite_key} "
                           "(patch_task_suite / patch_task_suite_overlap_or_min)")
    if infinite_overlap:
        new = None
    elif overlap is None:
        raise InvalidInput("give overlap, or infinite_overlap=True")
    elif isinstance(overlap, bool) or not isinstance(overlap, int) or not (
            1 <= overlap <= MAX_OVERLAP):
        raise InvalidInput(f"overlap must be an integer in 1..{MAX_OVERLAP}, not {overlap!r}")
    else:
        new = overlap
    c = t.tasks.c
    conn.execute(t.tasks.update().where(c.id == int(task.id)).values(
        overlap=new, available=sa.true() if new is None else c.issued < new))
    return get_task(conn, task_id)


PATCH_FIELDS = {"overlap", "infinite_overlap", "known_solutions",
                "message_on_unknown_solution", "baseline_solutions"}


def patch_task(conn: sa.Connection, task_id: str, patch: Any) -> Task:
    """Toloka's task patch: overlap / infinite_overlap, and a control or training task's
    known solutions and hint. A real task cannot become a control task here (its kind is
    fixed when it is created)."""
    if not isinstance(patch, dict):
        raise InvalidInput("a task patch must be an object")
    unknown = sorted(set(patch) - PATCH_FIELDS)
    if unknown or patch.get("baseline_solutions"):
        raise InvalidInput(f"task patch field(s) {', '.join(unknown or ['baseline_solutions'])}"
                           " are not supported", hint=f"patch {', '.join(sorted(PATCH_FIELDS))}")
    task = get_task(conn, task_id)
    if patch.get("overlap") is not None or patch.get("infinite_overlap"):
        task = set_task_overlap(conn, task_id, patch.get("overlap"),
                                patch.get("infinite_overlap"))
    values: dict[str, Any] = {}
    if patch.get("known_solutions") is not None:
        if not task.known_solutions:
            raise InvalidInput(f"task {task.id} is a real task; it has no known solutions",
                               hint="upload control tasks with known_solutions")
        project = get_project(conn, get_pool(conn, task.pool_id).project_id)
        solutions = patch["known_solutions"]
        if not isinstance(solutions, list) or not solutions:
            raise InvalidInput("known_solutions must be a non-empty list")
        values["known_solutions"] = [
            {"output_values": check_output(project, (s or {}).get("output_values"),
                                           f"known_solutions[{i}].output_values")}
            for i, s in enumerate(solutions)]
    if patch.get("message_on_unknown_solution") is not None:
        values["message_on_unknown_solution"] = str(patch["message_on_unknown_solution"])
    if values:
        conn.execute(t.tasks.update().where(t.tasks.c.id == int(task.id)).values(**values))
    return get_task(conn, task_id)
