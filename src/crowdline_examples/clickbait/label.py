"""Stage 3: people label the rows the model was unsure of.

One datum per routed batch. The step creates a pool for the batch (from `config/pool.json`,
with the training requirement filled in), mixes in honeypots from the `golden` repo, opens the
pool, and then WAITS: it raises WaitFor on "pool complete", so no worker process is held while
annotators work — for seconds or for days, across restarts. When the pool is complete the
datum runs again, closes the pool and writes the judgments.

Every call is idempotent (the pool is found by name, tasks are created once), so a retried or
resumed datum never duplicates tasks.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd

from crowdline.pipelines import WaitFor, current_datum
from crowdline_examples.clickbait.crowd_backends import crowd_config, run_crowd_backend

OUTPUT_FIELD = "category"
REJECTED = "rejected"  # route's folder of reports on bad input files (not batches)


def label_batch(inputs: dict[str, Path], output: Path) -> None:
    workspace = current_datum().workspace()
    for batch_dir in sorted(p for p in inputs["route"].iterdir()
                            if p.is_dir() and p.name != REJECTED):  # rejected: reports only
        routed = pd.read_csv(batch_dir / "routing.csv", dtype=str, keep_default_na=False)
        folder = output / batch_dir.name
        folder.mkdir(parents=True, exist_ok=True)
        routed.to_csv(folder / "routing.csv", index=False)
        human_rows = routed[routed["decision"] != "model"]
        if human_rows.empty:
            _write_results(workspace, folder, pool_id=None,
                           task_rows=pd.DataFrame(columns=["id", "task_id"]))
            continue
        pool = _pool_for_batch(workspace, batch_dir.name)
        task_rows = _ensure_tasks(workspace, pool.id, human_rows)
        crowd = workspace.crowd
        pool = crowd.get_pool(pool.id)  # fresh status: an earlier run may have closed it
        if pool.status == "OPEN" or pool.last_started is None:  # new pools start CLOSED
            if pool.status != "OPEN":
                crowd.open_pool(pool.id)
            run_crowd_backend(workspace, pool.id)
            if not crowd.is_pool_complete(pool.id):
                raise WaitFor("crowdline.crowd.conditions:pool_complete", pool_id=pool.id)
            crowd.close_pool(pool.id)
        _write_results(workspace, folder, pool_id=pool.id, task_rows=task_rows)


def _pool_for_batch(workspace, batch: str):  # type: ignore[no-untyped-def]
    crowd, store = workspace.crowd, workspace.store
    setup = json.loads(store.get_file("setup", "master", "/setup.json"))
    name = f"clickbait {batch}"
    for pool in crowd.list_pools(project_id=setup["project_id"]):
        if pool.private_name == name:
            return pool
    config = json.loads(store.get_file("config", "master", "/pool.json"))
    config.update(project_id=setup["project_id"], private_name=name)
    requirement = config.setdefault("quality_control", {}).get("training_requirement")
    if requirement is not None:
        requirement["training_pool_id"] = setup["training_pool_id"]
    return crowd.create_pool(config)


def _ensure_tasks(workspace, pool_id: str, human_rows: pd.DataFrame) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Create the pool's real tasks and honeypots once; return row id ↔ task id."""
    crowd = workspace.crowd
    existing = [t for t in crowd.list_tasks(pool_id) if not t.known_solutions]
    if not existing:
        golden = pd.read_csv(
            io.BytesIO(workspace.store.get_file("golden", "master", "/golden.csv")), dtype=str
        )
        tasks = [{"pool_id": pool_id, "input_values": {"headline": h}}
                 for h in human_rows["headline"]]
        tasks += [
            {
                "pool_id": pool_id,
                "input_values": {"headline": row.headline},
                "known_solutions": [{"output_values": {OUTPUT_FIELD: row.label}}],
                "infinite_overlap": True,
            }
            for row in golden.itertuples()
        ]
        report = crowd.create_tasks(tasks, allow_defaults=True)
        if report.validation_errors:
            raise ValueError(f"tasks rejected by the pool: {report.validation_errors}")
        existing = [t for t in crowd.list_tasks(pool_id) if not t.known_solutions]
    # Map tasks back to rows by headline text, in creation order for repeated headlines.
    by_headline: dict[str, list[str]] = {}
    for task in sorted(existing, key=lambda t: (str(t.created), t.id)):
        by_headline.setdefault(task.input_values["headline"], []).append(task.id)
    mapping = []
    for row in human_rows.itertuples():
        task_ids = by_headline.get(row.headline) or [""]
        mapping.append({"id": row.id, "task_id": task_ids.pop(0)})
    return pd.DataFrame(mapping)


def _write_results(workspace, folder: Path, *, pool_id: str | None,  # type: ignore[no-untyped-def]
                   task_rows: pd.DataFrame) -> None:
    task_rows.to_csv(folder / "tasks.csv", index=False)
    if pool_id is None:
        (folder / "answers.csv").write_text("task,worker,label,assignment,is_golden,golden_label\n")
        (folder / "workers.csv").write_text("worker,banned,ban_reasons\n")
        (folder / "pool.json").write_text(json.dumps({"pool_id": None}))
        return
    crowd = workspace.crowd
    answers = crowd.answers_frame(pool_id, include_golden=True)
    answers.to_csv(folder / "answers.csv", index=False)
    restrictions = crowd.list_restrictions(pool_id=pool_id)
    reasons: dict[str, list[str]] = {}
    for restriction in restrictions:
        reasons.setdefault(restriction.user_id, []).append(restriction.private_comment or "banned")
    with (folder / "workers.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["worker", "banned", "ban_reasons"])
        for worker in sorted(set(answers["worker"]) | set(reasons)):
            writer.writerow([worker, worker in reasons, "; ".join(reasons.get(worker, []))])
    stats = crowd.pool_stats(pool_id)
    backend = crowd_config(workspace)["backend"]
    (folder / "pool.json").write_text(json.dumps(
        {"pool_id": pool_id, "backend": backend, "stats": stats}, indent=2, default=str))
