"""Shared fixtures: real back-ends on loopback, started once per test session."""

from __future__ import annotations

import os
import random
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from crowdline.testing.postgres import PostgresServer, find_pg_bin
from crowdline.workspace import Workspace

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _repeatable_global_random(request: pytest.FixtureRequest) -> None:
    """Seed the global ``random`` per test. The crowd's issuing draws from it (which control
    tasks a suite gets, the order of a suite's tasks), and simulated annotators answer in the
    order they are shown: unseeded, a test's outcome would change from run to run and with
    the tests that ran before it. CROWDLINE_TEST_RANDOM_SEED picks other draws, to check that
    an assertion holds for more than one of them."""
    random.seed(f"{os.environ.get('CROWDLINE_TEST_RANDOM_SEED', '')}:{request.node.nodeid}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    if find_pg_bin() is None:
        pytest.skip("PostgreSQL binaries not installed (make test installs Debian's postgresql)")
    root = Path(tempfile.mkdtemp(prefix="crowdline-pg-"))
    server = PostgresServer(root).start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database on each SQL back-end."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'crowdline.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database()


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    """A fresh embedded workspace (SQLite + local folder) in a temporary folder."""
    for key in ("CROWDLINE_HOME", "CROWDLINE_DATABASE_URL", "CROWDLINE_STORAGE_URL",
                "CROWDLINE_EXECUTOR_URL"):
        monkeypatch.delenv(key, raising=False)
    ws = Workspace.init(tmp_path / "ws")
    yield ws
    ws.close()


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip(f"shared data sets not found at {SHARED_DATA}")
    return SHARED_DATA
