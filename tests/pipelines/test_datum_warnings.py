"""A Python transform's warnings.warn reaches the run report and `crowdline run`, and the
datum still succeeds."""

from __future__ import annotations

import os
import subprocess
import sys

from pipelines_helpers import put, spec

from crowdline.workspace import Workspace


def test_warnings_reach_the_report_and_the_cli(workspace: Workspace) -> None:
    workspace.store.create_repo("raw")
    workspace.pipelines.create_pipeline(spec("upper", "raw", "warn_on_empty"))
    put(workspace, "raw", {"/a.txt": "hello", "/b.txt": ""})
    report = workspace.pipelines.run()
    assert [w["message"] for w in report.warnings] == ["b.txt is empty"]
    assert report.warnings[0]["pipeline"] == "upper"
    assert not report.jobs_failed
    put(workspace, "raw", {"/c.txt": ""})
    env = {**os.environ, "CROWDLINE_HOME": str(workspace.settings.home)}
    done = subprocess.run([sys.executable, "-m", "crowdline.cli.main", "run"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "warning: upper" in done.stderr
    assert "c.txt is empty" in done.stderr
