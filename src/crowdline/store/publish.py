"""Finishing a commit: one SQL transaction that publishes its staged changes.

Cost is O(size of the change): the staged rows are moved into ``store_entries`` and the
rows they replace get ``removed_pos``; nothing else in the repo is read or written. The
only exception is the first commit of a fork (a branch growing from a commit that is not
the tip of its lineage), which copies the parent's file list once.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from crowdline.errors import BranchMoved, CommitFinished, CommitNotFound
from crowdline.store.snapshots import ADDED, LIVE, REMOVED
from crowdline.store.tables import (
    branches,
    commit_sets,
    commits,
    entries,
    lineages,
    sequence,
    staged,
)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def next_seq(conn: sa.Connection) -> int:
    # The row lock also serialises finishes on PostgreSQL, so seq order = visibility order
    # and `list_commits(since_seq=...)` never skips a commit that becomes visible later.
    return int(conn.execute(
        sa.update(sequence).where(sequence.c.id == 1)
        .values(value=sequence.c.value + 1).returning(sequence.c.value)
    ).scalar_one())


def _colliding_path(conn: sa.Connection, commit_id: str, parent: sa.Row | None,
                    head: sa.Row) -> str | None:
    """A path this commit staged that changed between its parent and the branch head."""
    staged_keys = sa.select(staged.c.pkey).where(staged.c.commit_id == commit_id)
    if parent is None:
        lo = 0
    elif parent.lineage_id == head.lineage_id:
        lo = parent.pos
    elif head.pos is not None and parent.id == _lineage_base(conn, head.lineage_id):
        lo = 0
    else:
        return "*"  # the head is not a descendant we can compare cheaply
    hi = head.pos
    changed = sa.or_(
        sa.and_(entries.c.added_pos > lo, entries.c.added_pos <= hi),
        sa.and_(entries.c.removed_pos > lo, entries.c.removed_pos <= hi),
    )
    if parent is None:  # everything at the head is new to this commit
        changed = sa.and_(ADDED <= hi, REMOVED > hi)
    row = conn.execute(sa.select(entries.c.pkey).where(
        entries.c.lineage_id == head.lineage_id, changed, entries.c.pkey.in_(staged_keys)
    ).limit(1)).first()
    return None if row is None else row[0].replace("\x01", "/")


def _lineage_base(conn: sa.Connection, lineage_id: int) -> str | None:
    return conn.execute(sa.select(lineages.c.base_commit)
                        .where(lineages.c.id == lineage_id)).scalar_one_or_none()


def _commit_row(conn: sa.Connection, commit_id: str | None) -> sa.Row | None:
    if commit_id is None:
        return None
    return conn.execute(sa.select(commits).where(commits.c.id == commit_id)).first()


def _place(conn: sa.Connection, repo_id: int, parent: sa.Row | None) -> tuple[int, int]:
    """(lineage, position) for a new child of ``parent``; starts a lineage when needed."""
    if parent is not None:
        tip = conn.execute(sa.select(lineages.c.tip_commit, lineages.c.tip_pos)
                           .where(lineages.c.id == parent.lineage_id)).one()
        if tip.tip_commit == parent.id:
            return parent.lineage_id, tip.tip_pos + 1
    lineage_id = int(conn.execute(sa.insert(lineages).values(
        repo_id=repo_id, base_commit=parent.id if parent is not None else None,
        tip_commit=None, tip_pos=0,
    ).returning(lineages.c.id)).scalar_one())
    if parent is not None:  # fork: copy the parent's file list in at position 0
        cols = [entries.c.pkey, entries.c.dkey, entries.c.hash, entries.c.size]
        source = sa.select(sa.literal(lineage_id), *cols, sa.literal(0)).where(
            entries.c.lineage_id == parent.lineage_id,
            ADDED <= parent.pos, REMOVED > parent.pos,
        )
        conn.execute(sa.insert(entries).from_select(
            ["lineage_id", "pkey", "dkey", "hash", "size", "added_pos"], source))
    return lineage_id, 1


def finish(conn: sa.Connection, repo_id: int, commit_id: str) -> None:
    """Publish an open commit (caller owns the transaction). Raises BranchMoved when
    another writer changed one of the same paths since this commit started."""
    seq = next_seq(conn)
    row = conn.execute(sa.select(commits).where(commits.c.id == commit_id,
                                                commits.c.repo_id == repo_id)
                       .with_for_update()).first()
    if row is None:
        raise CommitNotFound(f"commit {commit_id} not found (it may have been aborted)",
                             hint="start a new commit")
    if row.state != "open":
        raise CommitFinished(f"commit {commit_id} is already finished",
                             hint="finished commits are immutable; start a new commit")
    head_id = conn.execute(sa.select(branches.c.head).where(
        branches.c.repo_id == repo_id, branches.c.name == row.branch)).scalar_one_or_none()
    parent = _commit_row(conn, row.parent)
    if head_id != row.parent:
        head = _commit_row(conn, head_id)
        if head is not None:
            clash = _colliding_path(conn, commit_id, parent, head)
            if clash is not None:
                raise BranchMoved(
                    f"branch {row.branch!r} moved to {head_id} while commit {commit_id} was "
                    f"open, and both changed {clash}",
                    hint="the commit was aborted; retry it on the new head",
                )
        parent = head  # re-parent onto the current head: the change sets do not collide
    lineage_id, pos = _place(conn, repo_id, parent)
    # A put of identical content is no change.
    same = sa.select(entries.c.id).where(
        entries.c.lineage_id == lineage_id, LIVE,
        entries.c.pkey == staged.c.pkey, entries.c.hash == staged.c.hash,
    ).exists()
    conn.execute(sa.delete(staged).where(staged.c.commit_id == commit_id, staged.c.op == "put",
                                         same))
    staged_keys = sa.select(staged.c.pkey).where(staged.c.commit_id == commit_id)
    conn.execute(sa.update(entries).where(
        entries.c.lineage_id == lineage_id, LIVE, entries.c.pkey.in_(staged_keys),
    ).values(removed_pos=pos))
    conn.execute(sa.insert(entries).from_select(
        ["lineage_id", "pkey", "dkey", "hash", "size", "added_pos"],
        sa.select(sa.literal(lineage_id), staged.c.pkey, staged.c.dkey, staged.c.hash,
                  staged.c.size, sa.literal(pos))
        .where(staged.c.commit_id == commit_id, staged.c.op == "put"),
    ))
    conn.execute(sa.delete(staged).where(staged.c.commit_id == commit_id))
    added = conn.execute(sa.select(sa.func.coalesce(sa.func.sum(entries.c.size), 0)).where(
        entries.c.lineage_id == lineage_id, entries.c.added_pos == pos)).scalar_one()
    removed = conn.execute(sa.select(sa.func.coalesce(sa.func.sum(entries.c.size), 0)).where(
        entries.c.lineage_id == lineage_id, entries.c.removed_pos == pos)).scalar_one()
    size = (parent.size_bytes if parent is not None else 0) + int(added) - int(removed)
    conn.execute(sa.update(lineages).where(lineages.c.id == lineage_id)
                 .values(tip_commit=commit_id, tip_pos=pos))
    conn.execute(sa.update(commits).where(commits.c.id == commit_id).values(
        state="finished", finished_at=now(), seq=seq, lineage_id=lineage_id, pos=pos,
        size_bytes=size, parent=parent.id if parent is not None else None,
    ))
    conn.execute(sa.update(branches).where(
        branches.c.repo_id == repo_id, branches.c.name == row.branch).values(head=commit_id))
    _open_set(conn, row.commit_set or commit_id, seq)


def _open_set(conn: sa.Connection, set_id: str, seq: int) -> None:
    """A commit whose set does not exist yet is an origin: its set begins at its seq (the
    first commit of a transaction to finish opens the set for the others)."""
    exists = conn.execute(sa.select(commit_sets.c.id).where(commit_sets.c.id == set_id)).first()
    if exists is None:
        conn.execute(sa.insert(commit_sets).values(id=set_id, seq=seq, created_at=now()))
