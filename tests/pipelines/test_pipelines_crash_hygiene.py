"""Nothing outlives a crash, nothing is written outside the workspace, files can be deleted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pipelines_helpers import contents, put, spec
from typer.testing import CliRunner

from crowdline.cli.main import app
from crowdline.errors import InvalidInput
from crowdline.pipelines.sandbox import pfs_supported
from crowdline.workspace import Workspace

CLI = [sys.executable, "-m", "crowdline.cli.main"]


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rpartition(")")[2].split()[1])
        tree.setdefault(parent, []).append(int(entry.name))
    return tree


def descendants(pid: int) -> set[int]:
    tree, found, frontier = _children(), set(), [pid]
    while frontier:
        for child in tree.get(frontier.pop(), []):
            if child not in found:
                found.add(child)
                frontier.append(child)
    return found


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
def test_no_process_of_a_kill_9d_runner_is_alive_a_few_seconds_later(
        workspace: Workspace, testkit_env: dict[str, Path]) -> None:
    ws = workspace
    ws.store.create_repo("raw")
    ws.pipelines.create_pipeline(spec("slow", "raw", "slow_copy"))
    files = {f"/f{i:02d}.txt": f"content {i}" for i in range(30)}
    put(ws, "raw", files)
    env = {**os.environ, "CROWDLINE_HOME": str(ws.settings.home), "TESTKIT_DELAY": "0.3"}
    runner = subprocess.Popen([*CLI, "run"], env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    family: set[int] = set()
    try:
        deadline = time.monotonic() + 90
        # workers (2) and the resource tracker are up once a datum has been noted
        while not (testkit_env["calls"].exists() and len(descendants(runner.pid)) >= 3):
            assert runner.poll() is None, "the runner finished before it could be killed"
            assert time.monotonic() < deadline, "the runner's workers never started"
            time.sleep(0.05)
        family = descendants(runner.pid)
        os.kill(runner.pid, signal.SIGKILL)  # the runner only, as `kill -9 PID` does
        runner.wait()
        # the watchdog notices within a second; the margin is for a heavily loaded CI box
        deadline = time.monotonic() + 30
        while any(running(pid) for pid in family) and time.monotonic() < deadline:
            time.sleep(0.1)
        survivors = [pid for pid in family if running(pid)]
        assert not survivors, f"still alive after the runner was killed: {survivors}"
    finally:
        for pid in family:  # never leave them behind, even when the test fails
            if running(pid):
                os.kill(pid, signal.SIGKILL)
    leftovers = [p for p in Path(os.environ.get("TMPDIR", "/tmp")).glob("crowdline-batch-*-*")
                 if p.name.split("-")[2] in {str(pid) for pid in family}]
    done = subprocess.run([*CLI, "run"], env=env, capture_output=True, text=True, timeout=180,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert contents(ws, "slow") == files
    assert ws.store.list_open_commits("slow") == []
    assert not [p for p in leftovers if p.exists()], "scratch folders of killed workers remain"


@pytest.mark.slow
def test_no_process_of_a_kill_9d_demo_is_alive_a_few_seconds_later(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    env = {**os.environ, "CROWDLINE_HOME": str(home)}
    for key in ("CROWDLINE_DATABASE_URL", "CROWDLINE_STORAGE_URL", "CROWDLINE_EXECUTOR_URL"):
        env.pop(key, None)
    demo = subprocess.Popen([*CLI, "demo", "--home", str(home)], env=env,
                            start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    family: set[int] = set()
    try:
        deadline = time.monotonic() + 120
        # a pool worker (started on demand: one-datum jobs need one) and the resource tracker
        while len(descendants(demo.pid)) < 2:
            assert demo.poll() is None, "the demo finished before it could be killed"
            assert time.monotonic() < deadline, "the demo's workers never started"
            time.sleep(0.05)
        family = descendants(demo.pid)
        os.kill(demo.pid, signal.SIGKILL)
        demo.wait()
        deadline = time.monotonic() + 10
        while any(running(pid) for pid in family) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in family if running(pid)]
    finally:
        for pid in family:
            if running(pid):
                os.kill(pid, signal.SIGKILL)


def test_next_job_aborts_an_open_output_commit_left_by_a_dead_job(
        workspace: Workspace) -> None:
    ws = workspace
    ws.store.create_repo("raw")
    ws.pipelines.create_pipeline(spec("upper", "raw", "upper"))
    put(ws, "raw", {"/a.txt": "a"})
    (first,) = ws.pipelines.run().jobs_succeeded
    # what a runner killed half-way through writing an output commit leaves behind
    left = ws.store.start_commit("upper", "master", origin="auto",
                                 metadata={"job_id": first, "pipeline": "upper"})
    ws.store.put_file("upper", left.id, "/half.txt", b"half")
    assert [c.id for c in ws.store.list_open_commits("upper")] == [left.id]
    put(ws, "raw", {"/b.txt": "b"})
    assert len(ws.pipelines.run().jobs_succeeded) == 1
    assert ws.store.list_open_commits("upper") == []
    assert contents(ws, "upper") == {"/a.txt.up": "A", "/b.txt.up": "B"}


def test_cmd_transforms_leave_no_pfs_on_the_host(workspace: Workspace) -> None:
    ws = workspace
    before = sorted(os.listdir("/pfs")) if os.path.lexists("/pfs") else None
    mounts_before = Path("/proc/self/mounts").read_text()
    ws.store.create_repo("raw")
    put(ws, "raw", {"/a.txt": "alpha", "/b.txt": "beta"})
    script = ('if [ -d /pfs/raw ]; then cat /pfs/raw/*.txt > /pfs/out/$(ls /pfs/raw); '
              'else cat "$PFS_ROOT"/raw/*.txt > "$PFS_ROOT/out/$(ls "$PFS_ROOT/raw")"; fi')
    ws.pipelines.create_pipeline({"pipeline": {"name": "shell"},
                                  "input": {"pfs": {"repo": "raw", "glob": "/*"}},
                                  "transform": {"cmd": ["sh", "-c", script]}})
    report = ws.pipelines.run()
    assert report.jobs_succeeded, report
    assert contents(ws, "shell") == {"/a.txt": "alpha", "/b.txt": "beta"}
    after = sorted(os.listdir("/pfs")) if os.path.lexists("/pfs") else None
    assert after == before, "a cmd transform changed /pfs on the host"
    assert Path("/proc/self/mounts").read_text() == mounts_before


@pytest.mark.skipif(not pfs_supported(), reason="no private mount namespaces here")
def test_pachyderm_commands_read_and_write_pfs_inside_their_namespace(
        workspace: Workspace) -> None:
    ws = workspace
    ws.store.create_repo("raw")
    put(ws, "raw", {"/a.txt": "alpha"})
    ws.pipelines.create_pipeline({"pipeline": {"name": "copy"},
                                  "input": {"pfs": {"repo": "raw", "glob": "/*"}},
                                  "transform": {"cmd": ["sh"], "stdin": [
                                      "cp /pfs/raw/a.txt /pfs/out/copied.txt",
                                      "test -d /pfs/out && pwd > /pfs/out/cwd.txt"]}})
    assert ws.pipelines.run().jobs_succeeded
    out = contents(ws, "copy")
    assert out["/copied.txt"] == "alpha"
    assert out["/cwd.txt"].strip().endswith("/pfs")  # cwd is the datum root, as before
    assert not os.path.lexists("/pfs") or not os.path.exists("/pfs/out/copied.txt")


def test_wait_for_is_not_swallowed_by_except_exception(
        workspace: Workspace, testkit_env: dict[str, Path]) -> None:
    ws = workspace
    ws.store.create_repo("raw")
    put(ws, "raw", {"/a.txt": "a"})
    ws.pipelines.create_pipeline({"pipeline": {"name": "greedy"},
                                  "input": {"pfs": {"repo": "raw", "glob": "/*"}},
                                  "transform": {"python": "failure_testkit:swallow_everything"}})
    report = ws.pipelines.run()
    assert report.waiting == {"failure_testkit:never": 1}
    (job,) = ws.pipelines.list_jobs("greedy")
    assert [d.state for d in ws.pipelines.list_datums(job.id)] == ["waiting"]


def _cli(home: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"CROWDLINE_HOME": str(home)})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        return getattr(result.exception, "exit_code", 1), str(result.exception)
    return result.exit_code, result.output


def test_delete_file_from_the_cli_propagates_to_outputs(workspace: Workspace) -> None:
    ws = workspace
    home = Path(ws.settings.home)
    ws.store.create_repo("raw")
    put(ws, "raw", {"/a.txt": "a", "/b.txt": "b", "/dir/c.txt": "c", "/dir/d.txt": "d"})
    ws.pipelines.create_pipeline(spec("upper", "raw", "upper", glob="/**"))
    ws.pipelines.run()
    assert set(contents(ws, "upper")) == {"/a.txt.up", "/b.txt.up", "/dir/c.txt.up",
                                          "/dir/d.txt.up"}
    head = ws.store.resolve("raw", "master")
    code, text = _cli(home, "delete", "file", "raw@master:/dir")
    assert code == InvalidInput.exit_code  # a folder needs -r
    assert "-r" in text
    assert ws.store.resolve("raw", "master") == head  # nothing changed
    code, text = _cli(home, "delete", "file", "raw@master:/nope.txt")
    assert code != 0
    assert ws.store.resolve("raw", "master") == head
    code, text = _cli(home, "delete", "file", "raw@master:/a.txt")
    assert code == 0, text
    code, text = _cli(home, "delete", "file", "raw@master:/dir", "-r")
    assert code == 0, text
    assert "2 file(s)" in text
    assert set(contents(ws, "raw")) == {"/b.txt"}
    ws.pipelines.run()
    assert contents(ws, "upper") == {"/b.txt.up": "B"}
