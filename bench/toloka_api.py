"""Benchmark: the Toloka-compatible API driven by the real toloka-kit client over loopback.

A crowdline server (uvicorn, one process, SQLite) gets a pool of N tasks through
``create_tasks`` (async mode), a simulated crowd answers every task once (suites of 10,
through the crowd facade), and the client then pages the tasks and assignments, downloads the
assignments TSV and runs a DAWID_SKENE aggregation on the server. Each step is timed.

    python bench/toloka_api.py [--tasks 2000] [--page-pool-tasks 1000000]

Then the cost of one search page: ``find_tasks`` / ``find_assignments`` pages (50 items, the
first page and one deep inside, as toloka-kit pages with ``id_gt``) in a pool of 100 tasks and
in a pool of ``--page-pool-tasks`` (1,000,000) tasks; median of 15 requests each.

Writes bench/results/toloka_api.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn

from crowdline.crowd.toloka_backend import import_toloka
from crowdline.server import create_app
from crowdline.testing.ports import free_port, wait_for_port
from crowdline.workspace import Workspace

RESULTS = Path(__file__).resolve().parent / "results" / "toloka_api.json"


def serve(workspace: Workspace) -> tuple[str, uvicorn.Server, threading.Thread]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(workspace), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    if not wait_for_port(port):
        raise RuntimeError("uvicorn did not start")
    return f"http://127.0.0.1:{port}", server, thread


def timed(figures: dict[str, Any], name: str, count: int, fn: Any) -> Any:
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    figures[name] = {"seconds": round(seconds, 3), "items": count,
                     "items_per_second": round(count / seconds, 1) if seconds else None}
    print(f"{name:28s} {seconds:8.2f} s  {count:7d} items")
    return result


def page_costs(client: Any, crowd: Any, project_id: str, big: int) -> dict[str, Any]:
    """Median milliseconds of one 50-item page of tasks in a 100-task and a ``big``-task
    pool: both pools are made first, then measured in alternation (3 rounds x 15 requests
    per page kind), so neither gets a warmer server."""
    toloka = import_toloka()
    pools: dict[int, tuple[str, str]] = {}
    for size in (100, big):
        pool = client.create_pool(toloka.Pool(
            project_id=project_id, private_name=f"pages {size}", may_contain_adult_content=False,
            reward_per_assignment=0.01, assignment_max_duration_seconds=600,
            defaults=toloka.Pool.Defaults(default_overlap_for_new_tasks=1)))
        start = time.perf_counter()
        for offset in range(0, size, 50_000):
            crowd.create_tasks([{"pool_id": pool.id, "input_values": {"text": f"t{i}"}}
                                for i in range(offset, min(size, offset + 50_000))],
                               report_items=False)
        print(f"pool of {size} tasks made in {time.perf_counter() - start:.1f} s")
        middle = str(int(crowd.list_tasks(pool.id, limit=1)[0].id) + size // 4)
        pools[size] = (pool.id, middle)
    seconds: dict[tuple[int, str], list[float]] = {}
    for _ in range(3):
        for size, (pool_id, middle) in pools.items():
            for name, extra in (("first page", {}), ("page deep inside", {"id_gt": middle})):
                for _ in range(15):
                    begun = time.perf_counter()
                    page = client.find_tasks(pool_id=pool_id, sort=["id"], limit=50, **extra)
                    seconds.setdefault((size, name), []).append(time.perf_counter() - begun)
                    assert len(page.items) == 50, len(page.items)
    result: dict[str, Any] = {}
    for (size, name), values in seconds.items():
        figures = {"median_ms": round(1000 * statistics.median(values), 2),
                   "min_ms": round(1000 * min(values), 2), "requests": len(values)}
        result.setdefault(f"{size} tasks", {})[name] = figures
        print(f"  {size:>9} tasks, {name:16s} {figures['median_ms']:8.2f} ms")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--page-pool-tasks", type=int, default=1_000_000)
    args = parser.parse_args()
    toloka = import_toloka()
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        workspace = Workspace.init(Path(folder) / "ws")
        url, server, thread = serve(workspace)
        client = toloka.TolokaClient(workspace.crowd.create_requester_token("bench"), url=url)
        project = client.create_project(toloka.Project(
            public_name="bench", public_description="bench",
            task_spec=toloka.project.task_spec.TaskSpec(
                input_spec={"text": toloka.project.StringSpec()},
                output_spec={"label": toloka.project.StringSpec(allowed_values=["a", "b"])},
                view_spec=toloka.project.TemplateBuilderViewSpec(
                    view=toloka.project.template_builder.TextViewV1(
                        toloka.project.template_builder.InputData("text"))))))
        pool = toloka.Pool(project_id=project.id, private_name="bench",
                           may_contain_adult_content=False, reward_per_assignment=0.01,
                           assignment_max_duration_seconds=600, auto_accept_solutions=True,
                           defaults=toloka.Pool.Defaults(default_overlap_for_new_tasks=1))
        pool.set_mixer_config(real_tasks_count=10, golden_tasks_count=0)
        pool = client.create_pool(pool)
        tasks = [toloka.Task(pool_id=pool.id, input_values={"text": f"item {i}"})
                 for i in range(args.tasks)]
        timed(figures, "create_tasks (async)", args.tasks,
              lambda: client.create_tasks(tasks, allow_defaults=True, open_pool=True))

        crowd = workspace.crowd
        workers = [crowd.invite_worker(f"w{i}")[0] for i in range(5)]

        def label() -> int:
            suites = 0
            while True:
                progressed = False
                for worker in workers:
                    suite = crowd.request_assignment(worker.id, pool.id)
                    if suite is not None:
                        crowd.submit_assignment(worker.id, suite.id, [
                            {"output_values": {"label": "a" if len(t["input_values"]["text"])
                                               % 2 else "b"}} for t in suite.tasks])
                        suites += 1
                        progressed = True
                if not progressed:
                    return suites

        timed(figures, "simulated crowd (facade)", args.tasks, label)
        timed(figures, "get_tasks (pages of 500)", args.tasks,
              lambda: list(client.get_tasks(pool_id=pool.id, batch_size=500)))
        timed(figures, "get_assignments", args.tasks // 10,
              lambda: list(client.get_assignments(pool_id=pool.id)))
        frame = timed(figures, "get_assignments_df (TSV)", args.tasks,
                      lambda: client.get_assignments_df(pool.id, status=["APPROVED"]))
        assert len(frame) == args.tasks, len(frame)

        def aggregate() -> list[Any]:
            op = client.aggregate_solutions_by_pool(
                type="DAWID_SKENE", pool_id=pool.id,
                fields=[toloka.aggregation.PoolAggregatedSolutionRequest.Field(name="label")])
            op = client.wait_operation(op, disable_progress=True)
            return list(client.get_aggregated_solutions(op.id))

        solutions = timed(figures, "aggregate DAWID_SKENE + read", args.tasks, aggregate)
        assert len(solutions) == args.tasks
        figures["list page (find_tasks, limit 50)"] = page_costs(
            client, crowd, project.id, args.page_pool_tasks)
        server.should_exit = True
        thread.join(timeout=10)
        workspace.close()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "benchmark": "toloka_api", "tasks": args.tasks, "database": "sqlite",
        "python": platform.python_version(), "machine": platform.machine(),
        "note": "wall-clock on a shared 2-core machine; aggregation includes "
                "wait_operation's 0.5 s first poll and 1 s poll interval; a list page is "
                "filtered, sorted and paged in SQL (index on pool, id as text)",
        "page_pool_tasks": args.page_pool_tasks,
        "figures": figures,
    }, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
