"""How long the dashboard's figures take on a pool of realistic size.

    .venv/bin/python bench/dashboard.py [--tasks 5000] [--overlap 3] [--suite 10]

A throw-away SQLite workspace (system temp dir), one pool of ``--tasks`` real tasks and 1 %
control tasks, annotators labeling it to full overlap through the facade; then each figure
the dashboard draws is timed (median of 5) — in process and, for the pages, over HTTP on a
loopback uvicorn. Writes bench/results/dashboard.json.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from crowdline.server import create_app
from crowdline.testing.ports import free_port, wait_for_port
from crowdline.workspace import Workspace

LABELS = ["clickbait", "notclickbait"]
RESULTS = Path(__file__).resolve().parent / "results" / "dashboard.json"


def timed(work: Callable[[], Any], repeat: int = 5) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        samples.append(time.perf_counter() - start)
    return round(statistics.median(samples) * 1000, 1)


def build(ws: Workspace, tasks: int, overlap: int, suite: int) -> tuple[str, str, float]:
    crowd = ws.crowd
    project = crowd.create_project({
        "public_name": "bench", "public_instructions": "label it",
        "task_spec": {"input_spec": {"headline": {"type": "string", "required": True}},
                      "output_spec": {"category": {"type": "string", "allowed_values": LABELS}},
                      "view_spec": {"type": "classification"}}})
    pool = crowd.create_pool({
        "project_id": project.id, "private_name": "bench", "assignment_max_duration_seconds": 600,
        "defaults": {"default_overlap_for_new_tasks": overlap,
                     "default_overlap_for_new_task_suites": overlap},
        "mixer_config": {"real_tasks_count": suite, "golden_tasks_count": 0,
                         "training_tasks_count": 0}})
    items = [{"pool_id": pool.id, "input_values": {"headline": f"headline {i}"}}
             for i in range(tasks)]
    items += [{"pool_id": pool.id, "input_values": {"headline": f"golden {i}"},
               "known_solutions": [{"output_values": {"category": LABELS[i % 2]}}]}
              for i in range(max(1, tasks // 100))]
    crowd.create_tasks(items, open_pool=True, report_items=False)
    rng = random.Random(0)
    workers = [crowd.invite_worker(f"annotator {i}")[0] for i in range(overlap * 4)]
    start = time.perf_counter()
    answers = 0
    for worker in workers:
        while True:
            got = crowd.request_assignment(worker.id, pool.id)
            if got is None:
                break
            crowd.submit_assignment(worker.id, got.id, [
                {"output_values": {"category": rng.choice(LABELS)}} for _ in got.tasks])
            answers += len(got.tasks)
            if answers >= tasks * overlap * 1.2:
                break
    fill_seconds = time.perf_counter() - start
    return pool.id, workers[0].id, fill_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=5000)
    parser.add_argument("--overlap", type=int, default=3)
    parser.add_argument("--suite", type=int, default=10)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="crowdline-uxweb-bench-"))
    try:
        ws = Workspace.init(folder / "ws")
        pool_id, worker_id, fill = build(ws, args.tasks, args.overlap, args.suite)
        crowd = ws.crowd
        progress = crowd.pool_progress(pool_id)
        figures: dict[str, Any] = {
            "pool_progress_ms": timed(lambda: crowd.pool_progress(pool_id)),
            "pool_stats_ms": timed(lambda: crowd.pool_stats(pool_id)),
            "pool_timeline_ms": timed(lambda: crowd.pool_timeline(pool_id)),
            "pool_agreement_ms": timed(lambda: crowd.pool_agreement(pool_id)),
            "browse_tasks_page_ms": timed(lambda: crowd.browse_tasks(pool_id, limit=50)),
            "browse_tasks_search_ms": timed(lambda: crowd.browse_tasks(
                pool_id, q="headline 42", status="disagreement")),
            "worker_record_ms": timed(lambda: crowd.worker_record(worker_id)),
        }
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(create_app(ws), host="127.0.0.1", port=port,
                                               log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        try:
            assert wait_for_port(port)
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120,
                              follow_redirects=True) as http:
                form = http.get("/dashboard/signin").text  # the CSRF token of this client
                http.headers["X-CSRF-Token"] = re.search(
                    r'name="csrf_token" value="([^"]+)"', form).group(1)
                http.post("/dashboard/signin",
                          data={"token": crowd.create_requester_token("bench")}
                          ).raise_for_status()
                for name, path in (("http_progress_json_ms", f"/dashboard/pools/{pool_id}/"
                                                             "progress.json"),
                                   ("http_pool_page_ms", f"/dashboard/pools/{pool_id}"),
                                   ("http_tasks_page_ms", f"/dashboard/pools/{pool_id}/tasks"),
                                   ("http_pools_list_ms", "/dashboard")):
                    figures[name] = timed(lambda path=path: http.get(path).raise_for_status())
        finally:
            server.should_exit = True
            thread.join(timeout=15)
        ws.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    result = {"backend": "sqlite", "tasks": args.tasks, "overlap": args.overlap,
              "answers": progress["answers_total"], "fill_seconds": round(fill, 1),
              "median_of": 5, **figures}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
