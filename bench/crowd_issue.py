"""Benchmark: task issuing in process (no HTTP) on a big pool — does a request stay O(1)?

A pool of N real tasks (default 1,000,000, overlap 3) plus 1 % control tasks, 4 real + 1 golden
per suite. K threads (default 8), each with its own engine, act as annotators who fetch a suite
and submit it, for a fixed number of suites each. Reports task upload rate, suites/s and
p50/p99 latency of request_assignment and submit_assignment, first at the start of the pool
and again after the first half of the pool is used up (the issuing index must skip the full
tasks without scanning them). On PostgreSQL the tables are vacuumed and analysed after each
bulk change, as autovacuum would within a minute.

    python bench/crowd_issue.py [--tasks N] [--threads K] [--suites S] [--postgres]

Writes bench/results/crowd_issue.json (one entry per back-end run).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import sqlalchemy as sa

from crowdline.crowd import Crowd
from crowdline.database import make_engine, upgrade_schema

RESULTS = Path(__file__).parent / "results" / "crowd_issue.json"
LABELS = ["clickbait", "notclickbait"]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _phase(url: str, workers: list[str], suites_each: int) -> dict[str, float]:
    fetch: list[float] = []
    submit: list[float] = []
    lock = threading.Lock()

    def annotate(worker_id: str) -> None:
        engine = make_engine(url)
        crowd = Crowd(engine=engine)
        mine_fetch, mine_submit = [], []
        try:
            for _ in range(suites_each):
                started = time.perf_counter()
                suite = crowd.request_assignment(worker_id)
                mine_fetch.append(time.perf_counter() - started)
                if suite is None:
                    return
                started = time.perf_counter()
                crowd.submit_assignment(worker_id, suite.id, [
                    {"output_values": {"category": LABELS[0]}}] * len(suite.tasks))
                mine_submit.append(time.perf_counter() - started)
        finally:
            engine.dispose()
            with lock:
                fetch.extend(mine_fetch)
                submit.extend(mine_submit)

    started = time.perf_counter()
    threads = [threading.Thread(target=annotate, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {"suites": len(submit), "seconds": round(elapsed, 3),
            "suites_per_second": round(len(submit) / elapsed, 1),
            "fetch_p50_ms": round(1000 * statistics.median(fetch), 2),
            "fetch_p99_ms": round(1000 * _percentile(fetch, 0.99), 2),
            "submit_p50_ms": round(1000 * statistics.median(submit), 2),
            "submit_p99_ms": round(1000 * _percentile(submit, 0.99), 2)}


def _settle(engine: sa.Engine) -> None:
    """What autovacuum does a minute after a bulk change on PostgreSQL (fresh statistics, dead
    index entries gone), done now so the phases measure the steady state."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE crowd_tasks")


def run(url: str, backend: str, n_tasks: int, threads: int, suites_each: int) -> dict:
    engine = make_engine(url)
    upgrade_schema(engine)
    crowd = Crowd(engine=engine)
    project = crowd.create_project({
        "public_name": "bench", "task_spec": {
            "input_spec": {"headline": {"type": "string"}},
            "output_spec": {"category": {"type": "string", "allowed_values": LABELS}}}})
    pool = crowd.create_pool({"project_id": project.id, "defaults": {
        "default_overlap_for_new_tasks": 3},
        "mixer_config": {"real_tasks_count": 4, "golden_tasks_count": 1}})
    started = time.perf_counter()
    chunk = 100_000
    for start in range(0, n_tasks, chunk):
        crowd.create_tasks([{"pool_id": pool.id, "input_values": {"headline": f"headline {i}"}}
                            for i in range(start, min(n_tasks, start + chunk))],
                           report_items=False)
    crowd.create_tasks([{"pool_id": pool.id, "input_values": {"headline": f"golden {i}"},
                         "known_solutions": [{"output_values": {"category": LABELS[i % 2]}}]}
                        for i in range(max(10, n_tasks // 100))], report_items=False)
    upload = time.perf_counter() - started
    crowd.open_pool(pool.id)
    _settle(engine)
    workers = [crowd.invite_worker(f"bench-{i}")[0].id for i in range(threads)]
    fresh = _phase(url, workers, suites_each)
    # use up the first half of the pool, as if it had been labeled already
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE crowd_tasks SET issued = overlap, available = :f "
                             "WHERE pool_id = :p AND kind = 'REAL' AND id <= "
                             "(SELECT min(id) FROM crowd_tasks WHERE pool_id = :p) + :half"),
                     {"f": False, "p": int(pool.id), "half": n_tasks // 2})
    _settle(engine)
    half_used = _phase(url, workers, suites_each)
    engine.dispose()
    return {"backend": backend, "tasks": n_tasks, "threads": threads,
            "upload_seconds": round(upload, 1),
            "upload_tasks_per_second": round(n_tasks / upload),
            "fresh_pool": fresh, "half_used_pool": half_used}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--suites", type=int, default=50, help="suites per thread per phase")
    parser.add_argument("--postgres", action="store_true", help="also on a local PostgreSQL")
    args = parser.parse_args()
    runs = []
    with tempfile.TemporaryDirectory() as folder:
        runs.append(run(f"sqlite:///{folder}/bench.db", "sqlite", args.tasks, args.threads,
                        args.suites))
        print(json.dumps(runs[-1], indent=2), flush=True)
    if args.postgres:
        from crowdline.testing.postgres import PostgresServer, find_pg_bin

        if find_pg_bin() is None:
            sys.exit("PostgreSQL binaries not installed")
        with tempfile.TemporaryDirectory() as folder:
            server = PostgresServer(Path(folder)).start()
            try:
                runs.append(run(server.create_database(), "postgresql", args.tasks,
                                args.threads, args.suites))
                print(json.dumps(runs[-1], indent=2), flush=True)
            finally:
                server.stop()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"machine": {"python": platform.python_version(),
                                               "cpus": os.cpu_count(),
                                               "load_average_1min": os.getloadavg()[0]},
                                   "runs": runs}, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
