"""What issuing needs to know, cached in process: per-worker facts and pool definitions.

Every request checks the worker's restrictions (bans), skills (pool filters) and training
status, and reads its pool and project. None of that changes often, so it is cached:

* **Worker facts** are cached per (worker, revision). ``crowd_workers.revision`` takes a new
  random value in the transaction of every event that changes a fact (``touch_worker``: a
  restriction set or lifted, a skill set, a training suite submitted, a profile changed), and
  issuing reads it with the worker row it locks anyway, so a cached fact is never stale, even
  across server processes, and costs no extra round trip. Restriction expiry is evaluated
  against the request's time. ``WorkerFacts.extra`` is where other checks keep facts of their
  own (profile attributes for filters, say): load them in ``load_extra`` hooks and call
  ``touch_worker`` where they change.
* **Pools and projects** are cached by their raw row: the request still reads the row (one
  indexed lookup, joined with its project), and parses config only when it changed.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, NamedTuple

import sqlalchemy as sa

from crowdline.crowd import tables as t
from crowdline.crowd.models import Pool, Project
from crowdline.database.driver import Driver

MAX_ENTRIES = 100_000
_random = random.SystemRandom()

# Hooks that add facts to WorkerFacts.extra: fn(driver, worker_key) -> dict
load_extra: list[Callable[[Driver, int], dict[str, Any]]] = []


def new_revision() -> int:
    return _random.getrandbits(62)


def touch_worker(conn: sa.Connection, worker_key: int | str) -> None:
    """A fact issuing checks changed for this worker: cached facts of it are now stale."""
    conn.execute(t.workers.update().where(t.workers.c.id == int(worker_key))
                 .values(revision=new_revision()))


@dataclass
class WorkerFacts:
    revision: int
    # (scope, pool key, project key, will_expire)
    restrictions: list[tuple[str, int | None, int | None, dt.datetime | None]]
    skills: dict[str, float]
    # training pool key -> (completed, score); filled as pools with requirements ask
    training: dict[int, tuple[bool, float | None]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def restricted(self, pool_key: int, project_key: int, when: dt.datetime) -> bool:
        for scope, pool, project, expires in self.restrictions:
            if expires is not None and expires <= when:
                continue
            if (scope == "ALL_PROJECTS" or (scope == "PROJECT" and project == project_key)
                    or (scope == "POOL" and pool == pool_key)):
                return True
        return False


_RESTRICTIONS = ("SELECT scope, pool_id, project_id, will_expire FROM crowd_restrictions "
                 "WHERE worker_id = :w")
_SKILLS = "SELECT skill_id, value FROM crowd_worker_skills WHERE worker_id = :w"
_POOL_COLUMNS = ("p.id, p.project_id, p.type, p.status, p.priority, {pc}, p.created, "
                 "p.last_started, p.last_stopped, p.grouping, r.public_name, r.status, {rc}, "
                 "r.created")


def _pool_sql(driver: Driver, where: str) -> str:
    cast = "{}" if driver.sqlite else "CAST({} AS TEXT)"
    columns = _POOL_COLUMNS.format(pc=cast.format("p.config"), rc=cast.format("r.config"))
    return (f"SELECT {columns} FROM crowd_pools p JOIN crowd_projects r "
            f"ON r.id = p.project_id WHERE {where}")


class Pooled(NamedTuple):
    """A pool with its project, parsed, and what an annotator's view of it shows."""

    pool: Pool
    project: Project
    instructions_html: str
    labels: list[tuple[str, str, str]]


class FactsCache:
    """One per Crowd facade (so one per server process); safe to share between threads."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._workers: dict[int, WorkerFacts] = {}
        self._pools: dict[tuple[Any, ...], Pooled] = {}
        self._lock = threading.Lock()

    def worker(self, driver: Driver, worker_key: int, revision: int) -> WorkerFacts:
        facts = self._workers.get(worker_key)
        if facts is not None and facts.revision == revision:
            return facts
        facts = WorkerFacts(
            revision=revision,
            restrictions=[(scope, pool, project, driver.load_ts(expires)) for
                          scope, pool, project, expires in driver.all(_RESTRICTIONS,
                                                                      {"w": worker_key})],
            skills={str(skill): float(value)
                    for skill, value in driver.all(_SKILLS, {"w": worker_key})})
        for hook in load_extra:
            facts.extra.update(hook(driver, worker_key))
        with self._lock:
            if len(self._workers) >= self.max_entries:
                self._workers.clear()
            self._workers[worker_key] = facts
        return facts

    def pools(self, driver: Driver, pool_key: int | None) -> list[Pooled]:
        """The pool ``pool_key`` (any status), or every OPEN pool by priority."""
        if pool_key is not None:
            rows = driver.all(_pool_sql(driver, "p.id = :p"), {"p": pool_key})
        else:
            rows = driver.all(_pool_sql(driver, "p.status = 'OPEN'")
                              + " ORDER BY p.priority DESC, p.id")
        return [self._parsed(driver, tuple(row)) for row in rows]

    def _parsed(self, driver: Driver, row: tuple[Any, ...]) -> Pooled:
        cached = self._pools.get(row)
        if cached is not None:
            return cached
        from crowdline.crowd.pools import _pool
        from crowdline.crowd.projects import _project, instructions_html, labels_of

        (pool_key, project_key, kind, status, priority, pool_config, created, started,
         stopped, grouping, public_name, project_status, project_config, project_created) = row
        pool = _pool(SimpleNamespace(
            id=pool_key, project_id=project_key, type=kind, status=status, priority=priority,
            config=driver.load_json(pool_config), created=driver.load_ts(created),
            last_started=driver.load_ts(started), last_stopped=driver.load_ts(stopped),
            grouping=grouping))
        project = _project(SimpleNamespace(
            id=project_key, public_name=public_name, status=project_status,
            config=driver.load_json(project_config), created=driver.load_ts(project_created)))
        pooled = Pooled(pool, project, instructions_html(project), labels_of(project.task_spec))
        with self._lock:
            if len(self._pools) >= 1000:
                self._pools.clear()
            self._pools[row] = pooled
        return pooled
