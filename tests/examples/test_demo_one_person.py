"""`crowdline demo --humans --workers 1`: one person can finish the human loop alone.

The demo serves the annotator UI; here the one "person" is a careful simulated annotator
working through the annotator HTTP API with the invite link's token, as a browser would.
"""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from crowdline.crowd.simulate import HttpRunner, SimulatedWorker, WorkerProfile, truth_from_column
from crowdline.testing.ports import free_port, wait_for_port
from crowdline.workspace import Workspace
from crowdline_examples.clickbait import flow

pytestmark = pytest.mark.slow


def _truth() -> dict[str, str]:
    truth: dict[str, str] = {}
    for name, column in (("golden", "label"), ("training", "label"), ("batch_1", "truth")):
        frame = pd.read_csv(flow.DATA_DIR / f"{name}.csv", dtype=str, keep_default_na=False)
        truth.update(zip(frame["headline"], frame[column], strict=True))
    return truth


def _read_until(stream, pattern: re.Pattern[str], deadline: float) -> re.Match[str]:
    seen = []
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            break
        seen.append(line)
        if match := pattern.search(line):
            return match
    raise AssertionError("demo never printed an invite link:\n" + "".join(seen))


def test_one_person_finishes_the_demo(tmp_path: Path) -> None:
    port = free_port()
    home = tmp_path / "demo"
    env = {**os.environ, "COLUMNS": "250"}
    env.pop("CROWDLINE_HOME", None)
    demo = subprocess.Popen(
        [sys.executable, "-m", "crowdline.cli.main", "demo", "--humans", "--workers", "1",
         "--port", str(port), "--home", str(home)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)
    try:
        link = _read_until(demo.stdout, re.compile(r"/join/(\S+)"), time.monotonic() + 300)
        assert wait_for_port(port, timeout=120)
        person = SimulatedWorker(id="1", name="me", token=link[1],
                                 profile=WorkerProfile(kind="good", accuracy=1.0))
        runner = HttpRunner(f"http://127.0.0.1:{port}", [person],
                            truth_from_column(_truth(), "headline"))
        deadline = time.monotonic() + 300
        labeled = pd.DataFrame()
        while time.monotonic() < deadline:
            report = runner.run()
            assert not report.errors, report.errors
            with Workspace.open(home) as ws:
                files = {f.path for f in ws.store.walk_files("dataset", "master")}
                if any("batch_1" in path and path.endswith(".csv") for path in files):
                    path = next(p for p in files if "batch_1" in p and p.endswith(".csv"))
                    labeled = pd.read_csv(io.BytesIO(
                        ws.store.get_file("dataset", "master", path)), dtype=str)
                    break
            time.sleep(1)
        assert len(labeled) == 200
        by_people = labeled[labeled["labeled_by"] == "human"]
        assert len(by_people) > 0  # the uncertain rows, answered by the one person
        assert (by_people["judgments"].astype(int) == 1).all()
    finally:
        os.killpg(demo.pid, signal.SIGINT)
        try:
            demo.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()
