"""The store's public records: plain frozen dataclasses, safe to pass between parts."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, Literal


@dataclasses.dataclass(frozen=True)
class CommitRef:
    """A pointer to a commit of some repo (used for provenance)."""

    repo: str
    id: str


@dataclasses.dataclass(frozen=True)
class RepoInfo:
    name: str
    description: str
    created_at: dt.datetime
    size_bytes: int  # bytes in the newest finished commit of "master" (or of any branch)
    branches: list[str]


@dataclasses.dataclass(frozen=True)
class BranchInfo:
    repo: str
    name: str
    head: str | None  # commit id; None for a branch with no commit yet


@dataclasses.dataclass(frozen=True)
class CommitInfo:
    id: str
    repo: str
    branch: str
    parent: str | None
    state: Literal["open", "finished"]
    message: str
    author: str | None
    origin: Literal["user", "auto"]
    started_at: dt.datetime
    finished_at: dt.datetime | None
    provenance: list[CommitRef]
    size_bytes: int
    seq: int | None  # global, strictly increasing, set when the commit finishes
    metadata: dict[str, Any]
    commit_set: str | None = None  # the commit set (global id) it belongs to


@dataclasses.dataclass(frozen=True)
class CommitSetInfo:
    """A commit set: its origin commit(s) and everything made from them, in order of seq."""

    id: str
    seq: int  # orders sets: a set with a smaller seq began earlier
    created_at: dt.datetime
    commits: list[CommitInfo]


@dataclasses.dataclass(frozen=True)
class FileInfo:
    path: str
    type: Literal["file", "dir"]
    size: int  # for a dir: 0 (listing stays O(what it returns))
    hash: str | None  # BLAKE3 hex of the content; None for a dir
    commit_id: str


@dataclasses.dataclass(frozen=True)
class FileChange:
    path: str
    status: Literal["added", "modified", "deleted"]
    old_size: int | None
    new_size: int | None
    old_hash: str | None
    new_hash: str | None


@dataclasses.dataclass(frozen=True)
class FsckReport:
    ok: bool
    problems: list[str]
    blobs_checked: int
