"""Workers, requester tokens, skills and user restrictions (bans).

Tokens are random, shown once, and stored as SHA-256 hashes: a leaked database does not leak
a way in. Restrictions have Toloka's scopes POOL, PROJECT and ALL_PROJECTS and may expire.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import Any

import sqlalchemy as sa

from crowdline.crowd import tables as t
from crowdline.crowd.facts import new_revision, touch_worker
from crowdline.crowd.filters import check_profile
from crowdline.crowd.models import (
    Requester,
    Restriction,
    Skill,
    Worker,
    WorkerSkill,
    now,
    utc,
)
from crowdline.crowd.transactions import key, missing
from crowdline.errors import (
    AuthenticationFailed,
    Conflict,
    InvalidInput,
    PoolNotFound,
    ProjectNotFound,
    RestrictionNotFound,
    SkillNotFound,
    WorkerNotFound,
)

SCOPES = ("POOL", "PROJECT", "ALL_PROJECTS")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_name(name: str, what: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise InvalidInput(f"{what} name {name!r} must be 1 to 200 characters",
                           hint=f"give the {what} a short readable name")
    return name


# -- requesters ---------------------------------------------------------------------------


def create_requester_token(conn: sa.Connection, name: str) -> str:
    name = _check_name(name, "token")
    token = "crq_" + secrets.token_urlsafe(32)
    conn.execute(t.requester_tokens.insert().values(
        name=name, token_hash=hash_token(token), created=now()))
    return token


def _matches(row: sa.Row[Any] | None, digest: str) -> bool:
    """The row found by the token's hash holds that hash, compared in constant time (the
    lookup is by a SHA-256 of the token, which says nothing about the token itself)."""
    return row is not None and hmac.compare_digest(str(row.token_hash), digest)


def authenticate_requester(conn: sa.Connection, token: str) -> Requester:
    digest = hash_token(token or "")
    row = conn.execute(sa.select(t.requester_tokens).where(
        t.requester_tokens.c.token_hash == digest)).first()
    if row is None or not _matches(row, digest):
        raise AuthenticationFailed("this requester token is not valid",
                                   hint="create one with `crowdline token create`")
    return Requester(id=str(row.id), name=row.name)


# -- workers ------------------------------------------------------------------------------


def _worker(row: sa.Row[Any]) -> Worker:
    return Worker(id=str(row.id), name=row.name, created=utc(row.created),
                  profile=dict(row.profile or {}))


def invite_worker(conn: sa.Connection, name: str,
                  profile: dict[str, Any] | None = None) -> tuple[Worker, str]:
    name = _check_name(name, "worker")
    checked = check_profile(profile)
    token = "cwk_" + secrets.token_urlsafe(24)
    created = now()
    worker_id = conn.execute(t.workers.insert().values(
        name=name, token_hash=hash_token(token), created=created,
        profile=checked or None)).inserted_primary_key[0]
    return Worker(id=str(worker_id), name=name, created=created, profile=checked), token


def set_worker_profile(conn: sa.Connection, worker_id: str, profile: dict[str, Any], *,
                       once: bool = False) -> Worker:
    """Replace a worker's profile. ``once``: only when none was set yet (an annotator sets
    their own profile once; the requester may change it any time)."""
    worker = get_worker(conn, worker_id)
    checked = check_profile(profile)
    if once and worker.profile:
        raise Conflict(f"worker {worker.id} already has a profile",
                       hint="ask the requester to change it")
    conn.execute(t.workers.update().where(t.workers.c.id == int(worker.id)).values(
        profile=checked or None, revision=new_revision()))  # profiles are cached facts
    return get_worker(conn, worker_id)


def authenticate_worker(conn: sa.Connection, token: str) -> Worker:
    digest = hash_token(token or "")
    row = conn.execute(sa.select(t.workers).where(t.workers.c.token_hash == digest)).first()
    if row is None or not _matches(row, digest):
        raise AuthenticationFailed("this worker token is not valid",
                                   hint="open the invite link you were given again, or ask "
                                        "the requester for a new one")
    return _worker(row)


def get_worker(conn: sa.Connection, worker_id: str) -> Worker:
    row = conn.execute(sa.select(t.workers).where(
        t.workers.c.id == key(worker_id, WorkerNotFound, "worker"))).first()
    if row is None:
        raise missing(WorkerNotFound, "worker", worker_id)
    return _worker(row)


def list_workers(conn: sa.Connection) -> list[Worker]:
    return [_worker(r) for r in conn.execute(sa.select(t.workers).order_by(t.workers.c.id))]


# -- restrictions -------------------------------------------------------------------------


def _restriction(row: sa.Row[Any]) -> Restriction:
    return Restriction(
        id=str(row.id), user_id=str(row.worker_id), scope=row.scope,
        pool_id=None if row.pool_id is None else str(row.pool_id),
        project_id=None if row.project_id is None else str(row.project_id),
        private_comment=row.private_comment, will_expire=utc(row.will_expire),
        created=utc(row.created))


def set_restriction(conn: sa.Connection, worker_id: str, scope: str, *,
                    pool_id: str | None = None, project_id: str | None = None,
                    duration_seconds: int | None = None,
                    private_comment: str = "") -> Restriction:
    worker_key = get_worker(conn, worker_id).id
    if scope not in SCOPES:
        raise InvalidInput(f"restriction scope {scope!r} is not one of {', '.join(SCOPES)}",
                           hint="POOL needs pool_id, PROJECT needs project_id")
    pool_key = project_key = None
    if scope == "POOL":
        pool_key = key(pool_id, PoolNotFound, "pool")
        row = conn.execute(sa.select(t.pools.c.project_id).where(t.pools.c.id == pool_key)).first()
        if row is None:
            raise missing(PoolNotFound, "pool", pool_id)
        project_key = row.project_id
    elif scope == "PROJECT":
        project_key = key(project_id, ProjectNotFound, "project")
        if conn.execute(sa.select(t.projects.c.id).where(
                t.projects.c.id == project_key)).first() is None:
            raise missing(ProjectNotFound, "project", project_id)
    if duration_seconds is not None and duration_seconds <= 0:
        raise InvalidInput(f"restriction duration {duration_seconds} s must be positive",
                           hint="leave it out for a permanent restriction")
    created = now()
    will_expire = (created + dt.timedelta(seconds=duration_seconds)
                   if duration_seconds is not None else None)
    new_id = conn.execute(t.restrictions.insert().values(
        worker_id=int(worker_key), scope=scope, pool_id=pool_key, project_id=project_key,
        private_comment=private_comment or "", will_expire=will_expire,
        created=created)).inserted_primary_key[0]
    touch_worker(conn, worker_key)
    return Restriction(id=str(new_id), user_id=worker_key, scope=scope,
                       pool_id=None if pool_key is None else str(pool_key),
                       project_id=None if project_key is None else str(project_key),
                       private_comment=private_comment or "", will_expire=will_expire,
                       created=created)


def list_restrictions(conn: sa.Connection, *, worker_id: str | None = None,
                      pool_id: str | None = None,
                      project_id: str | None = None) -> list[Restriction]:
    c = t.restrictions.c
    query = sa.select(t.restrictions).order_by(c.id)
    if worker_id is not None:
        query = query.where(c.worker_id == key(worker_id, WorkerNotFound, "worker"))
    if pool_id is not None:
        query = query.where(c.pool_id == key(pool_id, PoolNotFound, "pool"))
    if project_id is not None:
        query = query.where(c.project_id == key(project_id, ProjectNotFound, "project"))
    return [_restriction(r) for r in conn.execute(query)]


def delete_restriction(conn: sa.Connection, restriction_id: str) -> None:
    result = conn.execute(t.restrictions.delete().where(
        t.restrictions.c.id == key(restriction_id, RestrictionNotFound, "restriction"))
        .returning(t.restrictions.c.worker_id))
    worker_key = result.scalar()
    if worker_key is None:
        raise missing(RestrictionNotFound, "restriction", restriction_id)
    touch_worker(conn, worker_key)


def active_restriction_clause(worker_key: int, pool_key: int, project_key: int,
                              when: dt.datetime) -> sa.ColumnElement[bool]:
    """The restrictions that keep ``worker`` out of ``pool`` at ``when``."""
    c = t.restrictions.c
    return sa.and_(
        c.worker_id == worker_key,
        sa.or_(c.will_expire.is_(None), c.will_expire > when),
        sa.or_(c.scope == "ALL_PROJECTS",
               sa.and_(c.scope == "PROJECT", c.project_id == project_key),
               sa.and_(c.scope == "POOL", c.pool_id == pool_key)),
    )


def is_restricted(conn: sa.Connection, worker_key: int, pool_key: int, project_key: int,
                  when: dt.datetime | None = None) -> bool:
    clause = active_restriction_clause(worker_key, pool_key, project_key, when or now())
    return conn.execute(sa.select(t.restrictions.c.id).where(clause).limit(1)).first() is not None


def restricted_workers(conn: sa.Connection, pool_key: int, project_key: int) -> set[int]:
    c = t.restrictions.c
    when = now()
    query = sa.select(c.worker_id).where(
        sa.or_(c.will_expire.is_(None), c.will_expire > when),
        sa.or_(c.scope == "ALL_PROJECTS",
               sa.and_(c.scope == "PROJECT", c.project_id == project_key),
               sa.and_(c.scope == "POOL", c.pool_id == pool_key)))
    return {r.worker_id for r in conn.execute(query)}


# -- skills -------------------------------------------------------------------------------


def _skill(row: sa.Row[Any]) -> Skill:
    return Skill(id=str(row.id), name=row.name, private_comment=row.private_comment,
                 created=utc(row.created))


def create_skill(conn: sa.Connection, name: str, private_comment: str = "") -> Skill:
    name = _check_name(name, "skill")
    created = now()
    new_id = conn.execute(t.skills.insert().values(
        name=name, private_comment=private_comment or "", created=created)).inserted_primary_key[0]
    return Skill(id=str(new_id), name=name, private_comment=private_comment or "",
                 created=created)


def get_skill(conn: sa.Connection, skill_id: str) -> Skill:
    row = conn.execute(sa.select(t.skills).where(
        t.skills.c.id == key(skill_id, SkillNotFound, "skill"))).first()
    if row is None:
        raise missing(SkillNotFound, "skill", skill_id)
    return _skill(row)


def list_skills(conn: sa.Connection) -> list[Skill]:
    return [_skill(r) for r in conn.execute(sa.select(t.skills).order_by(t.skills.c.id))]


def _worker_skill(row: sa.Row[Any]) -> WorkerSkill:
    return WorkerSkill(id=str(row.id), skill_id=str(row.skill_id), user_id=str(row.worker_id),
                       value=int(round(row.value)), exact_value=float(row.value),
                       created=utc(row.created), modified=utc(row.modified))


def set_worker_skill(conn: sa.Connection, worker_id: str, skill_id: str,
                     value: float) -> WorkerSkill:
    worker_key = int(get_worker(conn, worker_id).id)
    skill_key = int(get_skill(conn, skill_id).id)
    try:
        value = float(value)
    except (TypeError, ValueError):
        value = float("nan")
    if not 0 <= value <= 100:
        raise InvalidInput(f"skill value {value} is outside 0..100",
                           hint="skills are numbers from 0 to 100")
    c = t.worker_skills.c
    stamp = now()
    updated = conn.execute(t.worker_skills.update().where(
        c.skill_id == skill_key, c.worker_id == worker_key).values(value=value, modified=stamp))
    if not updated.rowcount:
        conn.execute(t.worker_skills.insert().values(
            skill_id=skill_key, worker_id=worker_key, value=value, created=stamp,
            modified=stamp))
    touch_worker(conn, worker_key)
    row = conn.execute(sa.select(t.worker_skills).where(
        c.skill_id == skill_key, c.worker_id == worker_key)).one()
    return _worker_skill(row)


def get_worker_skills(conn: sa.Connection, worker_id: str | None = None,
                      skill_id: str | None = None) -> list[WorkerSkill]:
    c = t.worker_skills.c
    query = sa.select(t.worker_skills).order_by(c.id)
    if worker_id is not None:
        query = query.where(c.worker_id == key(worker_id, WorkerNotFound, "worker"))
    if skill_id is not None:
        query = query.where(c.skill_id == key(skill_id, SkillNotFound, "skill"))
    return [_worker_skill(r) for r in conn.execute(query)]


def skill_values(conn: sa.Connection, worker_key: int) -> dict[str, float]:
    c = t.worker_skills.c
    return {str(r.skill_id): float(r.value) for r in conn.execute(
        sa.select(c.skill_id, c.value).where(c.worker_id == worker_key))}
