"""Pools: a batch of tasks with its price, overlap, mixer, filters and quality control.

Configs come in Toloka's pool JSON (``REGULAR``) or Toloka's training JSON (``TRAINING``:
``training_tasks_in_task_suite_count``, ``task_suites_required_to_pass``...). Fields crowdline
does not implement raise Unsupported by name; ``ignore`` lists the ones the caller accepts
dropping (e.g. a Toloka ``filter`` on profile languages, which self-hosted workers lack).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from crowdline.crowd import tables as t
from crowdline.crowd.configs import (
    PoolConfig,
    check,
    check_filter,
    check_quality_control,
    check_will_expire,
)
from crowdline.crowd.lifecycle import set_pool_status
from crowdline.crowd.models import Pool, now, utc
from crowdline.crowd.projects import get_project
from crowdline.crowd.transactions import key, missing
from crowdline.errors import InvalidInput, PoolClosed, PoolNotFound, Unsupported

STATUS_FILTERS = ("OPEN", "CLOSED", "ARCHIVED")


def _drop(config: dict[str, Any], ignore: Iterable[str]) -> dict[str, Any]:
    config = copy.deepcopy(config)
    for dotted in ignore:
        node: Any = config
        *parents, last = dotted.split(".")
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(last, None)
    return config


def _skill_ids(config: dict[str, Any]) -> set[str]:
    ids = set()
    for qc_config in (config.get("quality_control") or {}).get("configs") or []:
        for rule in qc_config.get("rules") or []:
            skill = (rule.get("action", {}).get("parameters") or {}).get("skill_id")
            if skill is not None:
                ids.add(str(skill))
    dynamic = config.get("dynamic_overlap_config") or {}
    if dynamic.get("answer_weight_skill_id") is not None:
        ids.add(str(dynamic["answer_weight_skill_id"]))
    return ids


def normalise(conn: sa.Connection, config: dict[str, Any],
              ignore: Iterable[str] = ()) -> dict[str, Any]:
    """Validate a Toloka pool (or training) config (typed by ``crowd.configs``), check what
    it names exists, and fill crowdline's defaults."""
    if not isinstance(config, dict):
        raise InvalidInput("a pool config must be a JSON object")
    config = _drop(config, ignore)
    typed = check(PoolConfig, config)
    project = get_project(conn, str(typed.project_id))
    kind = typed.type or ("TRAINING" if "training_tasks_in_task_suite_count" in config
                          else "REGULAR")
    if config.get("training_config"):
        raise Unsupported("field 'training_config' is not supported",
                          hint="remove it; training pools are pools with type TRAINING")
    mixer = dict(config.get("mixer_config") or {})
    defaults = dict(config.get("defaults") or {})
    if kind == "TRAINING":
        count = typed.training_tasks_in_task_suite_count or (
            typed.mixer_config.training_tasks_count if typed.mixer_config else 0) or 1
        mixer = {"real_tasks_count": 0, "golden_tasks_count": 0, "training_tasks_count": count}
    else:
        mixer.setdefault("real_tasks_count", 1)
        mixer.setdefault("golden_tasks_count", 0)
        mixer.setdefault("training_tasks_count", 0)
        if mixer["training_tasks_count"]:
            raise Unsupported("mixer_config.training_tasks_count > 0 in a regular pool is not "
                              "supported", hint="put training tasks in a TRAINING pool and "
                              "require it with quality_control.training_requirement")
        if mixer["real_tasks_count"] + mixer["golden_tasks_count"] == 0:
            raise InvalidInput("mixer_config puts no tasks in a suite",
                               hint="set real_tasks_count (and golden_tasks_count) above 0")
    overlap = defaults.get("default_overlap_for_new_tasks") or defaults.get(
        "default_overlap_for_new_task_suites") or 1
    defaults["default_overlap_for_new_tasks"] = overlap
    defaults.setdefault("default_overlap_for_new_task_suites", overlap)
    qc = check_quality_control(copy.deepcopy(config.get("quality_control")))
    training_pool = (qc.get("training_requirement") or {}).get("training_pool_id")
    if training_pool is not None:
        found = conn.execute(sa.select(t.pools.c.type).where(
            t.pools.c.id == key(training_pool, PoolNotFound, "training pool"))).first()
        if found is None or found.type != "TRAINING":
            raise InvalidInput(f"training_requirement names pool {training_pool}, which is not "
                               "a training pool", hint="create the training pool first (type "
                               "TRAINING) and give its id")
    check_filter(config.get("filter"))
    for skill in _skill_ids(config):
        if conn.execute(sa.select(t.skills.c.id).where(
                t.skills.c.id == key(skill, InvalidInput, "skill"))).first() is None:
            raise InvalidInput(f"the pool config names skill {skill}, which does not exist",
                               hint="create it with create_skill and use its id")
    check_will_expire(config.get("will_expire"))
    normal = {k: v for k, v in config.items() if k not in ("id", "created", "status", "owner",
                                                           "last_started", "last_stopped")}
    normal.update(project_id=project.id, type=kind, mixer_config=mixer, defaults=defaults,
                  quality_control=qc, priority=typed.priority,
                  reward_per_assignment=config.get("reward_per_assignment", 0),
                  assignment_max_duration_seconds=typed.assignment_max_duration_seconds,
                  auto_accept_solutions=typed.auto_accept_solutions,
                  private_name=str(config.get("private_name") or f"pool of {project.id}"))
    return normal


