"""Benchmark: requester-made task suites vs the mixer, issued in process in the same run.

Two pools of equal work, each on a fresh database: the mixer's (N real tasks overlap 3 plus
1 % control tasks, 4 real + 1 golden per suite) and requester-made suites (N / 4 suites of
4 real + 1 golden task, overlap 3: crowd/suites.py). K threads, each with its own engine,
fetch a suite and submit it, S suites each (``bench/crowd_issue.py``'s annotators). The cases
alternate for R rounds, so a busy shared box weighs on both alike. Reports upload rate,
suites/s and p50/p99 of request_assignment and submit_assignment per case and round.

    python bench/suite_issue.py [--tasks N] [--threads K] [--suites S] [--rounds R]
                                [--cases mixer,suites] [--label NAME] [--postgres]

Writes bench/results/suite_issue.json (one entry per label and back-end). ``--cases mixer``
runs on a checkout without requester suites too (a before/after of the mixer's path).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from crowd_issue import LABELS, _phase, _settle  # noqa: E402

from crowdline.crowd import Crowd  # noqa: E402
from crowdline.database import make_engine, upgrade_schema  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "suite_issue.json"
CHUNK = 20_000  # tasks per create call


def _pool(crowd: Crowd) -> str:
    project = crowd.create_project({
        "public_name": "bench", "task_spec": {
            "input_spec": {"headline": {"type": "string"}},
            "output_spec": {"category": {"type": "string", "allowed_values": LABELS}}}})
    return crowd.create_pool({"project_id": project.id, "defaults": {
        "default_overlap_for_new_tasks": 3, "default_overlap_for_new_task_suites": 3},
        "mixer_config": {"real_tasks_count": 4, "golden_tasks_count": 1}}).id


def _golden(i: int) -> dict:
    return {"input_values": {"headline": f"golden {i}"},
            "known_solutions": [{"output_values": {"category": LABELS[i % 2]}}]}


def _upload_mixer(crowd: Crowd, pool_id: str, n_tasks: int) -> None:
    for start in range(0, n_tasks, CHUNK):
        crowd.create_tasks([{"pool_id": pool_id, "input_values": {"headline": f"h {i}"}}
                            for i in range(start, min(n_tasks, start + CHUNK))],
                           report_items=False)
    crowd.create_tasks([{"pool_id": pool_id, **_golden(i)}
                        for i in range(max(10, n_tasks // 100))], report_items=False)


def _upload_suites(crowd: Crowd, pool_id: str, n_tasks: int) -> None:
    per_call = CHUNK // 5
    for start in range(0, n_tasks // 4, per_call):
        crowd.create_task_suites([
            {"pool_id": pool_id, "overlap": 3,
             "tasks": [{"input_values": {"headline": f"h {4 * s + i}"}} for i in range(4)]
             + [_golden(s)]}
            for s in range(start, min(n_tasks // 4, start + per_call))])


def run_case(case: str, url: str, n_tasks: int, threads: int, suites_each: int) -> dict:
    engine = make_engine(url)
    upgrade_schema(engine)
    crowd = Crowd(engine=engine)
    pool_id = _pool(crowd)
    started = time.perf_counter()
    (_upload_mixer if case == "mixer" else _upload_suites)(crowd, pool_id, n_tasks)
    upload = time.perf_counter() - started
    crowd.open_pool(pool_id)
    _settle(engine)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    workers = [crowd.invite_worker(f"bench-{i}")[0].id for i in range(threads)]
    phase = _phase(url, workers, suites_each)
    engine.dispose()
    return {"case": case, "upload_tasks_per_second": round(n_tasks / upload), **phase}


def _database(backend: str, folder: str, server: object | None, name: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{folder}/{name}.db"
    return server.create_database()  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=200_000, help="real tasks per pool")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--suites", type=int, default=50, help="suites per thread per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cases", default="mixer,suites")
    parser.add_argument("--label", default="crowdline")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL, not SQLite")
    args = parser.parse_args()
    cases = [c for c in args.cases.split(",") if c]
    backend = "postgresql" if args.postgres else "sqlite"
    rounds: list[dict] = []
    with tempfile.TemporaryDirectory() as folder, tempfile.TemporaryDirectory() as pg_folder:
        server = None
        if args.postgres:
            from crowdline.testing.postgres import PostgresServer, find_pg_bin

            if find_pg_bin() is None:
                sys.exit("PostgreSQL binaries not installed")
            # a folder of its own: the server's user is given it (not its parents)
            server = PostgresServer(Path(pg_folder)).start()
        try:
            for n in range(args.rounds):
                for case in cases:
                    url = _database(backend, folder, server, f"{case}{n}")
                    rounds.append({"round": n, **run_case(case, url, args.tasks, args.threads,
                                                          args.suites)})
                    print(json.dumps(rounds[-1]), flush=True)
        finally:
            if server is not None:
                server.stop()
    summary = {case: {key: round(statistics.median(r[key] for r in rounds
                                                   if r["case"] == case), 2)
                      for key in ("suites_per_second", "fetch_p50_ms", "fetch_p99_ms",
                                  "submit_p50_ms", "submit_p99_ms",
                                  "upload_tasks_per_second")}
               for case in cases}
    existing = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"runs": []}
    runs = [r for r in existing["runs"]
            if (r["label"], r["backend"]) != (args.label, backend)]
    runs.append({"label": args.label, "backend": backend, "tasks": args.tasks,
                 "threads": args.threads, "suites_per_thread": args.suites,
                 "median_of_rounds": summary, "rounds": rounds,
                 "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                             "load_average_1min": os.getloadavg()[0]}})
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"runs": runs}, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
