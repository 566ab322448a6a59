"""The ``Store`` facade: repos, branches, commits, files, diffs and provenance.

    store = Store(engine=engine, storage_url="file:///data/objects")
    store.create_repo("raw")
    with store.commit("raw", "master", message="first") as c:
        c.put_file("/a.txt", b"hello")
    store.get_file("raw", "master", "/a.txt")          # b"hello"
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import sqlalchemy as sa

from crowdline.database.driver import Driver
from crowdline.database.ids import expand_prefix
from crowdline.database.transactions import reading, writing
from crowdline.errors import (
    BranchMoved,
    BranchNotFound,
    CommitFinished,
    CommitNotFound,
    Conflict,
    FileNotFound,
    InvalidInput,
    RepoExists,
    RepoNotFound,
)
from crowdline.store import paths, publish, snapshots
from crowdline.store.blobs import BlobStore, open_blob_store
from crowdline.store.bulk_put import write_blobs
from crowdline.store.commit_sets import StoreCommitSets
from crowdline.store.local_folder import file_count, iter_files, local_files
from crowdline.store.models import (
    BranchInfo,
    CommitInfo,
    CommitRef,
    FileInfo,
    RepoInfo,
)
from crowdline.store.reading import StoreReading
from crowdline.store.snapshots import View
from crowdline.store.tables import (
    branches,
    commits,
    entries,
    lineages,
    repos,
    staged,
)
from crowdline.store.tables import (
    provenance as edges,
)

_UPSERT_STAGED = (
    f"INSERT INTO {staged.name} (commit_id, pkey, dkey, op, hash, size) "
    "VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (commit_id, pkey) DO UPDATE SET dkey = excluded.dkey, op = excluded.op, "
    "hash = excluded.hash, size = excluded.size")
_IN_CHUNK = 500


class Store(StoreReading, StoreCommitSets):
    """Versioned files: metadata in SQL (``engine``), content in an object store."""

    def __init__(self, *, engine: sa.Engine, storage_url: str,
                 storage_options: dict[str, Any] | None = None) -> None:
        self.engine = engine
        self.storage_url = storage_url
        self.blobs: BlobStore = open_blob_store(storage_url, storage_options)

    # -- transactions ---------------------------------------------------------------------

    def _write(self) -> contextlib.AbstractContextManager[sa.Connection]:
        return writing(self.engine)

    def _read(self) -> contextlib.AbstractContextManager[sa.Connection]:
        return reading(self.engine)

    # -- lookups --------------------------------------------------------------------------

    def _repo_id(self, conn: sa.Connection, name: str) -> int:
        paths.check_name(name, "repo")
        repo_id = conn.execute(sa.select(repos.c.id).where(repos.c.name == name)).scalar()
        if repo_id is None:
            raise RepoNotFound(f"repo {name!r} not found",
                               hint="see `crowdline repo list` or create it with "
                               f"`crowdline repo create {name}`")
        return int(repo_id)

    def _commit_row(self, conn: sa.Connection, repo_id: int, repo: str, commit_id: str) -> sa.Row:
        row = conn.execute(sa.select(commits).where(commits.c.id == commit_id,
                                                    commits.c.repo_id == repo_id)).first()
        if row is None:
            raise CommitNotFound(f"commit {commit_id} not found in repo {repo!r}",
                                 hint=f"see `crowdline list commit {repo}`")
        return row

    def _resolve_row(self, conn: sa.Connection, repo_id: int, repo: str, ref: str) -> sa.Row:
        if not isinstance(ref, str) or not ref:
            raise InvalidInput(f"ref {ref!r} is empty", hint="give a branch name or a commit id")
        base = ref.rstrip("^")
        ups = len(ref) - len(base)
        if paths.COMMIT_ID.fullmatch(base):
            row = self._commit_row(conn, repo_id, repo, base)
        else:
            paths.check_name(base, "branch")
            head = conn.execute(sa.select(branches.c.head).where(
                branches.c.repo_id == repo_id, branches.c.name == base)).first()
            # Not a branch: a unique prefix of a commit id, as printed in tables.
            expanded = None if head is not None else expand_prefix(
                conn, commits.c.id, base, what="commit", where=commits.c.repo_id == repo_id)
            if expanded is not None:
                head = (expanded,)
            if head is None:
                raise BranchNotFound(f"branch {base!r} not found in repo {repo!r}",
                                     hint=f"see `crowdline branch list {repo}`")
            if head[0] is None:
                raise CommitNotFound(f"branch {repo}@{base} has no commits yet",
                                     hint="put a file on it first")
            row = self._commit_row(conn, repo_id, repo, head[0])
        for _ in range(ups):
            if row.parent is None:
                raise CommitNotFound(f"{repo}@{ref}: commit {row.id} has no parent")
            row = self._commit_row(conn, repo_id, repo, row.parent)
        return row

    def _open_row(self, conn: sa.Connection, repo: str, commit_id: str,
                  *, lock: bool = False) -> tuple[int, sa.Row]:
        repo_id = self._repo_id(conn, repo)
        if not isinstance(commit_id, str) or not paths.COMMIT_ID.fullmatch(commit_id):
            raise InvalidInput(f"{commit_id!r} is not a commit id (32 hex characters)")
        query = sa.select(commits).where(commits.c.id == commit_id, commits.c.repo_id == repo_id)
        row = conn.execute(query.with_for_update() if lock else query).first()
        if row is None:
            raise CommitNotFound(f"commit {commit_id} not found in repo {repo!r}",
                                 hint="it may have been aborted; start a new commit")
        if row.state != "open":
            raise CommitFinished(f"commit {commit_id} of repo {repo!r} is finished",
                                 hint="finished commits are immutable; start a new commit")
        return repo_id, row

    def _view(self, conn: sa.Connection, row: sa.Row | None) -> View | None:
        """The committed file tree a commit row reads from (an open one: its parent's)."""
        if row is None:
            return None
        if row.state == "finished":
            return View(row.lineage_id, row.pos)
        if row.parent is None:
            return None
        parent = conn.execute(sa.select(commits.c.lineage_id, commits.c.pos)
                              .where(commits.c.id == row.parent)).one()
        return View(parent.lineage_id, parent.pos)

    def _commit_info(self, conn: sa.Connection, repo: str, row: sa.Row) -> CommitInfo:
        return self._commit_infos(conn, repo, [row])[0]

    def _commit_infos(self, conn: sa.Connection, repo: str,
                      rows: Sequence[sa.Row]) -> list[CommitInfo]:
        ids = [row.id for row in rows]
        upstream: dict[str, list[CommitRef]] = {i: [] for i in ids}
        up = commits.alias("up")
        for chunk in _chunks(ids):
            query = (sa.select(edges.c.commit_id, repos.c.name, up.c.id)
                     .join(up, up.c.id == edges.c.upstream_id)
                     .join(repos, repos.c.id == up.c.repo_id)
                     .where(edges.c.commit_id.in_(chunk))
                     .order_by(repos.c.name, up.c.id))
            for commit_id, repo_name, upstream_id in conn.execute(query):
                upstream[commit_id].append(CommitRef(repo_name, upstream_id))
        return [CommitInfo(
            id=row.id, repo=repo, branch=row.branch, parent=row.parent, state=row.state,
            message=row.message, author=row.author, origin=row.origin,
            started_at=row.started_at, finished_at=row.finished_at,
            provenance=upstream[row.id], size_bytes=int(row.size_bytes),
            seq=None if row.seq is None else int(row.seq), metadata=dict(row.metadata or {}),
            commit_set=row.commit_set,
        ) for row in rows]

    # -- repos ----------------------------------------------------------------------------

    def create_repo(self, name: str, description: str = "") -> RepoInfo:
        paths.check_name(name, "repo")
        with self._write() as conn:
            exists = conn.execute(sa.select(repos.c.id).where(repos.c.name == name)).first()
            if exists:
                raise RepoExists(f"repo {name!r} already exists",
                                 hint="pick another name or use the existing repo")
            try:
                conn.execute(sa.insert(repos).values(name=name, description=description,
                                                     created_at=publish.now()))
            except sa.exc.IntegrityError as exc:  # created concurrently by another process
                raise RepoExists(f"repo {name!r} already exists",
                                 hint="pick another name or use the existing repo") from exc
        return self.inspect_repo(name)

    def inspect_repo(self, name: str) -> RepoInfo:
        with self._read() as conn:
            repo_id = self._repo_id(conn, name)
            return self._repo_info(conn, repo_id)

    def _repo_info(self, conn: sa.Connection, repo_id: int) -> RepoInfo:
        repo = conn.execute(sa.select(repos).where(repos.c.id == repo_id)).one()
        heads = conn.execute(sa.select(branches.c.name, commits.c.size_bytes)
                             .outerjoin(commits, commits.c.id == branches.c.head)
                             .where(branches.c.repo_id == repo_id)
                             .order_by(branches.c.name)).all()
        sizes = {name: int(size or 0) for name, size in heads}
        size = sizes.get("master", max(sizes.values(), default=0))
        return RepoInfo(repo.name, repo.description, repo.created_at, size,
                        [name for name, _ in heads])

    def list_repos(self) -> list[RepoInfo]:
        with self._read() as conn:
            ids = conn.execute(sa.select(repos.c.id).order_by(repos.c.name)).scalars().all()
            return [self._repo_info(conn, int(i)) for i in ids]

    def delete_repo(self, name: str, *, force: bool = False) -> None:
        """Delete a repo's commits and branches (blobs stay: they may be shared).

        Refuses while commits of other repos have provenance on it, unless ``force``."""
        with self._write() as conn:
            repo_id = self._repo_id(conn, name)
            own = sa.select(commits.c.id).where(commits.c.repo_id == repo_id)
            down = commits.alias("down")
            user = conn.execute(
                sa.select(down.c.id).join(edges, edges.c.commit_id == down.c.id)
                .where(edges.c.upstream_id.in_(own), down.c.repo_id != repo_id).limit(1)
            ).first()
            if user is not None and not force:
                raise Conflict(f"repo {name!r} is provenance of commit {user[0]} of another repo",
                               hint="delete the downstream repos first, or pass --force")
            conn.execute(sa.delete(edges).where(sa.or_(
                edges.c.commit_id.in_(own), edges.c.upstream_id.in_(own))))
            conn.execute(sa.delete(staged).where(staged.c.commit_id.in_(own)))
            own_lineages = sa.select(lineages.c.id).where(lineages.c.repo_id == repo_id)
            conn.execute(sa.delete(entries).where(entries.c.lineage_id.in_(own_lineages)))
            conn.execute(sa.delete(lineages).where(lineages.c.repo_id == repo_id))
            conn.execute(sa.delete(commits).where(commits.c.repo_id == repo_id))
            conn.execute(sa.delete(branches).where(branches.c.repo_id == repo_id))
            conn.execute(sa.delete(repos).where(repos.c.id == repo_id))

    # -- branches -------------------------------------------------------------------------

    def create_branch(self, repo: str, branch: str, head: str | None = None) -> BranchInfo:
        """Create ``branch`` (or move it when it exists) at ``head`` (a ref; None = empty)."""
        paths.check_name(branch, "branch")
        with self._write() as conn:
            repo_id = self._repo_id(conn, repo)
            head_id = None
            if head is not None:
                row = self._resolve_row(conn, repo_id, repo, head)
                if row.state != "finished":
                    raise InvalidInput(f"commit {row.id} is still open",
                                       hint="a branch head must be a finished commit")
                head_id = row.id
            exists = conn.execute(sa.select(branches.c.head).where(
                branches.c.repo_id == repo_id, branches.c.name == branch)).first()
            if exists is None:
                self._insert_branch(conn, repo_id, branch)
            if head is not None:
                conn.execute(sa.update(branches).where(
                    branches.c.repo_id == repo_id, branches.c.name == branch).values(head=head_id))
            elif exists is not None:
                head_id = exists[0]
        return BranchInfo(repo, branch, head_id)

    @staticmethod
    def _insert_branch(conn: sa.Connection, repo_id: int, branch: str) -> None:
        """Create an empty branch; a concurrent creator winning the race is fine."""
        values = {"repo_id": repo_id, "name": branch, "head": None}
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert

            conn.execute(insert(branches).values(**values).on_conflict_do_nothing())
        else:  # SQLite: BEGIN IMMEDIATE already serialises writers
            conn.execute(sa.insert(branches).values(**values))

    def list_branches(self, repo: str) -> list[BranchInfo]:
        with self._read() as conn:
            repo_id = self._repo_id(conn, repo)
            rows = conn.execute(sa.select(branches.c.name, branches.c.head)
                                .where(branches.c.repo_id == repo_id).order_by(branches.c.name))
            return [BranchInfo(repo, name, head) for name, head in rows]

    # -- commits --------------------------------------------------------------------------

    def start_commit(self, repo: str, branch: str = "master", *, message: str = "",
                     author: str | None = None, origin: str = "user",
                     provenance: Iterable[tuple[str, str] | CommitRef] = (),
                     metadata: dict[str, Any] | None = None,
                     commit_set: str | None = None) -> CommitInfo:
        """Open a commit on ``branch`` (created when missing) on top of its current head.

        ``provenance`` lists the commits of other repos this one is made from. ``commit_set``
        joins an existing commit set (a pipeline's output, or a transaction's commits); by
        default the commit is the origin of a new set whose id is the commit's id."""
        paths.check_name(branch, "branch")
        if origin not in ("user", "auto"):
            raise InvalidInput(f"origin {origin!r} is not 'user' or 'auto'")
        commit_id = uuid.uuid4().hex
        if commit_set is not None and not paths.COMMIT_ID.fullmatch(str(commit_set)):
            raise InvalidInput(f"{commit_set!r} is not a commit set id (32 hex characters)")
        with self._write() as conn:
            repo_id = self._repo_id(conn, repo)
            upstream: set[str] = set()
            for item in provenance:
                up_repo, up_ref = (item.repo, item.id) if isinstance(item, CommitRef) else item
                up_repo_id = self._repo_id(conn, up_repo)
                upstream.add(self._resolve_row(conn, up_repo_id, up_repo, up_ref).id)
            head = conn.execute(sa.select(branches.c.head).where(
                branches.c.repo_id == repo_id, branches.c.name == branch)).first()
            if head is None:
                self._insert_branch(conn, repo_id, branch)
            conn.execute(sa.insert(commits).values(
                id=commit_id, repo_id=repo_id, branch=branch,
                parent=head[0] if head else None, state="open", message=message,
                author=author, origin=origin, started_at=publish.now(), size_bytes=0,
                metadata=dict(metadata or {}), commit_set=commit_set or commit_id,
            ))
            if upstream:
                conn.execute(sa.insert(edges), [
                    {"commit_id": commit_id, "upstream_id": u} for u in sorted(upstream)])
            return self._commit_info(conn, repo, self._commit_row(conn, repo_id, repo, commit_id))

    def finish_commit(self, repo: str, commit_id: str) -> CommitInfo:
        """Publish the commit atomically and move its branch head to it.

        If another writer finished first, the commit is re-parented onto the new head
        unless both touched the same path: then it is aborted and BranchMoved is raised."""
        try:
            with self._write() as conn:
                repo_id, _ = self._open_row(conn, repo, commit_id)
                publish.finish(conn, repo_id, commit_id)
        except BranchMoved:
            self.abort_commit(repo, commit_id)
            raise
        return self.inspect_commit(repo, commit_id)

    def abort_commit(self, repo: str, commit_id: str) -> None:
        """Drop an open commit and everything staged in it."""
        with self._write() as conn:
            self._open_row(conn, repo, commit_id, lock=True)
            conn.execute(sa.delete(staged).where(staged.c.commit_id == commit_id))
            conn.execute(sa.delete(edges).where(edges.c.commit_id == commit_id))
            conn.execute(sa.delete(commits).where(commits.c.id == commit_id))

    @contextlib.contextmanager
    def commit(self, repo: str, branch: str = "master", *, message: str = "",
               author: str | None = None, origin: str = "user",
               provenance: Iterable[tuple[str, str] | CommitRef] = (),
               metadata: dict[str, Any] | None = None,
               commit_set: str | None = None) -> Iterator[CommitWriter]:
        """Open a commit; finish it on exit, abort it if the block raises."""
        info = self.start_commit(repo, branch, message=message, author=author, origin=origin,
                                 provenance=provenance, metadata=metadata,
                                 commit_set=commit_set)
        writer = CommitWriter(self, repo, info)
        try:
            yield writer
        except BaseException:
            with contextlib.suppress(CommitFinished, CommitNotFound):
                self.abort_commit(repo, info.id)
            raise
        writer.info = self.finish_commit(repo, info.id)

    def inspect_commit(self, repo: str, ref: str) -> CommitInfo:
        with self._read() as conn:
            repo_id = self._repo_id(conn, repo)
            return self._commit_info(conn, repo, self._resolve_row(conn, repo_id, repo, ref))

    def resolve(self, repo: str, ref: str) -> str:
        """The commit id a branch name, ``branch^`` or commit id stands for."""
        with self._read() as conn:
            return str(self._resolve_row(conn, self._repo_id(conn, repo), repo, ref).id)

    def list_commits(self, repo: str, branch: str | None = None, *,
                     since_seq: int | None = None, limit: int | None = None) -> list[CommitInfo]:
        """Finished commits, newest first; ``since_seq`` keeps those with a larger seq."""
        with self._read() as conn:
            repo_id = self._repo_id(conn, repo)
            query = sa.select(commits).where(commits.c.repo_id == repo_id,
                                             commits.c.seq.is_not(None))
            if branch is not None:
                paths.check_name(branch, "branch")
                known = conn.execute(sa.select(branches.c.name).where(
                    branches.c.repo_id == repo_id, branches.c.name == branch)).first()
                if known is None:
                    raise BranchNotFound(f"branch {branch!r} not found in repo {repo!r}",
                                         hint=f"see `crowdline branch list {repo}`")
                query = query.where(commits.c.branch == branch)
            if since_seq is not None:
                query = query.where(commits.c.seq > since_seq)
            query = query.order_by(commits.c.seq.desc())
            if limit is not None:
                query = query.limit(limit)
            return self._commit_infos(conn, repo, conn.execute(query).all())

    def list_open_commits(self, repo: str) -> list[CommitInfo]:
        """Commits started but neither finished nor aborted (e.g. left by a killed writer);
        ``list_commits`` never shows them."""
        with self._read() as conn:
            repo_id = self._repo_id(conn, repo)
            rows = conn.execute(sa.select(commits).where(commits.c.repo_id == repo_id,
                                                         commits.c.state == "open")
                                .order_by(commits.c.started_at)).all()
            return [self._commit_info(conn, repo, row) for row in rows]

    def provenance(self, repo: str, commit_id: str) -> list[CommitInfo]:
        """Every commit this one was made from, directly or transitively."""
        return self._walk(repo, commit_id, downstream=False)

    def subvenance(self, repo: str, commit_id: str) -> list[CommitInfo]:
        """Every commit made from this one, directly or transitively."""
        return self._walk(repo, commit_id, downstream=True)

    def _walk(self, repo: str, ref: str, *, downstream: bool) -> list[CommitInfo]:
        src, dst = ((edges.c.upstream_id, edges.c.commit_id) if downstream
                    else (edges.c.commit_id, edges.c.upstream_id))
        with self._read() as conn:
            start = self._resolve_row(conn, self._repo_id(conn, repo), repo, ref).id
            seen: set[str] = set()
            frontier = {start}
            while frontier:
                found: set[str] = set()
                for chunk in _chunks(sorted(frontier)):
                    found.update(conn.execute(sa.select(dst).where(src.in_(chunk))).scalars())
                frontier = found - seen - {start}
                seen |= frontier
            out: list[CommitInfo] = []
            for chunk in _chunks(sorted(seen)):
                rows = conn.execute(sa.select(commits, repos.c.name.label("repo_name"))
                                    .join(repos, repos.c.id == commits.c.repo_id)
                                    .where(commits.c.id.in_(chunk))).all()
                out.extend(self._commit_info(conn, row.repo_name, row) for row in rows)
            return sorted(out, key=lambda c: (c.repo, c.seq or 0, c.id))

    # -- writing files --------------------------------------------------------------------

    def _stage(self, repo: str, commit_id: str, rows: list[tuple[Any, ...]]) -> None:
        """Record puts/deletes in an open commit (one transaction; last write wins).
        ``rows``: (commit_id, pkey, dkey, op, hash, size) tuples."""
        with self._write() as conn:
            self._open_row(conn, repo, commit_id, lock=True)
            if rows:
                # one upsert through the driver: SQLAlchemy's per-row parameter handling
                # cost more than SQLite's insert itself on a 100,000-file put
                Driver(conn).many_positional(_UPSERT_STAGED, rows)

    def _check_writable(self, repo: str, commit_id: str) -> None:
        with self._read() as conn:
            self._open_row(conn, repo, commit_id)


    def put_file(self, repo: str, commit_id: str, path: str,
                 data: bytes | BinaryIO) -> FileInfo:
        """Write ``data`` at ``path`` in an open commit (overwrites)."""
        path = paths.normalize_path(path)
        self._check_writable(repo, commit_id)
        if isinstance(data, bytes | bytearray | memoryview):
            digest, size = self.blobs.put_bytes(bytes(data))
        elif hasattr(data, "read"):
            digest, size = self.blobs.put_stream(data)
        else:
            raise InvalidInput(f"put_file wants bytes or a binary file, not {type(data).__name__}")
        self._stage(repo, commit_id, [_staged_put(commit_id, path, digest, size)])
        return FileInfo(path, "file", size, digest, commit_id)

    def link_file(self, repo: str, commit_id: str, path: str, *, content_hash: str,
                  size: int) -> FileInfo:
        """Put an existing blob at ``path`` without uploading it again."""
        path = paths.normalize_path(path)
        if not self.blobs.exists(content_hash):
            raise FileNotFound(f"no blob {content_hash!r} in the object store",
                               hint="link only hashes taken from a FileInfo of this store")
        self._stage(repo, commit_id, [_staged_put(commit_id, path, content_hash, int(size))])
        return FileInfo(path, "file", int(size), content_hash, commit_id)

    def put_local(self, repo: str, commit_id: str, local_path: str | Path, dest: str = "/",
                  *, progress: Callable[[int], None] | None = None) -> int:
        """Put a local file or folder (recursively). A file lands at ``dest`` (or inside it
        when ``dest`` is "/" or ends with "/"); a folder's files land under ``dest``.
        ``progress(n)`` is called after each batch of n files. Returns files written."""
        local = Path(local_path)
        if not local.exists():
            raise FileNotFound(f"local path {str(local)!r} does not exist")
        self._check_writable(repo, commit_id)
        if local.is_file():
            target = dest.rstrip("/") + "/" + local.name if dest.endswith("/") else dest
            count, files = 1, iter([(str(local), paths.normalize_path(target))])
        else:
            base = paths.normalize_path(dest, allow_root=True).rstrip("/")
            folders = local_files(str(local))  # checks every name before anything is stored
            count, files = file_count(folders), iter_files(folders, base)
        # the pack (or upload) stays open until the last batch is staged: a commit can only
        # finish after its blobs are sealed
        with contextlib.closing(write_blobs(self.blobs, files, count)) as written:
            for batch, stored in written:
                self._stage_puts(repo, commit_id, batch, stored, progress)
        return count

    def _stage_puts(self, repo: str, commit_id: str, batch: list[tuple[str, str]],
                    stored: Iterable[tuple[str, int]],
                    progress: Callable[[int], None] | None) -> None:
        self._stage(repo, commit_id, [_staged_put(commit_id, path, digest, size)
                                      for (_, path), (digest, size)
                                      in zip(batch, stored, strict=True)])
        if progress is not None:
            progress(len(batch))

    def delete_file(self, repo: str, commit_id: str, path: str) -> None:
        """Delete a file, or every file under a folder, in an open commit."""
        path = paths.normalize_path(path, allow_root=True)
        with self._read() as conn:
            _, row = self._open_row(conn, repo, commit_id)
            view = self._view(conn, row)
            keys = {e.key for e in snapshots.walk(conn, view, path)}
            if path != "/" and snapshots.lookup(conn, view, paths.to_key(path)):
                keys.add(paths.to_key(path))
            for key, op in self._staged_under(conn, commit_id, path):
                if op == "put":
                    keys.add(key)
                else:
                    keys.discard(key)
        if not keys:
            raise FileNotFound(f"{repo}@{commit_id}:{path} does not exist",
                               hint="list the folder with `crowdline list file`")
        self._stage(repo, commit_id, [(commit_id, k, paths.dir_key(k), "delete", None, None)
                                      for k in sorted(keys)])

    def _staged_under(self, conn: sa.Connection, commit_id: str,
                      path: str) -> list[tuple[str, str]]:
        lo, hi = paths.subtree_range(path)
        where = sa.and_(staged.c.pkey >= lo, staged.c.pkey < hi)
        if path != "/":
            where = sa.or_(where, staged.c.pkey == paths.to_key(path))
        return [tuple(r) for r in conn.execute(sa.select(staged.c.pkey, staged.c.op).where(
            staged.c.commit_id == commit_id, where))]


class CommitWriter:
    """The handle ``Store.commit()`` yields: the same verbs, bound to one open commit."""

    def __init__(self, store: Store, repo: str, info: CommitInfo) -> None:
        self._store = store
        self.repo = repo
        self.id = info.id
        self.info = info

    def put_file(self, path: str, data: bytes | BinaryIO) -> FileInfo:
        return self._store.put_file(self.repo, self.id, path, data)

    def put_local(self, local_path: str | Path, dest: str = "/", *,
                  progress: Callable[[int], None] | None = None) -> int:
        return self._store.put_local(self.repo, self.id, local_path, dest, progress=progress)

    def link_file(self, path: str, *, content_hash: str, size: int) -> FileInfo:
        return self._store.link_file(self.repo, self.id, path, content_hash=content_hash,
                                     size=size)

    def delete_file(self, path: str) -> None:
        self._store.delete_file(self.repo, self.id, path)


def _staged_put(commit_id: str, path: str, digest: str, size: int) -> tuple[Any, ...]:
    """The staging row of a put at a normalized ``path``."""
    key = paths.to_key(path)
    return commit_id, key, paths.dir_key(key), "put", digest, size


def _chunks(items: Sequence[Any], size: int = _IN_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]

