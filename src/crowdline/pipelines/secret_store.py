"""Named secrets (``crowdline secret create NAME KEY=-``) for ``transform.secrets``.

Values are sealed at rest (``crowdline.keys.seal``: encrypted and authenticated under the
workspace key, never stored in plain text) and unsealed only to hand them to a transform.
Job logs and errors are masked: every secret value a job received reads ``***`` there
(``mask``). Values shorter than MIN_VALUE characters are refused: they could not be masked
without garbling the logs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa

from crowdline.errors import InvalidInput, SecretNotFound
from crowdline.keys import is_sealed, seal, unseal
from crowdline.pipelines import tables as t
from crowdline.pipelines.planner import utcnow
from crowdline.pipelines.spec import NAME_RE, SecretRef

MIN_VALUE = 4
MASK = "***"


def mask(text: str | None, values: Iterable[str]) -> str | None:
    """``text`` with every occurrence of each secret value replaced by ``***``."""
    if not text:
        return text
    for value in sorted({v for v in values if v}, key=len, reverse=True):
        text = text.replace(value, MASK)
    return text


class SecretStore:
    def __init__(self, engine: sa.Engine, key: Callable[[], bytes]) -> None:
        """``key()`` gives the workspace key (read when a secret is first used)."""
        self.engine = engine
        self._key = key

    def create(self, name: str, values: dict[str, str]) -> None:
        """Create or replace the secret ``name``."""
        if not NAME_RE.match(name or ""):
            raise InvalidInput(f"secret name {name!r} is not valid", hint="letters, digits, '-_.'")
        if not values or not all(isinstance(k, str) and k for k in values):
            raise InvalidInput(f"secret {name!r} needs at least one KEY=VALUE",
                               hint="crowdline secret create NAME KEY=VALUE ...")
        short = sorted(k for k, v in values.items() if len(str(v)) < MIN_VALUE)
        if short:
            raise InvalidInput(f"secret {name!r}: the value of {short[0]} is shorter than "
                               f"{MIN_VALUE} characters", hint="a value that short could not "
                               "be masked in logs; use the real token or password")
        key = self._key()
        data = {str(k): seal(key, str(v).encode()) for k, v in values.items()}
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
            value = stored[ref.name][ref.key]
            # a value stored before sealing existed is handed over as it is
            env[ref.env_var] = unseal(self._key(), value).decode() if is_sealed(value) \
                else value
        return env
