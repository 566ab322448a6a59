"""Is the database at the newest schema? Answered without importing Alembic.

Every CLI command opens the workspace; Alembic's import alone costs about half a second, so
the heads are read from the migration files' ``revision`` / ``down_revision`` lines and
compared with the ``alembic_version`` table. Anything unexpected answers "not current" and
the caller runs the real upgrade.
"""

from __future__ import annotations

import ast
import re
import sqlite3
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlalchemy as sa

# Parts that own tables, in dependency order; each has crowdline/<part>/migrations/.
PARTS_WITH_TABLES = ("store", "pipelines", "crowd")
_ASSIGNMENT = re.compile(r"^(revision|down_revision|depends_on)\s*(?::[^=]*)?=\s*(.+)$",
                         re.MULTILINE)


def migration_heads() -> set[str] | None:
    """Revisions no other migration builds on; None when a file cannot be read this way."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for part in PARTS_WITH_TABLES:
        folder = Path(str(resources.files("crowdline") / part / "migrations"))
        for path in folder.glob("*.py"):
            if path.name == "__init__.py":
                continue
            found = dict(_ASSIGNMENT.findall(path.read_text()))
            try:
                revision = ast.literal_eval(found["revision"].strip())
                down = ast.literal_eval(found.get("down_revision", "None").strip())
                # a revision another part's migration depends on is not recorded as a head
                needs = ast.literal_eval(found.get("depends_on", "None").strip())
            except (KeyError, ValueError, SyntaxError):
                return None
            if not isinstance(revision, str):
                return None
            revisions.add(revision)
            for parent in (down, needs):
                if isinstance(parent, str):
                    parents.add(parent)
                elif isinstance(parent, (tuple, list)):
                    parents.update(parent)
    return revisions - parents


def schema_is_current(engine: sa.Engine) -> bool:
    import sqlalchemy as sa

    heads = migration_heads()
    if not heads:
        return False
    try:
        with engine.connect() as connection:
            current = set(connection.execute(
                sa.text("SELECT version_num FROM alembic_version")).scalars())
    except sa.exc.DBAPIError:
        return False
    return current == heads


def sqlite_schema_is_current(connection: sqlite3.Connection) -> bool:
    """The same check on a standard-library SQLite connection (no SQLAlchemy import)."""
    heads = migration_heads()
    try:
        current = {row[0] for row in connection.execute("SELECT version_num FROM alembic_version")}
    except sqlite3.Error:
        return False
    return bool(heads) and current == heads
