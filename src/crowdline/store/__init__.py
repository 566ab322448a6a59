"""Versioned data: repos, branches, commits, files, diffs and provenance.

See README.md beside this file for the promises this part keeps.
"""

from crowdline.store.models import (
    BranchInfo,
    CommitInfo,
    CommitRef,
    FileChange,
    FileInfo,
    FsckReport,
    RepoInfo,
)
from crowdline.store.store import CommitWriter, Store

__all__ = [
    "BranchInfo",
    "CommitInfo",
    "CommitRef",
    "CommitWriter",
    "FileChange",
    "FileInfo",
    "FsckReport",
    "RepoInfo",
    "Store",
]
