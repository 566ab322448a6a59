"""Fixtures for the pipeline tests: workers must import pipelines_testkit."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

TESTKIT_DIR = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def testkit_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Worker processes (spawned pool, Dask, subprocess runners) find the test transforms, and
    transforms note their calls in a file the test reads."""
    path = os.pathsep.join(p for p in (str(TESTKIT_DIR), os.environ.get("PYTHONPATH")) if p)
    monkeypatch.setenv("PYTHONPATH", path)
    monkeypatch.syspath_prepend(str(TESTKIT_DIR))
    state = tmp_path / "testkit-state"
    state.mkdir()
    paths = {"calls": tmp_path / "calls.txt", "state": state, "flag": tmp_path / "flag.txt"}
    monkeypatch.setenv("TESTKIT_CALLS", str(paths["calls"]))
    monkeypatch.setenv("TESTKIT_STATE", str(state))
    monkeypatch.setenv("TESTKIT_FLAG", str(paths["flag"]))
    monkeypatch.setenv("CROWDLINE_PARALLELISM", "2")
    return paths

