"""Quick read-only listings for the command line, straight from an embedded SQLite database.

`crowdline repo list` should answer as fast as `git status`. Importing SQLAlchemy alone costs
more than that budget, so on the default SQLite back-end the listing is read with Python's
built-in ``sqlite3`` module, read-only. Anything else (PostgreSQL, a schema that needs an
upgrade, an unreadable file) answers None, and the caller goes through the SDK as usual.
``tests/store/test_catalog.py`` keeps these answers equal to ``Store.list_repos``.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from urllib.parse import unquote

from crowdline.config import Settings
from crowdline.store.models import RepoInfo


def sqlite_file(database_url: str) -> Path | None:
    """The database file of a ``sqlite:///PATH`` URL (None for anything else)."""
    for prefix in ("sqlite:///", "sqlite+pysqlite:///"):
        if database_url.startswith(prefix):
            path = unquote(database_url[len(prefix):].split("?", 1)[0])
            return Path(path) if path and path != ":memory:" else None
    return None


def list_repos(settings: Settings) -> list[RepoInfo] | None:
    """``Store.list_repos()`` for a SQLite workspace at the current schema; else None."""
    from crowdline.database.schema_version import sqlite_schema_is_current

    path = sqlite_file(settings.database_url)
    if path is None or not path.exists():
        return None
    try:
        connection = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True,
                                     timeout=30)
    except sqlite3.Error:
        return None
    try:
        if not sqlite_schema_is_current(connection):
            return None
        heads: dict[int, list[tuple[str, int]]] = {}
        for repo_id, name, size in connection.execute(
                "SELECT b.repo_id, b.name, c.size_bytes FROM store_branches b "
                "LEFT JOIN store_commits c ON c.id = b.head ORDER BY b.name"):
            heads.setdefault(repo_id, []).append((name, int(size or 0)))
        found = []
        for repo_id, name, description, created in connection.execute(
                "SELECT id, name, description, created_at FROM store_repos ORDER BY name"):
            sizes = dict(heads.get(repo_id, []))
            size = sizes.get("master", max(sizes.values(), default=0))
            found.append(RepoInfo(name, description, _utc(created), size,
                                  [branch for branch, _ in heads.get(repo_id, [])]))
        return found
    except sqlite3.Error:
        return None
    finally:
        connection.close()


def _utc(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
