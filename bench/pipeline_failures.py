"""Benchmark: what failure isolation and crash hygiene cost and save.

    python bench/pipeline_failures.py [--datums 40]

* ``cmd`` datum time with ``/pfs`` in a private mount namespace vs ``$PFS_ROOT`` only;
* how often a bad file's datum runs over three later jobs: invalid input (carried over) vs an
  ordinary error (retried, Pachyderm's until_success);
* seconds from ``kill -9`` of ``crowdline run`` until its workers and the resource tracker
  are gone.

Writes bench/results/pipeline_failures.json. Times are wall clock on this machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "pipeline_failures.json"
CLI = [sys.executable, "-m", "crowdline.cli.main"]


def bad_input(inputs: dict[str, Path], output: Path) -> None:
    from crowdline.errors import InvalidInput

    for path in next(iter(inputs.values())).iterdir():
        _note(path.name)
        if path.read_text() == "bad":
            raise InvalidInput(f"{path.name} is bad")
        (output / path.name).write_text("ok")


def flaky_error(inputs: dict[str, Path], output: Path) -> None:
    for path in next(iter(inputs.values())).iterdir():
        _note(path.name)
        if path.read_text() == "bad":
            raise RuntimeError(f"{path.name} is bad")
        (output / path.name).write_text("ok")


def slow(inputs: dict[str, Path], output: Path) -> None:
    time.sleep(0.5)


def _note(name: str) -> None:
    with open(os.environ["BENCH_CALLS"], "a") as handle:
        handle.write(name + "\n")


def _workspace(folder: Path):  # type: ignore[no-untyped-def]
    from crowdline.workspace import Workspace

    return Workspace.init(folder)


def _put(ws, files: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    with ws.store.commit("raw", "master") as writer:
        for path, text in files.items():
            writer.put_file(path, text.encode())


def cmd_overhead(tmp: Path, datums: int) -> dict[str, float]:
    from crowdline.pipelines import sandbox

    figures = {}
    for label, mount in (("pfs_namespace", "1"), ("pfs_root_only", "0")):
        os.environ["CROWDLINE_PFS_MOUNT"] = mount
        ws = _workspace(tmp / f"cmd-{label}")
        ws.store.create_repo("raw")
        _put(ws, {f"/f{i:04d}.txt": str(i) for i in range(datums)})
        ws.pipelines.create_pipeline({
            "pipeline": {"name": "copy"}, "input": {"pfs": {"repo": "raw", "glob": "/*"}},
            "transform": {"cmd": ["sh", "-c", 'cp "$PFS_ROOT"/raw/* "$PFS_ROOT"/out/']}})
        began = time.perf_counter()
        report = ws.pipelines.run()
        elapsed = time.perf_counter() - began
        assert report.jobs_succeeded, report
        figures[f"{label}_ms_per_datum"] = round(1000 * elapsed / datums, 1)
        ws.close()
    os.environ.pop("CROWDLINE_PFS_MOUNT", None)
    figures["namespace_available"] = sandbox.pfs_supported()
    return figures


def bad_file_runs(tmp: Path) -> dict[str, int]:
    figures = {}
    for label, transform in (("invalid_input", "bad_input"), ("ordinary_error", "flaky_error")):
        calls = tmp / f"calls-{label}.txt"
        os.environ["BENCH_CALLS"] = str(calls)
        ws = _workspace(tmp / f"bad-{label}")
        ws.store.create_repo("raw")
        ws.pipelines.create_pipeline({
            "pipeline": {"name": "check"}, "input": {"pfs": {"repo": "raw", "glob": "/*"}},
            "transform": {"python": f"pipeline_failures:{transform}"}, "datum_tries": 2})
        _put(ws, {"/bad.txt": "bad", "/a.txt": "a"})
        ws.pipelines.run()
        for i in range(3):  # three later commits of unrelated files
            _put(ws, {f"/later{i}.txt": "fine"})
            ws.pipelines.run()
        figures[f"{label}_runs_of_the_bad_datum_in_4_jobs"] = \
            calls.read_text().split().count("bad.txt")
        ws.close()
    return figures


def _family(pid: int) -> set[int]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
            except OSError:
                continue
            tree.setdefault(parent, []).append(int(entry.name))
    found, frontier = set(), [pid]
    while frontier:
        for child in tree.get(frontier.pop(), []):
            found.add(child)
            frontier.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def kill_cleanup(tmp: Path) -> dict[str, float]:
    ws = _workspace(tmp / "kill")
    ws.store.create_repo("raw")
    ws.pipelines.create_pipeline({
        "pipeline": {"name": "slow"}, "input": {"pfs": {"repo": "raw", "glob": "/*"}},
        "transform": {"python": "pipeline_failures:slow"}})
    _put(ws, {f"/f{i}.txt": "x" for i in range(40)})
    ws.close()
    env = {**os.environ, "CROWDLINE_HOME": str(tmp / "kill"), "PYTHONPATH": str(HERE)}
    runner = subprocess.Popen([*CLI, "run"], env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(_family(runner.pid)) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)
    family = _family(runner.pid)
    os.kill(runner.pid, signal.SIGKILL)
    killed = time.perf_counter()
    runner.wait()
    while any(_alive(pid) for pid in family) and time.perf_counter() - killed < 60:
        time.sleep(0.02)
    gone = time.perf_counter() - killed
    for pid in family:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
    return {"processes_of_the_runner": len(family),
            "seconds_until_all_gone_after_kill_9": round(gone, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datums", type=int, default=40)
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(HERE), os.environ.get("PYTHONPATH")) if p)
    os.environ.setdefault("CROWDLINE_PARALLELISM", "2")
    for key in ("CROWDLINE_HOME", "CROWDLINE_DATABASE_URL", "CROWDLINE_STORAGE_URL"):
        os.environ.pop(key, None)
    with tempfile.TemporaryDirectory(prefix="crowdline-bench-failures-") as folder:
        tmp = Path(folder)
        result = {"datums": args.datums, **cmd_overhead(tmp, args.datums),
                  **bad_file_runs(tmp), **kill_cleanup(tmp)}
    result["machine"] = (f"{platform.machine()}, {os.cpu_count()} CPUs, "
                         f"Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
