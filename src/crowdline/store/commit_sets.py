"""Commit sets (Pachyderm's global ids) and multi-repo transactions: the ``Store`` half that
groups commits.

An origin commit (a user's put, or several commits made in one :meth:`transaction`) opens a
set when it is published; a pipeline's output commits join the set of the job that made them.
Sets are ordered by ``seq`` (the global commit sequence), so "the newest commit of a branch as
of set S" is well defined and a reader polling ``list_commit_sets(since_seq=...)`` never misses
a set.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from crowdline.errors import CommitFinished, CommitNotFound
from crowdline.store import paths, publish
from crowdline.store.models import CommitInfo, CommitSetInfo
from crowdline.store.tables import branches, commit_sets, commits, repos

if TYPE_CHECKING:
    from crowdline.store.store import CommitWriter


class StoreCommitSets:
    if TYPE_CHECKING:
        def _read(self) -> contextlib.AbstractContextManager[sa.Connection]: ...
        def _write(self) -> contextlib.AbstractContextManager[sa.Connection]: ...
        def _repo_id(self, conn: sa.Connection, name: str) -> int: ...
        def _open_row(self, conn: sa.Connection, repo: str, commit_id: str,
                      *, lock: bool = False) -> tuple[int, sa.Row]: ...
        def _commit_infos(self, conn: sa.Connection, repo: str,
                          rows: Sequence[sa.Row]) -> list[CommitInfo]: ...
        def start_commit(self, repo: str, branch: str = "master", **kwargs: Any
                         ) -> CommitInfo: ...
        def abort_commit(self, repo: str, commit_id: str) -> None: ...
        def inspect_commit(self, repo: str, ref: str) -> CommitInfo: ...

    def create_commit_set(self) -> CommitSetInfo:
        """A new, empty commit set (for work that no user commit started, such as a
        pipeline's first job); commits join it with ``commit(..., commit_set=id)``."""
        set_id = uuid.uuid4().hex
        with self._write() as conn:
            seq = publish.next_seq(conn)
            when = publish.now()
            conn.execute(sa.insert(commit_sets).values(id=set_id, seq=seq, created_at=when))
        return CommitSetInfo(set_id, seq, when, [])

    def inspect_commit_set(self, set_id: str) -> CommitSetInfo:
        """A set and its finished commits (origin first, then in the order they finished)."""
        with self._read() as conn:
            row = conn.execute(sa.select(commit_sets).where(commit_sets.c.id == set_id)).first()
            if row is None:
                raise CommitNotFound(f"no commit set {set_id!r}",
                                     hint="a commit set id is the id `put file` printed for "
                                          "its origin commit; see `crowdline list commit REPO`")
            return self._set_info(conn, row)

    def list_commit_sets(self, *, since_seq: int | None = None,
                         limit: int | None = None) -> list[CommitSetInfo]:
        """Commit sets in the order they began (oldest first); ``since_seq``: only later ones."""
        with self._read() as conn:
            query = sa.select(commit_sets).order_by(commit_sets.c.seq)
            if since_seq is not None:
                query = query.where(commit_sets.c.seq > since_seq)
            if limit is not None:
                query = query.limit(limit)
            return [self._set_info(conn, row) for row in conn.execute(query).all()]

    def _set_info(self, conn: sa.Connection, row: sa.Row) -> CommitSetInfo:
        found = conn.execute(
            sa.select(commits, repos.c.name.label("repo_name"))
            .join(repos, repos.c.id == commits.c.repo_id)
            .where(commits.c.commit_set == row.id, commits.c.seq.is_not(None))
            .order_by(commits.c.seq)).all()
        infos = [self._commit_infos(conn, r.repo_name, [r])[0] for r in found]
        return CommitSetInfo(row.id, int(row.seq), row.created_at, infos)  # aware UTC

    def head_as_of(self, repo: str, branch: str, before_seq: int) -> str | None:
        """The newest finished commit of ``repo@branch`` whose commit set began before
        ``before_seq`` (the branch as a set beginning at ``before_seq`` saw it), or None."""
        paths.check_name(branch, "branch")
        with self._read() as conn:
            repo_id = self._repo_id(conn, repo)
            found = conn.execute(
                sa.select(commits.c.id)
                .join(commit_sets, commit_sets.c.id == commits.c.commit_set)
                .where(commits.c.repo_id == repo_id, commits.c.branch == branch,
                       commits.c.seq.is_not(None), commit_sets.c.seq < before_seq)
                .order_by(commits.c.seq.desc()).limit(1)).scalar()
        return None if found is None else str(found)

    def branch_head(self, repo: str, branch: str) -> str | None:
        """The head commit of ``repo@branch``; None when the branch is empty or missing."""
        with self._read() as conn:
            repo_id = self._repo_id(conn, repo)
            return conn.execute(sa.select(branches.c.head).where(
                branches.c.repo_id == repo_id, branches.c.name == branch)).scalar()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[CommitTransaction]:
        """Commits to several repos that become visible together, as one commit set:

            with store.transaction() as tx:
                tx.commit("raw").put_file("/a.csv", data)
                tx.commit("config").put_file("/pool.json", config)
            tx.id        # the commit set; pipelines reading both run once, on both
        """
        tx = CommitTransaction(self, uuid.uuid4().hex)
        try:
            yield tx
            with self._write() as conn:
                for writer in tx.writers:
                    repo_id, _ = self._open_row(conn, writer.repo, writer.id, lock=True)
                    publish.finish(conn, repo_id, writer.id)
        except BaseException:
            for writer in tx.writers:
                with contextlib.suppress(CommitFinished, CommitNotFound):
                    self.abort_commit(writer.repo, writer.id)
            raise
        for writer in tx.writers:
            writer.info = self.inspect_commit(writer.repo, writer.id)


class CommitTransaction:
    """What ``Store.transaction()`` yields: open commits that will share one commit set."""

    def __init__(self, store: StoreCommitSets, set_id: str) -> None:
        self._store = store
        self.id = set_id
        self.writers: list[CommitWriter] = []

    def commit(self, repo: str, branch: str = "master", *, message: str = "",
               author: str | None = None) -> CommitWriter:
        """Open a commit on ``repo@branch`` inside the transaction (finished with the rest)."""
        from crowdline.store.store import CommitWriter

        info = self._store.start_commit(repo, branch, message=message, author=author,
                                        commit_set=self.id)
        writer = CommitWriter(self._store, repo, info)  # type: ignore[arg-type]
        self.writers.append(writer)
        return writer
