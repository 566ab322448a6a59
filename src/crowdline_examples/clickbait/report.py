"""What the demo prints: who labeled what, at what cost, how well, and one label's lineage.

Everything here is read back from the workspace through the public SDK — the same queries a
user runs to audit their own flow.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pandas as pd

from crowdline.workspace import Workspace
from crowdline_examples.clickbait.flow import simulation_truth


def _csv(workspace: Workspace, repo: str, ref: str, path: str) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(workspace.store.get_file(repo, ref, path)), dtype=str,
                       keep_default_na=False)


def batch_labels(workspace: Workspace) -> pd.DataFrame:
    """Every label the flow made (seed excluded), from the newest dataset version."""
    store = workspace.store
    frames = []
    for info in store.walk_files("dataset", "master", "/parts"):
        if info.path.endswith(".csv") and not info.path.endswith("/seed.csv"):
            frame = _csv(workspace, "dataset", "master", info.path)
            frame["part"] = info.path.rsplit("/", 1)[-1].removesuffix(".csv")
            frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


# Rows labeled by annotators: people, or the simulated crowd standing in for them.
CROWD = ("human", "simulated")

def build_report(workspace: Workspace) -> dict[str, Any]:
    crowd = workspace.crowd
    labels = batch_labels(workspace)
    truth = simulation_truth(workspace)
    report: dict[str, Any] = {"items": len(labels)}
    if len(labels):
        labels["judgments"] = labels["judgments"].astype(int)
        by_person = labels[labels["labeled_by"].isin(CROWD)]
        by_model = labels[labels["labeled_by"] == "model"]
        report.update(
            labeled_by_people=len(by_person),
            crowd="simulated" if (labels["labeled_by"] == "simulated").any() else "people",
            labeled_by_model=len(by_model),
            audited=int((labels.get("decision", pd.Series(dtype=str)) == "audit").sum())
            if "decision" in labels else None,
            judgments=int(labels["judgments"].sum()),
            judgments_per_human_item=round(float(by_person["judgments"].mean()), 2)
            if len(by_person) else 0.0,
        )
        known = labels[labels["headline"].isin(truth)]
        if len(known):
            correct = known["label"] == known["headline"].map(truth)
            report["accuracy"] = round(float(correct.mean()), 4)
            for who, kinds in (("human", CROWD), ("model", ("model",))):
                subset = correct[known["labeled_by"].isin(kinds)]
                report[f"accuracy_{who}"] = round(float(subset.mean()), 4) if len(subset) else None
    workers = {w.id: w.name for w in crowd.list_workers()}
    report["banned"] = [
        {"worker": workers.get(r.user_id, r.user_id), "scope": r.scope,
         "why": r.private_comment}
        for r in crowd.list_restrictions()
    ]
    report["qc_actions"] = [
        {"worker": workers.get(a.worker_id, a.worker_id), "rule": a.rule, "figures": a.figures}
        for a in crowd.list_qc_actions()
    ]
    versions = model_versions(workspace)
    report["model_versions"] = len(versions)
    if versions:
        report["model_metrics"] = versions[-1]["metrics"]
        report["first_model_metrics"] = versions[0]["metrics"]
        report["routing_threshold"] = next_threshold(workspace, versions[-1])
    report["lineage"] = lineage_of_one_label(workspace, labels)
    return report


def model_versions(workspace: Workspace) -> list[dict[str, Any]]:
    """Model versions of the registry in repo `models`, oldest first, with their metrics."""
    from crowdline.model.registry import ModelRegistry

    return [{"version": v.version, "commit": v.commit_id, "metrics": v.metrics,
             "thresholds": v.thresholds, "training_data": v.training_data}
            for v in ModelRegistry(workspace.store, "models").versions()]


def next_threshold(workspace: Workspace, version: dict[str, Any]) -> dict[str, Any] | None:
    """The threshold the newest model version chose for the next batch, and why (None when
    routing.json fixes the threshold)."""
    chosen = version["thresholds"].get("threshold")
    if chosen is None:
        return None
    try:
        choice = json.loads(workspace.store.get_file("models", version["commit"],
                                                     "/threshold.json"))
    except (LookupError, ValueError):
        choice = {}
    return {"threshold": chosen, "reason": choice.get("reason", "")}


def lineage_of_one_label(workspace: Workspace, labels: pd.DataFrame) -> dict[str, Any] | None:
    """Walk one human label back: dataset → aggregate → label (answers) → route → raw row."""
    if not len(labels) or not labels["labeled_by"].isin(CROWD).any():
        return None
    row = labels[labels["labeled_by"].isin(CROWD)].iloc[0]
    store, crowd = workspace.store, workspace.crowd
    dataset_commit = store.inspect_commit("dataset", "master")
    chain = [f"dataset@{dataset_commit.id[:8]}"]
    upstream = {c.repo: c for c in store.provenance("dataset", dataset_commit.id)}
    for repo in ("aggregate", "label", "route", "headlines"):
        if repo in upstream:
            chain.append(f"{repo}@{upstream[repo].id[:8]}")
    batch = row["part"]
    raw = _csv(workspace, "headlines", upstream["headlines"].id, f"/{batch}.csv") \
        if "headlines" in upstream else pd.DataFrame()
    raw_row = raw[raw["id"] == row["id"]].iloc[0].to_dict() if len(raw) else {}
    label_ref = upstream["label"].id if "label" in upstream else "master"
    tasks = _csv(workspace, "label", label_ref, f"/{batch}/tasks.csv")
    answers = _csv(workspace, "label", label_ref, f"/{batch}/answers.csv")
    task_id = tasks.loc[tasks["id"] == row["id"], "task_id"].iloc[0]
    workers = {w.id: w.name for w in crowd.list_workers()}
    # a pool of the built-in crowd has a numeric id; a remote one ("toloka:12") is not ours
    stats = crowd.pool_stats(row["pool_id"]) if str(row.get("pool_id", "")).isdigit() else {}
    golden = stats.get("golden_accuracy", {}) if isinstance(stats, dict) else {}
    judgments = [
        {"worker": workers.get(a["worker"], a["worker"]), "answer": a["label"],
         "honeypot_accuracy": (golden.get(a["worker"]) or {}).get("accuracy")}
        for _, a in answers[answers["task"] == task_id].iterrows()
    ]
    return {
        "id": row["id"], "headline": row["headline"], "label": row["label"],
        "confidence": row["confidence"], "model_version": row["model_version"][:8],
        "pool": row["pool_id"], "task": task_id, "commits": chain,
        "raw_row": raw_row, "judgments": judgments,
    }


def row_lineage(workspace: Workspace, root: Any, row_id: str) -> dict[str, Any]:
    """Hook for ``crowdline lineage ... --row ID``: the answers, workers (with their
    honeypot accuracy), pool and model version behind one traced dataset row."""
    nodes = root.walk()
    details: dict[str, Any] = {}
    for node in nodes:
        if node.row and node.row.get("model_version"):
            details["model_version"] = node.row["model_version"]
            details["decision"] = node.row.get("decision", "")
            break
    raw = next((n for n in nodes if n.repo == "headlines" and n.pipeline is None), None)
    if raw is not None and raw.row is None:  # no id column: route numbered the rows
        stem, _, number = row_id.rpartition("-")
        frame = _csv(workspace, "headlines", raw.commit, raw.path)
        if number.isdigit() and raw.path == f"/{stem}.csv" and int(number) < len(frame):
            details["raw_row"] = frame.iloc[int(number)].to_dict()
    tasks = next((n for n in nodes if n.repo == "label" and n.path.endswith("/tasks.csv")
                  and n.row), None)
    if tasks is None or not tasks.row or not tasks.row.get("task_id"):
        details["judgments"] = []  # labeled by the model: no people involved
        return details
    folder = tasks.path.rsplit("/", 1)[0]
    answers = _csv(workspace, "label", tasks.commit, f"{folder}/answers.csv")
    pool = json.loads(workspace.store.get_file("label", tasks.commit, f"{folder}/pool.json"))
    crowd = workspace.crowd
    workers = {w.id: w.name for w in crowd.list_workers()}
    local = pool.get("pool_id") and pool.get("backend", "builtin") != "toloka"
    stats = crowd.pool_stats(pool["pool_id"]) if local else {}
    golden = stats.get("golden_accuracy", {}) if isinstance(stats, dict) else {}
    details.update(pool=pool.get("pool_id"), task=tasks.row["task_id"], judgments=[
        {"worker": workers.get(a["worker"], a["worker"]), "answer": a["label"],
         "honeypot_accuracy": (golden.get(a["worker"]) or {}).get("accuracy")}
        for _, a in answers[answers["task"] == tasks.row["task_id"]].iterrows()])
    return details
