"""Requester-made task suites (Toloka's ``/task-suites``): create, read, search, patch, and
the claim that issues one.

A pool groups its tasks one way, as on Toloka: by the mixer (tasks uploaded one by one, put
into suites at issue time) or in suites the requester makes (``crowd_pools.grouping`` is
``SUITES``). A suite's tasks are ordinary rows of ``crowd_tasks`` (answers, honeypot checks,
quality control, aggregation and exports see them as any task) with ``suite_id`` set and
``available`` false, so the mixer never picks them; their ``overlap`` mirrors the suite's.
The suite row holds the overlap slots: a claim is one guarded
``UPDATE ... SET issued = issued + 1 WHERE issued < overlap`` (rows picked by the index
``(pool, available, issuing_order_override DESC, id)``, ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL), a worker who ever had the suite is passed over, and ``crowd_answers``' key
(task, worker) makes a second copy to one worker impossible.
"""

from __future__ import annotations

import random
from typing import Any

import sqlalchemy as sa

from crowdline.crowd import tables as t
from crowdline.crowd.configs import MAX_OVERLAP, MAX_SUITE_TASKS
from crowdline.crowd.lifecycle import set_pool_status
from crowdline.crowd.models import Pool, Project, SuiteImportReport, TaskSuite, now, utc
from crowdline.crowd.pools import get_pool
from crowdline.crowd.search import Search, search_rows
from crowdline.crowd.tasks import (
    MIXER,
    SUITES,
    PoolsSeen,
    check_task,
    claim_grouping,
    get_tasks,
    insert_with_ids,
    pool_of,
    refuse_batch,
)
from crowdline.crowd.transactions import key, missing
from crowdline.database.driver import Driver
from crowdline.errors import InvalidInput, TaskNotFound, TaskSuiteNotFound

ORDER_LIMIT = 99999.99999  # Toloka's range of issuing_order_override
# Read-only fields of Toloka's TaskSuite: a client may echo them back; they are not settings.
READ_ONLY = frozenset({"id", "created", "remaining_overlap", "automerged"})
# Toloka settings crowdline does not implement: refused by name when they are not empty.
UNSUPPORTED = ("reserved_for", "unavailable_for", "traits_all_of", "traits_any_of",
               "traits_none_of_any", "longitude", "latitude")
SUITE_FIELDS = frozenset({"pool_id", "tasks", "overlap", "infinite_overlap",
                          "issuing_order_override", "mixed", *UNSUPPORTED, *READ_ONLY})
TASK_IN_SUITE_FIELDS = frozenset({"input_values", "known_solutions",
                                  "message_on_unknown_solution", "pool_id", "id", "created",
                                  "origin_task_id"})
PATCH_FIELDS = frozenset({"overlap", "infinite_overlap", "issuing_order_override"})


# -- validation -------------------------------------------------------------------------------


def _pool_refusal(conn: sa.Connection, pool: Pool) -> str | None:
    """Why this pool cannot take requester suites, or None."""
    if pool.type == "TRAINING":
        return (f"pool {pool.id} is a training pool; upload its training tasks with "
                "POST /tasks (crowdline takes requester suites in regular pools)")
    if pool.status == "ARCHIVED":
        return f"pool {pool.id} is archived; clone it to add task suites"
    # pools from before groupings were recorded: any task of theirs is the mixer's
    if pool.grouping == MIXER or (pool.grouping is None and conn.execute(
            sa.select(t.tasks.c.id).where(t.tasks.c.pool_id == int(pool.id)).limit(1)
    ).first() is not None):
        return (f"pool {pool.id} groups its tasks with the mixer (its tasks were uploaded "
                "one by one); as on Toloka, a pool does not take both: put task suites in a "
                "pool of their own")
    return None


def check_overlap(value: Any, *, lowest: int) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or not (
            lowest <= value <= MAX_OVERLAP):
        return f"must be an integer in {lowest}..{MAX_OVERLAP}, not {value!r}"
    return None


