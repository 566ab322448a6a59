"""Fixtures for the server tests: workspaces per SQL back-end, a real uvicorn on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from server_helpers import LiveServer, live_server

from crowdline.workspace import Workspace

ENV_KEYS = ("CROWDLINE_HOME", "CROWDLINE_DATABASE_URL", "CROWDLINE_STORAGE_URL",
            "CROWDLINE_EXECUTOR_URL", "CROWDLINE_PUBLIC_URL")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def server_workspace(tmp_path: Path, clean_env: None) -> Iterator[Workspace]:
    """An embedded (SQLite) workspace."""
    ws = Workspace.init(tmp_path / "ws")
    yield ws
    ws.close()


@pytest.fixture
def db_workspace(tmp_path: Path, clean_env: None, database_url: str) -> Iterator[Workspace]:
    """A workspace on each SQL back-end (SQLite and PostgreSQL)."""
    ws = Workspace.init(tmp_path / "ws", database_url=database_url)
    yield ws
    ws.close()


@pytest.fixture
def server(server_workspace: Workspace) -> Iterator[LiveServer]:
    with live_server(server_workspace) as live:
        yield live


@pytest.fixture
def client(server: LiveServer) -> Iterator[httpx.Client]:
    """A client of the live server that keeps cookies, like a browser."""
    with httpx.Client(base_url=server.url, timeout=30, follow_redirects=True) as http:
        yield http
