"""Benchmark: a pipeline with glob "/*" over many small files — full job, incremental job,
and commit -> job start latency (targets: start <= 1 s at 100,000 files; the job for 1 %
new files <= 3 % of the full job's time, as planning reads only the store's diff).

    python bench/pipeline_incremental.py [--files 100000] [--new 1000]

Writes bench/results/pipeline_incremental.json. Times are wall clock on this machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "pipeline_incremental.json"


def copy_datum(inputs: dict[str, Path], output: Path) -> None:
    """The pipeline's transform: copy each input file (the work is trivial on purpose)."""
    (folder,) = inputs.values()
    for path in folder.iterdir():
        (output / path.name).write_bytes(path.read_bytes())


def commit_files(ws, start: int, count: int) -> float:  # type: ignore[no-untyped-def]
    """One commit of ``count`` small files (written locally, then put as a folder)."""
    with tempfile.TemporaryDirectory(prefix="crowdline-pipeline-bench-files-") as tmp:
        for i in range(start, start + count):
            Path(tmp, f"f{i:07d}.txt").write_text(f"row {i}\n")
        began = time.perf_counter()
        with ws.store.commit("raw", "master", message=f"files {start}..{start + count}") as w:
            w.put_local(tmp, "/")
        return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--new", type=int, default=1_000)
    parser.add_argument("--poll", type=float, default=0.2, help="trigger poll interval (s)")
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE),
                                                              os.environ.get("PYTHONPATH")]))
    from crowdline.workspace import Workspace

    load_at_start = round(os.getloadavg()[0], 2)

    tmp = tempfile.mkdtemp(prefix="crowdline-pipeline-bench-")
    try:
        ws = Workspace.init(Path(tmp) / "ws")
        ws.store.create_repo("raw")
        put_seconds = commit_files(ws, 0, args.files)
        ws.pipelines.create_pipeline({
            "pipeline": {"name": "copy"}, "input": {"pfs": {"repo": "raw", "glob": "/*"}},
            "transform": {"python": "pipeline_incremental:copy_datum"}})
        began = time.perf_counter()
        full = ws.pipelines.run()
        full_seconds = time.perf_counter() - began
        assert len(full.jobs_succeeded) == 1, full
        commit_new_seconds = commit_files(ws, args.files, args.new)
        began = time.perf_counter()
        incremental = ws.pipelines.run()
        incremental_seconds = time.perf_counter() - began
        assert incremental.datums_processed == args.new, incremental
        (newest,) = [j for j in ws.pipelines.list_jobs("copy") if j.id in incremental.jobs_created]
        (first,) = [j for j in ws.pipelines.list_jobs("copy") if j.id in full.jobs_created]
        planning_seconds = (newest.started_at - newest.created_at).total_seconds()
        # the jobs' own time (created -> output committed), without the process pool's
        # start and shutdown that each `run()` pays once
        full_job_own = (first.finished_at - first.created_at).total_seconds()
        incremental_job_own = (newest.finished_at - newest.created_at).total_seconds()
        latency = _commit_to_job_start(ws, args.files + args.new, args.poll)
        outputs = sum(1 for _ in ws.store.walk_files("copy", "master"))
        ws.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result = {
        "files": args.files, "new_files": args.new, "glob": "/*",
        "executor": "local process pool", "workers": os.cpu_count(),
        "put_files_seconds": round(put_seconds, 2),
        "full_job_seconds": round(full_seconds, 2),
        "full_datums_per_second": round(args.files / full_seconds, 1),
        "commit_new_files_seconds": round(commit_new_seconds, 2),
        "incremental_job_seconds": round(incremental_seconds, 2),
        "incremental_datums_processed": incremental.datums_processed,
        "incremental_planning_seconds": round(planning_seconds, 3),
        "incremental_fraction_of_full": round(incremental_seconds / full_seconds, 4),
        "full_job_own_seconds": round(full_job_own, 2),
        "incremental_job_own_seconds": round(incremental_job_own, 2),
        "incremental_job_own_fraction_of_full": round(incremental_job_own / full_job_own, 4),
        "target_incremental_fraction_max": 0.03,
        "commit_to_job_start_seconds": round(latency, 3),
        "target_commit_to_job_start_seconds_max": 1.0,
        "trigger_poll_interval_seconds": args.poll,
        "output_files": outputs,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, "
                   f"Python {platform.python_version()}",
        # other work on the machine skews every figure; the 1-minute load average says how much
        "load_average_at_start": load_at_start,
        "load_average_at_end": round(os.getloadavg()[0], 2),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"full job over {args.files} files: {full_seconds:.1f} s; "
          f"incremental job for {args.new} new files: {incremental_seconds:.1f} s "
          f"({100 * incremental_seconds / full_seconds:.1f} % of full); "
          f"commit -> job start: {latency:.2f} s (poll {args.poll} s)")
    print(f"wrote {RESULTS}")


def _commit_to_job_start(ws, index: int, poll: float) -> float:  # type: ignore[no-untyped-def]
    """serve_forever in a thread (as `crowdline serve` runs it); commit one file and wait
    until a job for it has started."""
    stop = threading.Event()
    server = threading.Thread(target=ws.pipelines.serve_forever, args=(stop, poll), daemon=True)
    known = {job.id for job in ws.pipelines.list_jobs("copy")}
    server.start()
    time.sleep(poll * 3)
    commit_files(ws, index, 1)
    committed_at = time.time()  # the commit has finished: it is visible from here on
    started = None
    while started is None:
        for job in ws.pipelines.list_jobs("copy"):
            if job.id not in known and job.started_at is not None:
                started = job.started_at.timestamp()
        time.sleep(0.01)
    stop.set()
    server.join()
    return started - committed_at


if __name__ == "__main__":
    main()
