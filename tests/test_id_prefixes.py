"""Ids as printed in tables can be pasted back: unique prefixes work, ambiguous ones say so."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from crowdline.database.ids import expand_prefix
from crowdline.errors import AmbiguousId, BranchNotFound
from crowdline.workspace import Workspace

CLI = [sys.executable, "-m", "crowdline.cli.main"]


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CROWDLINE_HOME": str(home)}
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=120)


def test_commit_prefix_from_the_cli(workspace: Workspace) -> None:
    workspace.store.create_repo("raw")
    for text in ("one", "two"):
        with workspace.store.commit("raw", "master") as writer:
            writer.put_file("/a.txt", text.encode())
    first, second = [c.id for c in workspace.store.list_commits("raw")][::-1]
    home = workspace.settings.home
    got = _cli(home, "get", "file", f"raw@{first[:8]}:/a.txt")
    assert got.returncode == 0, got.stderr
    assert got.stdout == "one"
    shown = _cli(home, "inspect", "commit", f"raw@{second[:6]}", "--output", "json")
    assert shown.returncode == 0, shown.stderr
    assert second in shown.stdout
    missing = _cli(home, "get", "file", "raw@ffff0000:/a.txt")
    assert missing.returncode != 0
    assert "ffff0000" in missing.stderr


def test_unknown_prefix_is_a_branch_error(workspace: Workspace) -> None:
    workspace.store.create_repo("raw")
    with workspace.store.commit("raw", "master") as writer:
        writer.put_file("/a.txt", b"x")
    with pytest.raises(BranchNotFound):
        workspace.store.get_file("raw", "beef", "/a.txt")


def test_ambiguous_prefix_lists_the_candidates() -> None:
    engine = sa.create_engine("sqlite://")
    meta = sa.MetaData()
    table = sa.Table("things", meta, sa.Column("id", sa.String, primary_key=True))
    meta.create_all(engine)
    with engine.begin() as conn:
        conn.execute(table.insert(), [{"id": "abcd0001"}, {"id": "abcd0002"}, {"id": "ef01"}])
        with pytest.raises(AmbiguousId, match="abcd0001, abcd0002"):
            expand_prefix(conn, table.c.id, "abcd", what="job")
        assert expand_prefix(conn, table.c.id, "abcd0002", what="job") == "abcd0002"
        assert expand_prefix(conn, table.c.id, "ef01", what="job") == "ef01"
        assert expand_prefix(conn, table.c.id, "abc", what="job") is None  # too short
        assert expand_prefix(conn, table.c.id, "ab%d", what="job") is None  # not hex
