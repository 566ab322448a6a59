"""Reads of one commit's file tree, as indexed range scans over ``store_entries``.

A finished commit is a *view* ``(lineage_id, pos)``: the rows of that lineage with
``added_pos <= pos < removed_pos`` (``removed_pos`` NULL = still present). An open commit
reads as its parent's view with its staged rows on top (see ``Store``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa

from crowdline.store import paths
from crowdline.store.models import FileChange
from crowdline.store.tables import entries

_PAGE = 5000


@dataclass(frozen=True)
class View:
    lineage_id: int
    pos: int


@dataclass(frozen=True)
class Entry:
    key: str
    hash: str
    size: int

    @property
    def path(self) -> str:
        return paths.from_key(self.key)


# Position tests are written so no index can serve them (``+ 0``, ``coalesce``): the planner
# must then use the path or folder index, whose cost is what the query returns. An index on
# positions would otherwise look attractive and walk every live row of the lineage.
ADDED = entries.c.added_pos + 0
REMOVED = sa.func.coalesce(entries.c.removed_pos + 0, 2**31 - 1)
LIVE = sa.func.coalesce(entries.c.removed_pos, -1) == -1  # not removed yet (at the tip)


def visible(view: View) -> sa.ColumnElement[bool]:
    return sa.and_(entries.c.lineage_id == view.lineage_id, ADDED <= view.pos,
                   REMOVED > view.pos)


_COLS = (entries.c.pkey, entries.c.hash, entries.c.size)


def lookup(conn: sa.Connection, view: View | None, key: str) -> Entry | None:
    if view is None:
        return None
    row = conn.execute(sa.select(*_COLS).where(visible(view), entries.c.pkey == key)).first()
    return Entry(*row) if row else None


def direct_files(conn: sa.Connection, view: View | None, folder: str) -> list[Entry]:
    if view is None:
        return []
    dkey = paths.to_key(folder) if folder != "/" else paths.ROOT_KEY
    rows = conn.execute(sa.select(*_COLS).where(visible(view), entries.c.dkey == dkey)
                        .order_by(entries.c.pkey))
    return [Entry(*row) for row in rows]


def subfolders(conn: sa.Connection, view: View | None, folder: str) -> list[str]:
    """Names of the folders directly under ``folder``: one indexed seek per folder found."""
    if view is None:
        return []
    lo, hi = paths.subtree_range(folder)
    names: list[str] = []
    cursor, inclusive = lo, False
    while True:
        bound = entries.c.dkey >= cursor if inclusive else entries.c.dkey > cursor
        row = conn.execute(
            sa.select(entries.c.dkey).where(visible(view), bound, entries.c.dkey < hi)
            .order_by(entries.c.dkey).limit(1)
        ).first()
        if row is None:
            return names
        name = row[0][len(lo):].split(paths.SEP, 1)[0]
        names.append(name)
        cursor, inclusive = lo + name + paths.SUBTREE_END, True


def walk(conn: sa.Connection, view: View | None, folder: str) -> Iterator[Entry]:
    """Every file strictly under ``folder`` in key order, fetched page by page."""
    if view is None:
        return
    lo, hi = paths.subtree_range(folder)
    cursor, inclusive = lo, True
    while True:
        bound = entries.c.pkey >= cursor if inclusive else entries.c.pkey > cursor
        rows = conn.execute(
            sa.select(*_COLS).where(visible(view), bound, entries.c.pkey < hi)
            .order_by(entries.c.pkey).limit(_PAGE)
        ).all()
        for row in rows:
            yield Entry(*row)
        if len(rows) < _PAGE:
            return
        cursor, inclusive = rows[-1][0], False


def changes_between(conn: sa.Connection, lineage_id: int, old_pos: int,
                    new_pos: int) -> list[FileChange]:
    """What changed from ``old_pos`` to ``new_pos`` (old < new) of one lineage: only the
    rows added or removed in that range are read."""
    in_range_added = sa.and_(entries.c.added_pos > old_pos, entries.c.added_pos <= new_pos)
    in_range_removed = sa.and_(entries.c.removed_pos > old_pos,
                               entries.c.removed_pos <= new_pos)
    old_rows = conn.execute(sa.select(*_COLS).where(
        entries.c.lineage_id == lineage_id, in_range_removed, ADDED <= old_pos))
    new_rows = conn.execute(sa.select(*_COLS).where(
        entries.c.lineage_id == lineage_id, in_range_added, REMOVED > new_pos))
    old = {r[0]: (r[1], r[2]) for r in old_rows}
    new = {r[0]: (r[1], r[2]) for r in new_rows}
    return compare(old, new)


def compare(old: dict[str, tuple[str, int]], new: dict[str, tuple[str, int]]) -> list[FileChange]:
    """FileChanges between two {key: (hash, size)} maps, sorted by path."""
    out: list[FileChange] = []
    for key in sorted(old.keys() | new.keys()):
        before, after = old.get(key), new.get(key)
        path = paths.from_key(key)
        if before is None and after is not None:
            out.append(FileChange(path, "added", None, after[1], None, after[0]))
        elif after is None and before is not None:
            out.append(FileChange(path, "deleted", before[1], None, before[0], None))
        elif before is not None and after is not None and before[0] != after[0]:
            out.append(FileChange(path, "modified", before[1], after[1], before[0], after[0]))
    return out
