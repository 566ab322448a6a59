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
from crowdline.crowd.lifecycle import set_pool_status
from crowdline.crowd.models import Pool, now, utc
from crowdline.crowd.projects import check_fields, get_project
from crowdline.crowd.quality import validate_quality_control
from crowdline.crowd.transactions import key, missing
from crowdline.errors import InvalidInput, PoolClosed, PoolNotFound, Unsupported

POOL_FIELDS = {
    "project_id", "private_name", "private_comment", "public_description", "type",
    "may_contain_adult_content", "will_expire", "reward_per_assignment",
    "assignment_max_duration_seconds", "auto_accept_solutions", "auto_accept_period_day",
    "auto_close_after_complete_delay_seconds", "defaults", "mixer_config", "quality_control",
    "filter", "dynamic_overlap_config", "priority", "metadata", "last_started", "last_stopped",
    "last_close_reason", "assignments_issuing_config",
    # Toloka's training objects
    "training_tasks_in_task_suite_count", "task_suites_required_to_pass",
    "retry_training_after_days", "mix_tasks_in_creation_order", "shuffle_tasks_in_task_suite",
    "inherited_instructions", "public_instructions", "training_config",
}
MIXER_FIELDS = {"real_tasks_count", "golden_tasks_count", "training_tasks_count",
                "min_real_tasks_count", "min_golden_tasks_count", "min_training_tasks_count",
                "force_last_assignment", "force_last_assignment_delay_seconds",
                "mix_tasks_in_creation_order", "shuffle_tasks_in_task_suite"}
DEFAULTS_FIELDS = {"default_overlap_for_new_tasks", "default_overlap_for_new_task_suites"}
DYNAMIC_OVERLAP_FIELDS = {"type", "max_overlap", "min_confidence", "answer_weight_skill_id",
                          "fields"}
FILTER_OPERATORS = {"EQ", "NE", "GT", "GTE", "LT", "LTE"}
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


def check_filter(node: Any, where: str = "filter") -> None:
    """Skill filters are supported (``category: skill``); ``computed.client_type`` is always
    BROWSER here. Anything else is Unsupported, naming it."""
    if node is None:
        return
    if not isinstance(node, dict):
        raise InvalidInput(f"{where} must be an object")
    for combinator in ("and", "or"):
        if combinator in node:
            for i, child in enumerate(node[combinator]):
                check_filter(child, f"{where}.{combinator}[{i}]")
            return
    category = node.get("category")
    if category == "computed" and node.get("key") == "client_type":
        return
    if category != "skill":
        raise Unsupported(f"{where}: filter category {category!r} (key {node.get('key')!r}) "
                          "is not supported", hint="only skill filters apply to self-hosted "
                          "workers; remove it or pass ignore=['filter']")
    if node.get("operator") not in FILTER_OPERATORS:
        raise InvalidInput(f"{where}.operator {node.get('operator')!r} is not one of "
                           f"{', '.join(sorted(FILTER_OPERATORS))}")


def filter_matches(node: dict[str, Any] | None, skills: dict[str, float]) -> bool:
    """Evaluate a Toloka filter tree against a worker's skills (missing skill = no value)."""
    if not node:
        return True
    if "and" in node:
        return all(filter_matches(child, skills) for child in node["and"])
    if "or" in node:
        return any(filter_matches(child, skills) for child in node["or"])
    if node.get("category") == "computed":
        return node.get("operator") == "EQ" and node.get("value") == "BROWSER"
    value, wanted, op = skills.get(str(node["key"])), node.get("value"), node["operator"]
    if value is None or wanted is None:
        return (value is None) == (wanted is None) if op == "EQ" else (
            (value is None) != (wanted is None) if op == "NE" else False)
    return {"EQ": value == wanted, "NE": value != wanted, "GT": value > wanted,
            "GTE": value >= wanted, "LT": value < wanted, "LTE": value <= wanted}[op]


