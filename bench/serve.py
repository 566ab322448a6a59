"""Benchmark: the labeling server under K concurrent annotators over HTTP on loopback.

A pool of N real tasks (default 1,000,000, overlap 3) plus 1 % control tasks, 4 real + 1 golden
per suite and a GOLDEN_SET ban rule, served by `crowdline serve` in its own process. K simulated
annotators (default 200, crowdline.crowd.simulate.HttpRunner) fetch a suite and submit it,
without think time, for a fixed window. Reports suites/s, p50/p99 latency of fetch and submit,
and the server process's peak RSS.

    python bench/serve.py [--tasks N] [--annotators K] [--seconds S] [--sqlite]

Runs on PostgreSQL (a throw-away server from crowdline.testing.postgres) when its binaries are
installed, else on SQLite. Writes bench/results/serve.json (one run per configuration).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

from crowdline.crowd.simulate import HttpRunner, invite_simulated_workers, make_profiles
from crowdline.testing.ports import free_port, wait_for_port
from crowdline.testing.postgres import PostgresServer, find_pg_bin
from crowdline.workspace import Workspace

RESULTS = Path(__file__).parent / "results" / "serve.json"
LABELS = ["clickbait", "notclickbait"]
BATCH = 50_000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def truth(input_values: dict) -> str:
    """What a careful annotator would answer: control task i is LABELS[i % 2], like its golden
    answer; real task i is LABELS[i % 2] too."""
    return LABELS[int(input_values["headline"].split()[-1]) % 2]


def build_pool(ws: Workspace, tasks: int) -> tuple[str, float]:
    crowd = ws.crowd
    project = crowd.create_project({
        "public_name": "Is this headline clickbait?", "public_instructions": "Say if it is.",
        "task_spec": {"input_spec": {"headline": {"type": "string"}},
                      "output_spec": {"category": {"type": "string", "allowed_values": LABELS}}}})
    pool = crowd.create_pool({
        "project_id": project.id, "private_name": "bench", "reward_per_assignment": 0.01,
        "assignment_max_duration_seconds": 600,
        "defaults": {"default_overlap_for_new_tasks": 3},
        "mixer_config": {"real_tasks_count": 4, "golden_tasks_count": 1,
                         "training_tasks_count": 0},
        "quality_control": {"configs": [{
            "collector_config": {"type": "GOLDEN_SET", "parameters": {"history_size": 10}},
            "rules": [{"conditions": [
                {"key": "golden_set_correct_answers_rate", "operator": "LT", "value": 40},
                {"key": "golden_set_answers_count", "operator": "GTE", "value": 5}],
                "action": {"type": "RESTRICTION_V2",
                           "parameters": {"scope": "POOL", "duration_unit": "PERMANENT"}}}]}]}})
    started = time.perf_counter()
    golden = max(10, tasks // 100)
    crowd.create_tasks([{"pool_id": pool.id, "input_values": {"headline": f"golden {i}"},
                         "known_solutions": [{"output_values": {"category": LABELS[i % 2]}}]}
                        for i in range(golden)], report_items=False)
    for first in range(0, tasks, BATCH):
        crowd.create_tasks([{"pool_id": pool.id, "input_values": {"headline": f"headline {i}"}}
                            for i in range(first, min(tasks, first + BATCH))],
                           report_items=False)
        print(f"  uploaded {min(tasks, first + BATCH):,} tasks", file=sys.stderr)
    upload = time.perf_counter() - started
    crowd.open_pool(pool.id)
    return pool.id, upload


class RssSampler(threading.Thread):
    """Peak resident memory of a process and its children, sampled every 100 ms."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.peak = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                members = [self.process, *self.process.children(recursive=True)]
                self.peak = max(self.peak, sum(p.memory_info().rss for p in members))
            except psutil.Error:
                return
            self.stop.wait(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--annotators", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0, help="measurement window")
    parser.add_argument("--server-workers", type=int, default=1,
                        help="server processes (crowdline serve --workers)")
    parser.add_argument("--sqlite", action="store_true", help="use SQLite even if PostgreSQL "
                                                              "binaries are installed")
    args = parser.parse_args()

    # SIGTERM unwinds like Ctrl-C, so the servers started here are stopped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    root = Path(tempfile.mkdtemp(prefix="serve-bench-", dir="/var/tmp"))
    postgres = None
    if not args.sqlite and find_pg_bin() is not None:
        # its own folder: the postgres user cannot enter our private temporary folder
        postgres = PostgresServer(Path(tempfile.mkdtemp(prefix="serve-bench-pg-",
                                                        dir="/var/tmp"))).start()
        database_url = postgres.create_database("bench")
    else:
        database_url = f"sqlite:///{root / 'ws' / 'crowdline.db'}"
    backend = "postgresql" if postgres else "sqlite"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROWDLINE_")}
    env.update(CROWDLINE_HOME=str(root / "ws"), CROWDLINE_DATABASE_URL=database_url)
    server = None
    try:
        ws = Workspace.init(root / "ws", database_url=database_url)
        print(f"building a pool of {args.tasks:,} tasks on {backend}", file=sys.stderr)
        pool_id, upload_seconds = build_pool(ws, args.tasks)
        workers = invite_simulated_workers(ws.crowd, make_profiles(args.annotators, seed=3),
                                           seed=3)
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "crowdline.cli.main", "serve", "--port", str(port),
             "--no-pipelines", "--workers", str(args.server_workers)],
            env=env, stdout=subprocess.DEVNULL)
        if not wait_for_port(port, timeout=60):
            raise SystemExit("the server did not start")
        url = f"http://127.0.0.1:{port}"
        for _ in range(120):  # with --server-workers the processes start after the socket
            try:
                httpx.get(f"{url}/healthz", timeout=60).raise_for_status()
                break
            except httpx.TransportError:
                time.sleep(0.5)
        sampler = RssSampler(server.pid)
        sampler.start()
        server_processes = [psutil.Process(server.pid),
                            *psutil.Process(server.pid).children(recursive=True)]
        idle_rss = sum(p.memory_info().rss for p in server_processes)
        print(f"{args.annotators} annotators for {args.seconds:.0f}s against {url}",
              file=sys.stderr)
        load_at_start = os.getloadavg()[0]
        report = HttpRunner(url, workers, truth, timeout=120).run(
            pool_id, deadline_seconds=args.seconds)
        sampler.stop.set()
        sampler.join()
        bans = len(ws.crowd.list_restrictions(pool_id=pool_id))
        result = {
            "benchmark": "annotator HTTP API under concurrent simulated annotators",
            "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                        # other work on the box slows every figure here
                        "load_average_1m_at_start": round(load_at_start, 1),
                        "load_average_1m_at_end": round(os.getloadavg()[0], 1)},
            "backend": backend, "tasks": args.tasks, "annotators": args.annotators,
            "server": f"crowdline serve --workers {args.server_workers} (uvicorn)",
            "upload_seconds": round(upload_seconds, 1),
            "upload_tasks_per_second": round(args.tasks / upload_seconds),
            "window_seconds": round(report.elapsed_seconds, 1),
            "suites": report.suites, "answers": report.answers, "skipped": report.skipped,
            "errors": len(report.errors), "first_errors": report.errors[:3],
            "suites_per_second": round(report.suites / report.elapsed_seconds, 1),
            "fetch_p50_ms": round(1000 * statistics.median(report.fetch_seconds), 1),
            "fetch_p99_ms": round(1000 * percentile(report.fetch_seconds, 0.99), 1),
            "submit_p50_ms": round(1000 * statistics.median(report.submit_seconds), 1),
            "submit_p99_ms": round(1000 * percentile(report.submit_seconds, 0.99), 1),
            "server_idle_rss_mb": round(idle_rss / 2**20, 1),
            "server_peak_rss_mb": round(sampler.peak / 2**20, 1),
            "bans": bans,
        }
        ws.close()
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if postgres is not None:
            postgres.stop()
            shutil.rmtree(postgres.root, ignore_errors=True)
        shutil.rmtree(root, ignore_errors=True)
    save(result)
    print(json.dumps(result, indent=2))


def save(result: dict) -> None:
    """Keep one run per configuration (back-end, tasks, annotators, server processes)."""
    def config(run: dict) -> tuple:
        return run["backend"], run["tasks"], run["annotators"], run["server"]

    runs = []
    if RESULTS.exists():
        runs = [run for run in json.loads(RESULTS.read_text()).get("runs", [])
                if config(run) != config(result)]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"runs": [*runs, result]}, indent=2) + "\n")


if __name__ == "__main__":
    main()
