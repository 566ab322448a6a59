"""Stage 3: people label the rows the model was unsure of.

One datum per routed batch. The step hands the batch to the labeling back-end that
`config/crowd.json` names (`crowdline.crowd.backends.label_batch`: the same step for every
crowd): a pool for the batch (from `config/pool.json`), the rows as tasks carrying their row id,
honeypots from the `golden` repo, the pool opened — and then it WAITS: WaitFor "pool complete",
so no worker process is held while annotators work, for seconds or for days, across restarts.
When the pool is complete the datum runs again, closes the pool and writes the judgments.

The model votes in dynamic overlap: each row the router sent to people because the model was
unsure ("human") carries the model's label and probability as a Toloka baseline solution, so
a task whose first answers agree with the model stops early and one where people disagree
with it gets more answers. Audited rows carry none: they measure the model, so only people
decide them. `"model_vote": false` in `config/routing.json` turns the vote off.

Back-ends: "builtin" (people in crowdline's web UI), "simulated" (the configured synthetic
annotators, for the demo), "toloka" (Toloka, or another crowdline server standing in for it;
URL and token from the pipelines' secret `toloka`). Every call is idempotent (project and pool
found by name, tasks created once), so a retried or resumed datum never duplicates tasks.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pandas as pd

from crowdline.crowd.backends import LabelingBackend, LabelingResult, label_batch
from crowdline.pipelines import current_datum
from crowdline_examples.clickbait.crowd_backends import crowd_config, make_backend

OUTPUT_FIELD = "category"
REJECTED = "rejected"  # route's folder of reports on bad input files (not batches)
ANSWER_COLUMNS = ["task", "worker", "label", "assignment", "is_golden", "golden_label", "row_id"]


def label_batches(inputs: dict[str, Path], output: Path) -> None:
    workspace = current_datum().workspace()
    config = crowd_config(workspace)
    backend = make_backend(workspace, config)
    for batch_dir in sorted(p for p in inputs["route"].iterdir()
                            if p.is_dir() and p.name != REJECTED):  # rejected: reports only
        routed = pd.read_csv(batch_dir / "routing.csv", dtype=str, keep_default_na=False)
        folder = output / batch_dir.name
        folder.mkdir(parents=True, exist_ok=True)
        routed.to_csv(folder / "routing.csv", index=False)
        human_rows = routed[routed["decision"] != "model"]
        if human_rows.empty:
            _write_results(folder, None, backend)
            continue
        pool = _pool_config(workspace, batch_dir.name, backend)
        result = label_batch(
            backend, project=_project_config(workspace), pool=pool,
            rows=[(row.id, {"headline": row.headline}) for row in human_rows.itertuples()],
            honeypots=[({"headline": row.headline}, {OUTPUT_FIELD: row.label})
                       for row in _golden(workspace).itertuples()],
            overlap=audit_overlaps(workspace, human_rows, pool),
            baseline_solutions=model_votes(workspace, human_rows))
        _write_results(folder, result, backend)


def audit_overlaps(workspace: Any, rows: pd.DataFrame, pool: dict[str, Any]
                   ) -> dict[str, int]:
    """Row id → overlap for audited rows (`audit_overlap` in routing.json, default: the
    pool's): they are the yardstick the routing threshold is chosen by, so people label them
    more carefully than the rest. Never more than the pool can give (its dynamic overlap's
    maximum, else its overlap: a demo with one person gets one answer per row)."""
    overlap = _routing_settings(workspace).get("audit_overlap")
    if not overlap:
        return {}
    defaults = pool.get("defaults", {})
    most = (pool.get("dynamic_overlap_config") or {}).get(
        "max_overlap", defaults.get("default_overlap_for_new_tasks", overlap))
    overlap = min(int(overlap), int(most))
    return {str(row_id): int(overlap) for row_id in rows.loc[rows["decision"] == "audit", "id"]}


def _routing_settings(workspace: Any) -> dict[str, Any]:
    return json.loads(workspace.store.get_file("config", "master", "/routing.json"))


def model_votes(workspace: Any, rows: pd.DataFrame) -> dict[str, list[dict[str, Any]]]:
    """Row id → the model's vote (label, probability clipped to [0.02, 0.98] so people can
    outvote it) for the rows routed to people because the model was unsure; none for audits."""
    if not _routing_settings(workspace).get("model_vote", True):
        return {}
    unsure = rows[(rows["decision"] == "human") & (rows["model_label"] != "")]
    weights = unsure["model_confidence"].astype(float).clip(0.02, 0.98)
    return {str(row_id): [{"output_values": {OUTPUT_FIELD: label},
                           "confidence_weight": round(float(weight), 6)}]
            for row_id, label, weight in zip(unsure["id"], unsure["model_label"], weights,
                                             strict=True)}


def _project_config(workspace: Any) -> dict[str, Any]:
    return json.loads(workspace.store.get_file("config", "master", "/project.json"))


def _pool_config(workspace: Any, batch: str, backend: LabelingBackend) -> dict[str, Any]:
    config = json.loads(workspace.store.get_file("config", "master", "/pool.json"))
    config["private_name"] = f"clickbait {batch}"
    qc = config.setdefault("quality_control", {})
    if backend.name == "toloka":
        # The training pool lives in the built-in crowd (the setup step); a remote crowd
        # starts without one.
        qc.pop("training_requirement", None)
    elif qc.get("training_requirement") is not None:
        setup = json.loads(workspace.store.get_file("setup", "master", "/setup.json"))
        qc["training_requirement"]["training_pool_id"] = setup["training_pool_id"]
    return config


def _golden(workspace: Any) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(workspace.store.get_file("golden", "master", "/golden.csv")),
                       dtype=str, keep_default_na=False)


def _write_results(folder: Path, result: LabelingResult | None,
                   backend: LabelingBackend) -> None:
    """answers.csv (every answer, honeypots flagged, with the row id), workers.csv (who is
    banned and why), tasks.csv (row id → task) and pool.json (pool id and back-end)."""
    if result is None:
        pd.DataFrame(columns=ANSWER_COLUMNS).to_csv(folder / "answers.csv", index=False)
        (folder / "workers.csv").write_text("worker,banned,ban_reasons\n")
        (folder / "tasks.csv").write_text("id,task_id\n")
        (folder / "pool.json").write_text(json.dumps({"pool_id": None,
                                                      "backend": backend.name}))
        return
    answers = result.answers.reindex(columns=ANSWER_COLUMNS)
    answers.to_csv(folder / "answers.csv", index=False)
    reasons = result.bans.groupby("worker")["reason"].agg(
        lambda r: "; ".join(x or "banned" for x in r)).to_dict() if len(result.bans) else {}
    workers = sorted(set(answers["worker"].astype(str)) | set(reasons))
    pd.DataFrame({"worker": workers, "banned": [w in reasons for w in workers],
                  "ban_reasons": [reasons.get(w, "") for w in workers]}).to_csv(
        folder / "workers.csv", index=False)
    real = answers[answers["row_id"].notna() & (answers["row_id"].astype(str) != "")]
    real[["row_id", "task"]].drop_duplicates().rename(
        columns={"row_id": "id", "task": "task_id"}).to_csv(folder / "tasks.csv", index=False)
    (folder / "pool.json").write_text(json.dumps(
        {"pool_id": result.pool_id, "backend": backend.name}, indent=2))