def _positive_int(value: Any, where: str, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidInput(f"{where} must be an integer >= {minimum}, not {value!r}")
    return value


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
    """Validate a Toloka pool (or training) config and fill crowdline's defaults."""
    if not isinstance(config, dict):
        raise InvalidInput("a pool config must be a JSON object")
    config = _drop(config, ignore)
    check_fields(config, POOL_FIELDS, "")
    project = get_project(conn, str(config.get("project_id", "")))
    kind = config.get("type") or ("TRAINING" if "training_tasks_in_task_suite_count" in config
                                  else "REGULAR")
    if kind not in ("REGULAR", "TRAINING"):
        raise Unsupported(f"pool type {kind!r} is not supported", hint="use REGULAR or TRAINING")
    if config.get("training_config"):
        raise Unsupported("field 'training_config' is not supported",
                          hint="remove it; training pools are pools with type TRAINING")
    mixer = dict(config.get("mixer_config") or {})
    check_fields(mixer, MIXER_FIELDS, "mixer_config")
    defaults = dict(config.get("defaults") or {})
    check_fields(defaults, DEFAULTS_FIELDS, "defaults")
    if kind == "TRAINING":
        count = config.get("training_tasks_in_task_suite_count") or mixer.get(
            "training_tasks_count") or 1
        mixer = {"real_tasks_count": 0, "golden_tasks_count": 0,
                 "training_tasks_count": _positive_int(count, "training tasks per suite")}
    else:
        mixer.setdefault("real_tasks_count", 1)
        mixer.setdefault("golden_tasks_count", 0)
        mixer.setdefault("training_tasks_count", 0)
        for name in ("real_tasks_count", "golden_tasks_count", "training_tasks_count"):
            _positive_int(mixer[name], f"mixer_config.{name}", minimum=0)
        if mixer["training_tasks_count"]:
            raise Unsupported("mixer_config.training_tasks_count > 0 in a regular pool is not "
                              "supported", hint="put training tasks in a TRAINING pool and "
                              "require it with quality_control.training_requirement")
        if mixer["real_tasks_count"] + mixer["golden_tasks_count"] == 0:
            raise InvalidInput("mixer_config puts no tasks in a suite",
                               hint="set real_tasks_count (and golden_tasks_count) above 0")
    overlap = defaults.get("default_overlap_for_new_tasks",
                           defaults.get("default_overlap_for_new_task_suites", 1))
    defaults["default_overlap_for_new_tasks"] = _positive_int(overlap, "default overlap")
    defaults.setdefault("default_overlap_for_new_task_suites", overlap)
    qc = validate_quality_control(copy.deepcopy(config.get("quality_control")))
    training_pool = (qc.get("training_requirement") or {}).get("training_pool_id")
    if training_pool is not None:
        found = conn.execute(sa.select(t.pools.c.type).where(
            t.pools.c.id == key(training_pool, PoolNotFound, "training pool"))).first()
        if found is None or found.type != "TRAINING":
            raise InvalidInput(f"training_requirement names pool {training_pool}, which is not "
                               "a training pool", hint="create the training pool first (type "
                               "TRAINING) and give its id")
    check_filter(config.get("filter"))
    dynamic = config.get("dynamic_overlap_config")
    if dynamic is not None:
        check_fields(dynamic, DYNAMIC_OVERLAP_FIELDS, "dynamic_overlap_config")
        if dynamic.get("type", "BASIC") != "BASIC":
            raise Unsupported(f"dynamic_overlap_config.type {dynamic.get('type')!r}",
                              hint="use BASIC")
        _positive_int(dynamic.get("max_overlap"), "dynamic_overlap_config.max_overlap")
        confidence = dynamic.get("min_confidence")
        if not isinstance(confidence, (int, float)) or not 0 <= confidence <= 1:
            raise InvalidInput("dynamic_overlap_config.min_confidence must be in 0..1")
    for skill in _skill_ids(config):
        if conn.execute(sa.select(t.skills.c.id).where(
                t.skills.c.id == key(skill, InvalidInput, "skill"))).first() is None:
            raise InvalidInput(f"the pool config names skill {skill}, which does not exist",
                               hint="create it with create_skill and use its id")
    will_expire = config.get("will_expire")
    if will_expire is not None:
        try:
            dt.datetime.fromisoformat(str(will_expire))
        except ValueError as exc:
            raise InvalidInput(f"will_expire {will_expire!r} is not an ISO date-time",
                               hint="e.g. 2030-01-01T00:00:00 (UTC)") from exc
    duration = config.get("assignment_max_duration_seconds", 600)
    priority = config.get("priority", 0)
    if isinstance(priority, bool) or not isinstance(priority, int) or not -100 <= priority <= 100:
        raise InvalidInput(f"priority {priority!r} must be an integer in -100..100")
    reward = config.get("reward_per_assignment", 0)
    if isinstance(reward, bool) or not isinstance(reward, (int, float)) or reward < 0:
        raise InvalidInput(f"reward_per_assignment {reward!r} must be a number >= 0")
    normal = {k: v for k, v in config.items() if k not in ("id", "created", "status", "owner",
                                                           "last_started", "last_stopped")}
    normal.update(project_id=project.id, type=kind, mixer_config=mixer, defaults=defaults,
                  quality_control=qc, priority=priority, reward_per_assignment=reward,
                  assignment_max_duration_seconds=_positive_int(
                      duration, "assignment_max_duration_seconds"),
                  auto_accept_solutions=bool(config.get("auto_accept_solutions", True)),
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
        extra={k: v for k, v in config.items() if k not in known})


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
