"""SQL plumbing shared by the parts that own tables: engines, schema migrations, read and
write transactions (with retries; on SQLite one group-committing writer thread) and the
aware-UTC time column.

Each part (``store``, ``pipelines``, ``crowd``) keeps its tables in its own module and its
Alembic migrations in ``crowdline/<part>/migrations/`` as a separate branch (branch label =
the part's name); :func:`upgrade_schema` brings every branch to its head.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crowdline.database.engine import make_engine, sqlite_path
    from crowdline.database.migrate import upgrade_schema
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


_HOMES = {"make_engine": "engine", "sqlite_path": "engine", "upgrade_schema": "migrate",
          "read": "transactions", "reading": "transactions", "write": "transactions",
          "write_async": "transactions", "writing": "transactions", "UtcDateTime": "types"}


def __getattr__(name: str) -> Any:
    # Imported on first use: SQLAlchemy and Alembic are heavy, and the CLI's quick listings
    # (schema_version, store/catalog.py) need neither.
    if name in _HOMES:
        return getattr(importlib.import_module(f"crowdline.database.{_HOMES[name]}"), name)
    raise AttributeError(f"module 'crowdline.database' has no attribute {name!r}")