def _pool(row: sa.Row[Any]) -> Pool:
    config = dict(row.config)
    known = {"project_id", "private_name", "type", "reward_per_assignment",
             "assignment_max_duration_seconds", "defaults", "mixer_config", "quality_control",
             "auto_accept_solutions", "priority", "filter", "dynamic_overlap_config",
             "public_description", "private_comment", "will_expire"}
    will_expire = config.get("will_expire")
    return Pool(
        id=str(row.id), project_id=str(row.project_id), private_name=config["private_name"],
        status=row.status, type=row.type,
        reward_per_assignment=config["reward_per_assignment"],
        assignment_max_duration_seconds=config["assignment_max_duration_seconds"],
        defaults=config["defaults"], mixer_config=config["mixer_config"],
        quality_control=config["quality_control"],
        auto_accept_solutions=config["auto_accept_solutions"], priority=row.priority,
        created=utc(row.created), filter=config.get("filter"),
        dynamic_overlap_config=config.get("dynamic_overlap_config"),
        last_started=utc(row.last_started), last_stopped=utc(row.last_stopped),
        public_description=config.get("public_description") or "",
        private_comment=config.get("private_comment") or "",
        will_expire=utc(dt.datetime.fromisoformat(will_expire))
        if isinstance(will_expire, str) else None,
        extra={k: v for k, v in config.items() if k not in known},
        grouping=getattr(row, "grouping", None))


def create_pool(conn: sa.Connection, config: dict[str, Any],
                ignore: Iterable[str] = ()) -> Pool:
    config = normalise(conn, config, ignore)
    new_id = conn.execute(t.pools.insert().values(
        project_id=int(config["project_id"]), type=config["type"], status="CLOSED",
        priority=config["priority"], config=config, created=now())).inserted_primary_key[0]
    return get_pool(conn, str(new_id))


def get_pool(conn: sa.Connection, pool_id: str) -> Pool:
    row = conn.execute(sa.select(t.pools).where(
        t.pools.c.id == key(pool_id, PoolNotFound, "pool"))).first()
    if row is None:
        raise missing(PoolNotFound, "pool", pool_id)
    return _pool(row)


def list_pools(conn: sa.Connection, project_id: str | None = None,
               status: str | None = None) -> list[Pool]:
    query = sa.select(t.pools).order_by(t.pools.c.id)
    if project_id is not None:
        query = query.where(t.pools.c.project_id == key(project_id, PoolNotFound, "project"))
    if status is not None:
        if status not in STATUS_FILTERS:
            raise InvalidInput(f"pool status {status!r} is not one of {STATUS_FILTERS}")
        query = query.where(t.pools.c.status == status)
    return [_pool(r) for r in conn.execute(query)]


def update_pool(conn: sa.Connection, pool_id: str, config: dict[str, Any],
                ignore: Iterable[str] = ()) -> Pool:
    """Replace the pool's settings (Toloka's PUT); tasks, status and answers stay."""
    pool = get_pool(conn, pool_id)
    if pool.status == "ARCHIVED":
        raise _archived(pool)
    merged = {"project_id": pool.project_id, "type": pool.type, **config}
    if str(merged["project_id"]) != pool.project_id:
        raise InvalidInput("a pool cannot move to another project",
                           hint="clone it into the other project instead")
    normal = normalise(conn, merged, ignore)
    conn.execute(t.pools.update().where(t.pools.c.id == int(pool.id)).values(
        config=normal, priority=normal["priority"]))
    return get_pool(conn, pool_id)


def _archived(pool: Pool) -> PoolClosed:
    return PoolClosed(f"pool {pool.id} is archived and read-only",
                        hint="clone it to change its settings")


def change_status(conn: sa.Connection, pool_id: str, status: str) -> Pool:
    pool = get_pool(conn, pool_id)
    set_pool_status(conn, int(pool.id), status, now())
    return get_pool(conn, pool_id)


def clone_pool(conn: sa.Connection, pool_id: str) -> Pool:
    """A new CLOSED pool with the same settings and no tasks."""
    row = conn.execute(sa.select(t.pools).where(
        t.pools.c.id == key(pool_id, PoolNotFound, "pool"))).first()
    if row is None:
        raise missing(PoolNotFound, "pool", pool_id)
    new_id = conn.execute(t.pools.insert().values(
        project_id=row.project_id, type=row.type, status="CLOSED", priority=row.priority,
        config=row.config, created=now())).inserted_primary_key[0]
    return get_pool(conn, str(new_id))
