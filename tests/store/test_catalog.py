"""The CLI's quick repo listing (stdlib sqlite3) answers exactly what the SDK answers."""

from __future__ import annotations

import os
import subprocess
import sys

import sqlalchemy as sa

from crowdline.store.catalog import list_repos, sqlite_file
from crowdline.workspace import Workspace


def test_quick_listing_equals_the_sdk(workspace: Workspace) -> None:
    store = workspace.store
    store.create_repo("raw", "raw files")
    store.create_repo("empty")
    with store.commit("raw", "master") as writer:
        writer.put_file("/a.txt", b"hello")
    store.create_branch("raw", "dev", head="master")
    with store.commit("raw", "dev") as writer:
        writer.put_file("/b.txt", b"more bytes")
    assert list_repos(workspace.settings) == store.list_repos()


def test_falls_back_when_it_cannot_answer(workspace: Workspace) -> None:
    assert sqlite_file("postgresql://user@host/db") is None
    assert sqlite_file("sqlite:///:memory:") is None
    with workspace.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO alembic_version VALUES ('0ld0ld0ld0ld')"))
    assert list_repos(workspace.settings) is None  # the SDK will upgrade the schema


def test_repo_list_needs_no_sqlalchemy(workspace: Workspace) -> None:
    workspace.store.create_repo("raw")
    code = ("import sys; sys.argv = ['crowdline', 'repo', 'list', '-o', 'json']\n"
            "from crowdline.cli.main import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print('sqlalchemy' in sys.modules, 'alembic' in sys.modules, file=sys.stderr)")
    env = {**os.environ, "CROWDLINE_HOME": str(workspace.settings.home)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=120)
    assert '"name": "raw"' in done.stdout, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "False False"
