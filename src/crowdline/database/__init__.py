"""SQL plumbing shared by the parts that own tables: engines, schema migrations, read and
write transactions (with retries; on SQLite one group-committing writer thread) and the
aware-UTC time column.

Each part (``store``, ``pipelines``, ``crowd``) keeps its tables in its own module and its
Alembic migrations in ``crowdline/<part>/migrations/`` as a separate branch (branch label =
the part's name); :func:`upgrade_schema` brings every branch to its head.
"""

from typing import Any

from crowdline.database.engine import make_engine, sqlite_path
from crowdline.database.transactions import read, reading, write, write_async, writing
from crowdline.database.types import UtcDateTime

__all__ = [
    "UtcDateTime",
    "make_engine",
    "read",
    "reading",
    "sqlite_path",
    "upgrade_schema",
    "write",
    "write_async",
    "writing",
]


def __getattr__(name: str) -> Any:
    # Alembic is heavy to import; load it only when a schema upgrade is asked for.
    if name == "upgrade_schema":
        from crowdline.database.migrate import upgrade_schema

        return upgrade_schema
    raise AttributeError(name)
