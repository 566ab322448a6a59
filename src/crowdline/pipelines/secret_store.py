"""Named secrets (``crowdline secret create NAME KEY=VALUE``) for ``transform.secrets``.

Values are kept in the workspace database as given (not encrypted): protect the database
as you would a ``.env`` file.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from crowdline.errors import InvalidInput, SecretNotFound
from crowdline.pipelines import tables as t
from crowdline.pipelines.planner import utcnow
from crowdline.pipelines.spec import NAME_RE, SecretRef


class SecretStore:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def create(self, name: str, values: dict[str, str]) -> None:
        """Create or replace the secret ``name``."""
        if not NAME_RE.match(name or ""):
            raise InvalidInput(f"secret name {name!r} is not valid", hint="letters, digits, '-_.'")
        if not values or not all(isinstance(k, str) and k for k in values):
            raise InvalidInput(f"secret {name!r} needs at least one KEY=VALUE",
                               hint="crowdline secret create NAME KEY=VALUE ...")
        data = {str(k): str(v) for k, v in values.items()}
        with self.engine.begin() as conn:
            conn.execute(t.secrets.delete().where(t.secrets.c.name == name))
            conn.execute(t.secrets.insert().values(name=name, data=data, created_at=utcnow()))

    def list(self) -> list[dict[str, Any]]:
        """Names and keys only; values are never listed."""
        with t.reading(self.engine) as conn:
            rows = conn.execute(sa.select(t.secrets).order_by(t.secrets.c.name)).all()
        return [{"name": r.name, "keys": sorted(r.data), "created_at": r.created_at} for r in rows]

    def delete(self, name: str) -> None:
        with self.engine.begin() as conn:
            done = conn.execute(t.secrets.delete().where(t.secrets.c.name == name))
        if done.rowcount == 0:
            raise SecretNotFound(f"no secret named {name!r}", hint="see `crowdline secret list`")

    def environment(self, refs: Iterable[SecretRef]) -> dict[str, str]:
        """``{env_var: value}`` for a transform's secret references."""
        refs = list(refs)
        if not refs:
            return {}
        with t.reading(self.engine) as conn:
            stored = dict(conn.execute(sa.select(t.secrets.c.name, t.secrets.c.data).where(
                t.secrets.c.name.in_({r.name for r in refs}))).all())
        env = {}
        for ref in refs:
            if ref.name not in stored or ref.key not in stored[ref.name]:
                raise SecretNotFound(f"secret {ref.name!r} has no key {ref.key!r}",
                                     hint=f"crowdline secret create {ref.name} {ref.key}=VALUE")
            env[ref.env_var] = stored[ref.name][ref.key]
        return env
