"""Hot statements as plain SQL on the driver's own connection, inside SQLAlchemy's transaction.

A request that runs a handful of statements spends most of its time in SQLAlchemy's Python
(building the statement, looking up its compiled form, processing result rows), not in the
database. The few statements on the serving hot path are written once as SQL text with
``:name`` parameters and run here on the DBAPI connection (sqlite3 or psycopg), which
prepares them itself (sqlite3's statement cache; psycopg prepares a statement server-side
after a few executions). Values cross the boundary in each driver's own form:

* times: ``ts()`` turns an aware datetime into what SQLAlchemy would have stored (naive-UTC
  text on SQLite), ``load_ts()`` gives back an aware UTC datetime;
* JSON: ``json()`` / ``load_json()`` (text on SQLite; psycopg adapts and parses itself).

Use it for statements that run on every request; everything else stays in SQLAlchemy.
"""

from __future__ import annotations

import datetime as dt
import json as _json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

try:
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency; stdlib json works too
    orjson = None

_NAMED = re.compile(r"(?<!:):([A-Za-z_][A-Za-z0-9_]*)")
_pg_text: dict[str, str] = {}


def _for_psycopg(sql: str) -> str:
    text = _pg_text.get(sql)
    if text is None:
        text = _NAMED.sub(r"%(\1)s", sql.replace("%", "%%"))
        _pg_text[sql] = text
    return text


def _dumps(value: Any) -> str:
    if orjson is not None:
        return orjson.dumps(value).decode()
    return _json.dumps(value)


def _loads(value: Any) -> Any:
    if isinstance(value, (str, bytes)):
        return orjson.loads(value) if orjson is not None else _json.loads(value)
    return value


class Driver:
    """Plain SQL on the driver connection under ``conn``'s transaction."""

    __slots__ = ("raw", "sqlite")

    def __init__(self, conn: sa.Connection) -> None:
        self.raw: Any = conn.connection.driver_connection
        self.sqlite = conn.dialect.name == "sqlite"

    def _sql(self, sql: str) -> str:
        return sql if self.sqlite else _for_psycopg(sql)

    def all(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        return list(self.raw.execute(self._sql(sql), params or {}).fetchall())

    def one(self, sql: str, params: Mapping[str, Any] | None = None) -> tuple[Any, ...] | None:
        return self.raw.execute(self._sql(sql), params or {}).fetchone()

    def run(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        """Execute; the number of rows changed."""
        return int(self.raw.execute(self._sql(sql), params or {}).rowcount)

    def many(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> None:
        if self.sqlite:
            self.raw.executemany(sql, rows)
        else:
            with self.raw.cursor() as cursor:
                cursor.executemany(_for_psycopg(sql), rows)

    def many_positional(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """``many`` with ``?`` placeholders and tuples: for bulk loads, where building a
        dict a row costs as much as the insert."""
        if self.sqlite:
            self.raw.executemany(sql, rows)
        else:
            with self.raw.cursor() as cursor:
                cursor.executemany(sql.replace("%", "%%").replace("?", "%s"), rows)

    # -- values --------------------------------------------------------------------------------

    def ts(self, value: dt.datetime | None) -> Any:
        if value is None or not self.sqlite:
            return value
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's SQLite format

    @staticmethod
    def load_ts(value: Any) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)

    def json(self, value: Any) -> Any:
        if value is None:
            return None
        if self.sqlite:
            return _dumps(value)
        from psycopg.types.json import Json

        return Json(value, dumps=_dumps)

    @staticmethod
    def load_json(value: Any) -> Any:
        """A JSON object or array column's value (text on SQLite, parsed by psycopg)."""
        return _loads(value)