def _check_order(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not (
            -ORDER_LIMIT <= value <= ORDER_LIMIT):
        return f"must be a number in -{ORDER_LIMIT}..{ORDER_LIMIT}, not {value!r}"
    return None


def _suite_overlap(item: dict[str, Any], pool: Pool, allow_defaults: bool,
                   errors: dict[str, str]) -> int | None:
    overlap, infinite = item.get("overlap"), item.get("infinite_overlap")
    if infinite is True:
        if overlap is not None:
            errors["overlap"] = "give overlap or infinite_overlap=true, not both"
        return None
    if overlap is None:
        if allow_defaults:
            return int(pool.defaults.get("default_overlap_for_new_task_suites")
                       or pool.default_overlap)
        errors["overlap"] = ("is required when allow_defaults is false (or set "
                             "infinite_overlap=true)")
        return None
    problem = check_overlap(overlap, lowest=1)
    if problem:
        errors["overlap"] = problem
    return overlap


def _check_suite(item: Any, pool: Pool, project: Project, refusal: str | None,
                 allow_defaults: bool) -> tuple[dict[str, Any], list[dict[str, Any]],
                                                dict[str, str]]:
    if not isinstance(item, dict):
        return {}, [], {"task_suite": "must be an object with pool_id and tasks"}
    errors = {name: "is not a task suite field" for name in item if name not in SUITE_FIELDS}
    for name in UNSUPPORTED:
        if item.get(name) not in (None, [], ()):
            errors[name] = "is not supported by crowdline; remove it"
    if item.get("mixed") not in (None, False):
        errors["mixed"] = ("must be false: mixed=true marks suites the mixer made, and a "
                           "requester suite is grouped by hand")
    if refusal:
        errors["pool_id"] = refusal
    overlap = _suite_overlap(item, pool, allow_defaults, errors)
    order = item.get("issuing_order_override", 0) or 0
    problem = _check_order(order)
    if problem:
        errors["issuing_order_override"] = problem
    tasks = item.get("tasks")
    rows: list[dict[str, Any]] = []
    if not isinstance(tasks, list) or not tasks:
        errors["tasks"] = "a task suite needs a non-empty list of tasks"
        tasks = []
    elif len(tasks) > MAX_SUITE_TASKS:
        errors["tasks"] = f"a task suite holds at most {MAX_SUITE_TASKS} tasks, not {len(tasks)}"
        tasks = []
    for i, task in enumerate(tasks):
        where = f"tasks[{i}]"
        if not isinstance(task, dict):
            errors[where] = "must be an object with input_values"
            continue
        for name in task:
            if name in ("overlap", "infinite_overlap"):
                errors[f"{where}.{name}"] = "set the overlap on the suite, not on its tasks"
            elif name not in TASK_IN_SUITE_FIELDS:
                errors[f"{where}.{name}"] = "is not a field of a task in a suite"
        if task.get("pool_id") is not None and str(task["pool_id"]) != pool.id:
            errors[f"{where}.pool_id"] = (f"names pool {task['pool_id']}; every task of a suite "
                                          f"belongs to the suite's pool {pool.id}")
        row, task_errors = check_task(
            {"input_values": task.get("input_values"),
             "known_solutions": task.get("known_solutions"),
             "message_on_unknown_solution": task.get("message_on_unknown_solution"),
             "infinite_overlap": True}, pool, project, True)
        errors.update({f"{where}.{name}": message for name, message in task_errors.items()
                       if name != "pool_id"})
        if row is not None:
            rows.append(row)
    suite = {"pool_id": int(pool.id), "overlap": overlap,
             "issuing_order_override": float(order) if not problem else 0.0}
    return suite, rows, errors


# -- creating ---------------------------------------------------------------------------------


def create_suites(conn: sa.Connection, items: list[Any], *, allow_defaults: bool = False,
                  skip_invalid_items: bool = False, open_pool: bool = False
                  ) -> SuiteImportReport:
    """Insert task suites (any pools); invalid ones are reported by position, or fail the
    batch (nothing created) when ``skip_invalid_items`` is false."""
    pools: PoolsSeen = {}
    refusals: dict[str, str | None] = {}  # why a pool cannot take suites, once per pool
    report = SuiteImportReport()
    valid: list[tuple[int, dict[str, Any], list[dict[str, Any]]]] = []
    for position, item in enumerate(items):
        pool_id, found = pool_of(conn, item, pools)
        if found is None:
            report.validation_errors[position] = {
                "pool_id": f"pool {pool_id!r} does not exist" if pool_id
                else "is required: the pool the suite goes to"}
            continue
        if pool_id not in refusals:
            refusals[pool_id] = _pool_refusal(conn, found[0])
        suite, rows, errors = _check_suite(item, *found, refusals[pool_id], allow_defaults)
        if errors:
            report.validation_errors[position] = errors
        else:
            valid.append((position, suite, rows))
    if not skip_invalid_items:
        refuse_batch(report.validation_errors, len(items), "task suites")
    created = now()
    report.items.update(_insert(conn, valid, created))
    used = {suite["pool_id"] for _, suite, _ in valid}
    claim_grouping(conn, used, SUITES)
    if open_pool:
        for found in pools.values():
            if found is not None and int(found[0].id) in used and found[0].status == "CLOSED":
                set_pool_status(conn, int(found[0].id), "OPEN", created)
    return report


def _insert(conn: sa.Connection, valid: list[tuple[int, dict[str, Any], list[dict[str, Any]]]],
            created: Any) -> dict[int, TaskSuite]:
    """Three statements for the whole batch: the suites, their tasks, the suites' task lists."""
    if not valid:
        return {}
    suite_keys = insert_with_ids(conn, t.task_suites, [
        {"pool_id": suite["pool_id"], "task_ids": [], "overlap": suite["overlap"],
         "issued": 0, "available": False,
         "issuing_order_override": suite["issuing_order_override"], "created": created}
        for _, suite, _ in valid])
    # the tasks are never available to the mixer; the suite holds their overlap slots
    params = [{**row, "overlap": suite["overlap"], "available": False, "suite_id": suite_key,
               "created": created}
              for (_, suite, rows), suite_key in zip(valid, suite_keys, strict=True)
              for row in rows]
    task_keys = iter(insert_with_ids(conn, t.tasks, params))
    made: dict[int, TaskSuite] = {}
    updates = []
    for (position, suite, rows), suite_key in zip(valid, suite_keys, strict=True):
        keys = [next(task_keys) for _ in rows]
        overlap = suite["overlap"]
        updates.append({"k": suite_key, "ids": keys,
                        "open": overlap is None or overlap > 0})
        made[position] = TaskSuite(
            id=str(suite_key), pool_id=str(suite["pool_id"]),
            tasks=[_task_dict(k, row) for k, row in zip(keys, rows, strict=True)],
            overlap=overlap, issued=0, issuing_order_override=suite["issuing_order_override"],
            created=created)
    c = t.task_suites.c
    conn.execute(t.task_suites.update().where(c.id == sa.bindparam("k")).values(
        task_ids=sa.bindparam("ids", type_=sa.JSON), available=sa.bindparam("open")), updates)
    return made


def _task_dict(task_key: int, row: Any) -> dict[str, Any]:
    get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
    data: dict[str, Any] = {"id": str(task_key), "input_values": get("input_values")}
    if get("known_solutions"):
        data["known_solutions"] = get("known_solutions")
    if get("message_on_unknown_solution"):
        data["message_on_unknown_solution"] = get("message_on_unknown_solution")
    return data


# -- reading ----------------------------------------------------------------------------------

SEARCH_FIELDS: dict[str, sa.ColumnElement[Any]] = {
    "id": sa.cast(t.task_suites.c.id, sa.Text), "pool_id": t.task_suites.c.pool_id,
    "created": t.task_suites.c.created, "overlap": t.task_suites.c.overlap}


def _suites(conn: sa.Connection, rows: list[Any]) -> list[TaskSuite]:
    tasks = get_tasks(conn, [k for r in rows for k in r.task_ids])
    return [TaskSuite(id=str(r.id), pool_id=str(r.pool_id),
                      tasks=[_task_dict(k, tasks[k]) for k in r.task_ids], overlap=r.overlap,
                      issued=r.issued, issuing_order_override=r.issuing_order_override,
                      created=utc(r.created)) for r in rows]


def _row(conn: sa.Connection, suite_id: str, *, lock: bool = False) -> Any:
    query = sa.select(t.task_suites).where(
        t.task_suites.c.id == key(suite_id, TaskSuiteNotFound, "task suite"))
    row = conn.execute(query.with_for_update() if lock else query).first()
    if row is None:
        raise missing(TaskSuiteNotFound, "task suite", suite_id)
    return row


def get_suite(conn: sa.Connection, suite_id: str) -> TaskSuite:
    return _suites(conn, [_row(conn, suite_id)])[0]


def search_suites(conn: sa.Connection, search: Search, *, task_id: str | None = None
                  ) -> tuple[list[TaskSuite], bool]:
    """A page of suites filtered, sorted and paged in SQL (``task_id``: the suite holding it)."""
    where = None
    if task_id is not None:
        where = t.task_suites.c.id == sa.select(t.tasks.c.suite_id).where(
            t.tasks.c.id == key(task_id, TaskNotFound, "task")).scalar_subquery()
    rows, more = search_rows(conn, t.task_suites, SEARCH_FIELDS, search, where)
    return _suites(conn, rows), more


# -- changing ---------------------------------------------------------------------------------


def _set_overlap(conn: sa.Connection, row: Any, overlap: int | None) -> None:
    c = t.task_suites.c
    conn.execute(t.task_suites.update().where(c.id == row.id).values(
        overlap=overlap, available=sa.true() if overlap is None else c.issued < overlap))
    # the tasks mirror it: completion, statistics and aggregation read a task's overlap
    conn.execute(t.tasks.update().where(t.tasks.c.id.in_(row.task_ids)).values(
        overlap=overlap))


def _reopen(conn: sa.Connection, row: Any) -> None:
    pool = get_pool(conn, str(row.pool_id))
    if pool.status == "CLOSED":
        set_pool_status(conn, int(pool.id), "OPEN", now())


def patch_suite(conn: sa.Connection, suite_id: str, patch: Any, *,
                open_pool: bool = False) -> TaskSuite:
    """Toloka's ``PATCH /task-suites/{id}``: overlap / infinite_overlap and
    issuing_order_override. Raising the overlap issues the suite again."""
    if not isinstance(patch, dict):
        raise InvalidInput("a task suite patch must be an object",
                           hint=f"patch {', '.join(sorted(PATCH_FIELDS))}")
    unknown = sorted(set(patch) - PATCH_FIELDS)
    if unknown:
        raise InvalidInput(f"task suite patch field(s) {', '.join(unknown)} are not supported",
                           hint=f"patch {', '.join(sorted(PATCH_FIELDS))}")
    problems = {}
    if patch.get("overlap") is not None:
        problems["overlap"] = check_overlap(patch["overlap"], lowest=1)
        if patch.get("infinite_overlap"):
            problems["overlap"] = "give overlap or infinite_overlap=true, not both"
    if "issuing_order_override" in patch:
        problems["issuing_order_override"] = _check_order(patch["issuing_order_override"])
    problems = {name: message for name, message in problems.items() if message}
    if problems:
        raise InvalidInput("task suite patch refused: " + "; ".join(
            f"{name} {message}" for name, message in problems.items()),
            payload={name: {"code": "VALUE_INVALID", "message": message}
                     for name, message in problems.items()})
    row = _row(conn, suite_id, lock=True)
    if patch.get("infinite_overlap"):
        _set_overlap(conn, row, None)
    elif patch.get("overlap") is not None:
        _set_overlap(conn, row, patch["overlap"])
    if "issuing_order_override" in patch:
        conn.execute(t.task_suites.update().where(t.task_suites.c.id == row.id).values(
            issuing_order_override=float(patch["issuing_order_override"])))
    if open_pool:
        _reopen(conn, row)
    return get_suite(conn, suite_id)


def set_overlap_or_min(conn: sa.Connection, suite_id: str, overlap: Any, *,
                       open_pool: bool = False) -> TaskSuite:
    """Toloka's ``set-overlap-or-min``: the overlap becomes ``overlap``, or as low as the
    suite's issued copies allow; 0 stops issuing it."""
    problem = check_overlap(overlap, lowest=0)
    if problem:
        raise InvalidInput(f"overlap {problem}", hint="0 stops issuing the suite",
                           payload={"overlap": {"code": "VALUE_INVALID", "message": problem}})
    row = _row(conn, suite_id, lock=True)
    _set_overlap(conn, row, max(overlap, row.issued))
    if open_pool:
        _reopen(conn, row)
    return get_suite(conn, suite_id)


def raise_overlap(conn: sa.Connection, task_keys: list[int], delta: int) -> list[int]:
    """Quality control's CHANGE_OVERLAP on suite tasks: their suites (finite overlap) get
    ``delta`` more copies, so they are issued again as a whole; returns the suite keys."""
    c = t.task_suites.c
    suite_keys = sorted(conn.execute(sa.select(t.tasks.c.suite_id).where(
        t.tasks.c.id.in_(task_keys), t.tasks.c.suite_id.is_not(None)).distinct()).scalars())
    for row in conn.execute(sa.select(t.task_suites).where(
            c.id.in_(suite_keys), c.overlap.is_not(None)).order_by(c.id).with_for_update()
    ).all():
        _set_overlap(conn, row, row.overlap + delta)
    return suite_keys


# -- issuing ----------------------------------------------------------------------------------

CLAIM = ("UPDATE crowd_task_suites SET issued = issued + 1, "
          "available = (overlap IS NULL OR issued + 1 < overlap) "
          "WHERE id IN (SELECT id FROM crowd_task_suites s WHERE pool_id = :p "
          "AND available = :yes AND NOT EXISTS (SELECT 1 FROM crowd_assignments a "
          "WHERE a.suite_id = s.id AND a.worker_id = :w) "
          "ORDER BY issuing_order_override DESC, id LIMIT 1{lock}) "
          "AND (overlap IS NULL OR issued < overlap) RETURNING id, task_ids")


def claim(d: Driver, pool: Pool, worker_key: int
          ) -> tuple[int, list[tuple[int, str, Any]]] | None:
    """Take one copy of the next suite this worker never had: (suite key,
    [(task key, kind, input values)] in the suite's order, or shuffled when the pool's mixer
    says ``shuffle_tasks_in_task_suite: true``), or None."""
    params = {"p": int(pool.id), "yes": True, "w": worker_key}
    if d.sqlite:
        row = d.one(CLAIM.format(lock=""), params)
    else:
        row = d.one(CLAIM.format(lock=" FOR UPDATE SKIP LOCKED"), params)
        for _ in range(2):
            if row is not None:
                break
            # the free suites may be locked by other requests for a moment: wait for them
            row = d.one(CLAIM.format(lock=" FOR UPDATE"), params)
    if row is None:
        return None
    suite_key, task_keys = int(row[0]), [int(k) for k in d.load_json(row[1])]
    marks = ", ".join(f":k{i}" for i in range(len(task_keys)))
    found = {r[0]: (r[1], r[2]) for r in d.all(
        f"SELECT id, kind, input_values FROM crowd_tasks WHERE id IN ({marks})",
        {f"k{i}": k for i, k in enumerate(task_keys)})}
    tasks = [(k, found[k][0], found[k][1]) for k in task_keys]
    if (pool.mixer_config or {}).get("shuffle_tasks_in_task_suite") is True:
        random.shuffle(tasks)
    return suite_key, tasks


def suites_left(conn: sa.Connection, pool_key: int, worker_key: int | None = None) -> bool:
    """Whether a suite of the pool can still be issued (to this worker, if given)."""
    s = t.task_suites.c
    query = sa.select(s.id).where(s.pool_id == pool_key, s.available == sa.true())
    if worker_key is not None:
        a = t.assignments.c
        query = query.where(~sa.exists().where(a.suite_id == s.id, a.worker_id == worker_key))
    return conn.execute(query.limit(1)).first() is not None
