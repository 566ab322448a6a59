"""SQL engines and schema migrations shared by the parts that own tables.

Each part (``store``, ``pipelines``, ``crowd``) keeps its tables in its own module and its
Alembic migrations in ``crowdline/<part>/migrations/`` as a separate branch (branch label =
the part's name); :func:`upgrade_schema` brings every branch to its head.
"""

from crowdline.database.engine import make_engine, sqlite_path
from crowdline.database.migrate import upgrade_schema

__all__ = ["make_engine", "sqlite_path", "upgrade_schema"]
