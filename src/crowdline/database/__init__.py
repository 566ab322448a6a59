"""SQL engines and schema migrations shared by the parts that own tables.

Each part (``store``, ``pipelines``, ``crowd``) keeps its tables in its own module and its
Alembic migrations in ``crowdline/<part>/migrations/`` as a separate branch (branch label =
the part's name); :func:`upgrade_schema` brings every branch to its head.
"""

from typing import Any

from crowdline.database.engine import make_engine, sqlite_path

__all__ = ["make_engine", "sqlite_path", "upgrade_schema"]


def __getattr__(name: str) -> Any:
    # Alembic is heavy to import; load it only when a schema upgrade is asked for.
    if name == "upgrade_schema":
        from crowdline.database.migrate import upgrade_schema

        return upgrade_schema
    raise AttributeError(name)
