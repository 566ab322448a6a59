"""The read half of ``Store``: files, folders, globs, diffs and ``fsck``.

Finished commits read straight from their view; an open commit reads as its parent's view
with its own staged changes on top.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import sqlalchemy as sa

from crowdline.errors import FileNotFound, InvalidInput
from crowdline.store import paths, snapshots
from crowdline.store.blobs import hash_bytes
from crowdline.store.models import FileChange, FileInfo, FsckReport
from crowdline.store.snapshots import Entry, View
from crowdline.store.tables import branches, commits, entries, lineages, repos, staged

if TYPE_CHECKING:
    import contextlib

    from crowdline.store.blobs import BlobStore

Overlay = dict[str, tuple[str, str | None, int | None]]  # key -> (op, hash, size)


class _Target:
    """One commit to read: its row, committed view and (open commits) staged overlay."""

    def __init__(self, row: sa.Row, view: View | None, overlay: Overlay | None) -> None:
        self.row, self.view, self.overlay = row, view, overlay

    @property
    def id(self) -> str:
        return str(self.row.id)


class StoreReading:
    blobs: BlobStore

    if TYPE_CHECKING:
        def _read(self) -> contextlib.AbstractContextManager[sa.Connection]: ...
        def _repo_id(self, conn: sa.Connection, name: str) -> int: ...
        def _resolve_row(self, conn: sa.Connection, repo_id: int, repo: str,
                         ref: str) -> sa.Row: ...
        def _view(self, conn: sa.Connection, row: sa.Row | None) -> View | None: ...

    def _target(self, conn: sa.Connection, repo: str, ref: str) -> _Target:
        row = self._resolve_row(conn, self._repo_id(conn, repo), repo, ref)
        overlay: Overlay | None = None
        if row.state == "open":
            overlay = {key: (op, digest, size) for key, op, digest, size in conn.execute(
                sa.select(staged.c.pkey, staged.c.op, staged.c.hash, staged.c.size)
                .where(staged.c.commit_id == row.id))}
        return _Target(row, self._view(conn, row), overlay)

    def _entry(self, conn: sa.Connection, target: _Target, key: str) -> Entry | None:
        if target.overlay is not None and key in target.overlay:
            op, digest, size = target.overlay[key]
            return Entry(key, digest, size) if op == "put" else None  # type: ignore[arg-type]
        return snapshots.lookup(conn, target.view, key)

    def _under(self, conn: sa.Connection, target: _Target, folder: str) -> list[Entry]:
        """Every file under ``folder`` (open commits merge the overlay; O(subtree))."""
        found = list(snapshots.walk(conn, target.view, folder))
        if not target.overlay:
            return found
        lo, hi = paths.subtree_range(folder)
        merged = {e.key: e for e in found}
        for key, (op, digest, size) in target.overlay.items():
            if lo <= key < hi:
                if op == "put":
                    merged[key] = Entry(key, digest, size)  # type: ignore[arg-type]
                else:
                    merged.pop(key, None)
        return [merged[k] for k in sorted(merged)]

    def _missing(self, repo: str, ref: str, path: str) -> FileNotFound:
        return FileNotFound(f"{repo}@{ref}:{path} does not exist",
                            hint=f"list what is there with `crowdline list file {repo}@{ref}`")

    # -- files ----------------------------------------------------------------------------

    def _file_entry(self, repo: str, ref: str, path: str) -> Entry:
        path = paths.normalize_path(path)
        with self._read() as conn:
            target = self._target(conn, repo, ref)
            entry = self._entry(conn, target, paths.to_key(path))
            if entry is None:
                if self._under(conn, target, path):
                    raise InvalidInput(f"{repo}@{ref}:{path} is a folder, not a file",
                                       hint="use list_files/walk_files or download()")
                raise self._missing(repo, ref, path)
        return entry

    def get_file(self, repo: str, ref: str, path: str) -> bytes:
        """The content of ``path`` at ``ref`` (a branch, ``branch^`` or commit id)."""
        return self.blobs.get(self._file_entry(repo, ref, path).hash)

    def open_file(self, repo: str, ref: str, path: str) -> BinaryIO:
        """A binary reader for ``path`` at ``ref``; close it when done."""
        entry = self._file_entry(repo, ref, path)
        return self.blobs.open(entry.hash) if entry.size else io.BytesIO(b"")

    def download(self, repo: str, ref: str, path: str, dest_dir: str | Path) -> list[Path]:
        """Copy a file or a folder to ``dest_dir``, keeping repo paths under it."""
        files = [f for f in self.walk_files(repo, ref, path)]
        dest = Path(dest_dir)
        written: list[Path] = []
        for info in files:
            target = dest / info.path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(target.name + ".crowdline-tmp")
            with self.blobs.open(info.hash or "") as source, open(tmp, "wb") as sink:
                while chunk := source.read(1 << 20):
                    sink.write(chunk)
            os.replace(tmp, target)
            written.append(target)
        return written

    # -- folders --------------------------------------------------------------------------

    def list_files(self, repo: str, ref: str, path: str = "/") -> list[FileInfo]:
        """Direct children of a folder (dirs have type "dir"); a file path lists itself."""
        path = paths.normalize_path(path, allow_root=True)
        with self._read() as conn:
            target = self._target(conn, repo, ref)
            if path != "/":
                entry = self._entry(conn, target, paths.to_key(path))
                if entry is not None:
                    return [self._info(entry, target.id)]
            prefix = "" if path == "/" else path
            if target.overlay:
                files: list[Entry] = []
                folders: set[str] = set()
                depth = prefix.count("/") + 1
                for entry in self._under(conn, target, path):
                    parts = entry.path.split("/")
                    if len(parts) == depth + 1:
                        files.append(entry)
                    else:
                        folders.add(parts[depth])
            else:
                files = snapshots.direct_files(conn, target.view, path)
                folders = set(snapshots.subfolders(conn, target.view, path))
        out = [self._info(e, target.id) for e in files]
        out += [FileInfo(f"{prefix}/{name}", "dir", 0, None, target.id) for name in folders]
        if not out and path != "/":
            raise self._missing(repo, ref, path)
        return sorted(out, key=lambda f: paths.to_key(f.path))

    def walk_files(self, repo: str, ref: str, path: str = "/") -> Iterator[FileInfo]:
        """Every file under ``path`` (or the file itself), sorted by path."""
        path = paths.normalize_path(path, allow_root=True)
        with self._read() as conn:
            target = self._target(conn, repo, ref)
            single = None if path == "/" else self._entry(conn, target, paths.to_key(path))
            found = [single] if single is not None else self._under(conn, target, path)
        if not found and path != "/":
            raise self._missing(repo, ref, path)
        return iter([self._info(e, target.id) for e in found])

    def glob_files(self, repo: str, ref: str, pattern: str) -> list[FileInfo]:
        """Pachyderm glob over full paths: "/" (the root), "/*", "/**", "/data/*.csv"."""
        regex = paths.glob_regex(pattern)
        folder = paths.glob_literal_prefix(pattern)
        with self._read() as conn:
            target = self._target(conn, repo, ref)
            if folder == paths.normalize_glob(pattern) and folder != "/":
                entry = self._entry(conn, target, paths.to_key(folder))
                if entry is not None:
                    return [self._info(entry, target.id)]
            files = self._under(conn, target, folder)
        out: dict[str, FileInfo] = {}
        if paths.normalize_glob(pattern) == "/":
            return [FileInfo("/", "dir", 0, None, target.id)]  # the whole repo, one datum
        for entry in files:
            path = entry.path
            if regex.fullmatch(path):
                out[path] = self._info(entry, target.id)
            for parent in paths.parent_dirs(path)[1:]:
                if parent not in out and regex.fullmatch(parent):
                    out[parent] = FileInfo(parent, "dir", 0, None, target.id)
        return [out[p] for p in sorted(out, key=paths.to_key)]

    @staticmethod
    def _info(entry: Entry, commit_id: str) -> FileInfo:
        return FileInfo(entry.path, "file", int(entry.size), entry.hash, commit_id)

    # -- diff -----------------------------------------------------------------------------

    def diff(self, repo: str, ref: str, other: str | None = None) -> list[FileChange]:
        """What changed going from ``other`` (default: the parent of ``ref``) to ``ref``."""
        with self._read() as conn:
            new = self._target(conn, repo, ref)
            if other is None:
                if new.overlay is not None:  # open commit: its staged changes vs its parent
                    return self._diff_open(conn, new)
                if new.row.parent is None:
                    return snapshots.compare({}, self._as_map(conn, new))
                old = self._target(conn, repo, new.row.parent)
            else:
                old = self._target(conn, repo, other)
            if new.overlay is None and old.overlay is None:
                fast = self._diff_lineage(conn, old, new)
                if fast is not None:
                    return fast
            return snapshots.compare(self._as_map(conn, old), self._as_map(conn, new))

    def _diff_open(self, conn: sa.Connection, target: _Target) -> list[FileChange]:
        old, new = {}, {}
        for key, (op, digest, size) in (target.overlay or {}).items():
            before = snapshots.lookup(conn, target.view, key)
            if before is not None:
                old[key] = (before.hash, before.size)
            if op == "put":
                new[key] = (digest, size)
        return snapshots.compare(old, new)  # type: ignore[arg-type]

    def _diff_lineage(self, conn: sa.Connection, old: _Target,
                      new: _Target) -> list[FileChange] | None:
        """O(change) diff when both commits sit on one lineage; None otherwise."""
        for lineage_id in {new.row.lineage_id, old.row.lineage_id}:
            base = conn.execute(sa.select(lineages.c.base_commit)
                                .where(lineages.c.id == lineage_id)).scalar_one_or_none()

            def position(row: sa.Row, lineage_id: int = lineage_id,
                         base: str | None = base) -> int | None:
                if row.lineage_id == lineage_id:
                    return int(row.pos)
                return 0 if row.id == base else None

            old_pos, new_pos = position(old.row), position(new.row)
            if old_pos is None or new_pos is None:
                continue
            if old_pos <= new_pos:
                return snapshots.changes_between(conn, lineage_id, old_pos, new_pos)
            backwards = snapshots.changes_between(conn, lineage_id, new_pos, old_pos)
            flip = {"added": "deleted", "deleted": "added", "modified": "modified"}
            return [FileChange(c.path, flip[c.status], c.new_size, c.old_size,  # type: ignore[arg-type]
                               c.new_hash, c.old_hash) for c in backwards]
        return None

    def _as_map(self, conn: sa.Connection, target: _Target) -> dict[str, tuple[str, int]]:
        return {e.key: (e.hash, int(e.size)) for e in self._under(conn, target, "/")}

    # -- integrity ------------------------------------------------------------------------

    def fsck(self) -> FsckReport:
        """Check that every blob a commit references exists and hashes right, and that
        every branch head is a finished commit."""
        problems: list[str] = []
        with self._read() as conn:
            hashes = set(conn.execute(sa.select(entries.c.hash).distinct()).scalars())
            hashes |= set(conn.execute(sa.select(staged.c.hash).where(
                staged.c.hash.is_not(None)).distinct()).scalars())
            bad_heads = conn.execute(
                sa.select(repos.c.name, branches.c.name, branches.c.head)
                .join(repos, repos.c.id == branches.c.repo_id)
                .outerjoin(commits, commits.c.id == branches.c.head)
                .where(branches.c.head.is_not(None),
                       sa.or_(commits.c.id.is_(None), commits.c.state != "finished"))).all()
        for repo, branch, head in bad_heads:
            problems.append(f"branch {repo}@{branch} points at {head}, not a finished commit")
        for digest in sorted(hashes):
            try:
                data = self.blobs.get(digest)
            except FileNotFound:
                problems.append(f"blob {digest} is missing{self._where_used(digest)}")
                continue
            if hash_bytes(data) != digest:
                problems.append(f"blob {digest} is corrupt (content hashes to "
                                f"{hash_bytes(data)}){self._where_used(digest)}")
        return FsckReport(ok=not problems, problems=problems, blobs_checked=len(hashes))

    def _where_used(self, digest: str) -> str:
        with self._read() as conn:
            row = conn.execute(
                sa.select(repos.c.name, entries.c.pkey)
                .join(lineages, lineages.c.id == entries.c.lineage_id)
                .join(repos, repos.c.id == lineages.c.repo_id)
                .where(entries.c.hash == digest).limit(1)).first()
        return "" if row is None else f" (used by {row[0]}:{paths.from_key(row[1])})"
