"""Versioned data: repos, branches, commits, files, diffs and provenance.

See README.md beside this file for the promises this part keeps.
"""

from typing import TYPE_CHECKING, Any

from crowdline.store.models import (
    BranchInfo,
    CommitInfo,
    CommitRef,
    CommitSetInfo,
    FileChange,
    FileInfo,
    FsckReport,
    RepoInfo,
)

if TYPE_CHECKING:
    from crowdline.store.store import CommitWriter, Store

__all__ = [
    "BranchInfo",
    "CommitInfo",
    "CommitRef",
    "CommitSetInfo",
    "CommitWriter",
    "FileChange",
    "FileInfo",
    "FsckReport",
    "RepoInfo",
    "Store",
]


def __getattr__(name: str) -> Any:
    # The facade pulls in SQLAlchemy; the CLI's quick listings (catalog.py) need only models.
    if name in ("Store", "CommitWriter"):
        from crowdline.store import store

        return getattr(store, name)
    raise AttributeError(f"module 'crowdline.store' has no attribute {name!r}")
