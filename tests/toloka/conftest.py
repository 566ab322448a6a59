"""A real uvicorn server on loopback serving the Toloka-compatible API, and toloka-kit clients."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from crowdline.crowd.toloka_backend import import_toloka
from crowdline.server import create_app
from crowdline.testing.ports import free_port, wait_for_port
from crowdline.workspace import Workspace


@dataclass
class TolokaServer:
    url: str
    token: str
    workspace: Workspace

    def client(self, token: str | None = None) -> Any:
        toloka = import_toloka()
        return toloka.TolokaClient(token or self.token, url=self.url, retries=1, timeout=30.0)


@pytest.fixture
def toloka_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                  database_url: str) -> Iterator[TolokaServer]:
    """The server on a fresh workspace, once on SQLite and once on PostgreSQL."""
    for key in ("CROWDLINE_HOME", "CROWDLINE_DATABASE_URL", "CROWDLINE_STORAGE_URL"):
        monkeypatch.delenv(key, raising=False)
    workspace = Workspace.init(tmp_path / "ws", database_url=database_url)
    token = workspace.crowd.create_requester_token("toloka-test")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(workspace), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, name="uvicorn-toloka", daemon=True)
    thread.start()
    try:
        assert wait_for_port(port), "uvicorn did not start"
        yield TolokaServer(url=f"http://127.0.0.1:{port}", token=token, workspace=workspace)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        workspace.close()
