"""Stage 4: judgments → labels with confidence, joined with the model's labels.

One datum per labeled batch. Honeypot answers are removed and banned workers' answers are
dropped before Dawid-Skene; rows the model labeled keep the model's label and probability.
Every output row says who labeled it (`labeled_by`: human, simulated or model), how many
judgments it took, and which model version routed it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from crowdline.aggregate import DawidSkene, MajorityVote

COLUMNS = ["id", "headline", "label", "confidence", "labeled_by", "judgments", "model_label",
           "model_confidence", "model_version", "decision", "pool_id"]


def aggregate_batch(inputs: dict[str, Path], output: Path) -> None:
    for batch_dir in sorted(p for p in inputs["label"].iterdir() if p.is_dir()):
        labeled = aggregate_folder(batch_dir)
        labeled.to_csv(output / f"{batch_dir.name}.csv", index=False)


def human_answers(batch_dir: Path) -> pd.DataFrame:
    """The answers that count: real tasks only, banned workers' answers dropped."""
    answers = pd.read_csv(batch_dir / "answers.csv", dtype={"task": str, "worker": str})
    workers = pd.read_csv(batch_dir / "workers.csv", dtype={"worker": str})
    banned = set(workers.loc[workers["banned"].astype(str) == "True", "worker"])
    real = answers[~answers["is_golden"].astype(str).isin(["True", "true", "1"])]
    return real[~real["worker"].isin(banned)]


def aggregate_folder(batch_dir: Path) -> pd.DataFrame:
    routed = pd.read_csv(batch_dir / "routing.csv", dtype=str, keep_default_na=False)
    tasks = pd.read_csv(batch_dir / "tasks.csv", dtype=str)
    answers = human_answers(batch_dir)[["task", "worker", "label"]]
    pool = json.loads((batch_dir / "pool.json").read_text())
    pool_id = pool.get("pool_id")
    # A simulated crowd's labels are never passed off as people's.
    crowd_label = "simulated" if pool.get("backend") == "simulated" else "human"

    result = routed.copy()
    result["label"] = result["model_label"]
    result["confidence"] = result["model_confidence"].astype(float)
    result["labeled_by"] = "model"
    result["judgments"] = 0
    # a remote crowd's pool id says where it lives ("toloka:12"): it is not a local pool
    result["pool_id"] = (f"{pool['backend']}:{pool_id}" if pool.get("backend") == "toloka"
                         else pool_id) if pool_id else ""
    if answers.empty:
        return result[COLUMNS]

    # Dawid-Skene needs two classes and two workers; with less, fall back to majority vote.
    if answers["label"].nunique() >= 2 and answers["worker"].nunique() >= 2:
        model = DawidSkene(n_iter=100).fit(answers)
    else:
        model = MajorityVote().fit(answers)
    task_ids = result["id"].map(dict(zip(tasks["id"], tasks["task_id"], strict=True)))
    labeled = task_ids.isin(model.labels_.index)
    by_task = task_ids[labeled]
    result.loc[labeled, "label"] = model.labels_.loc[by_task].to_numpy()
    result.loc[labeled, "confidence"] = model.probas_.loc[by_task].max(axis=1).round(6).to_numpy()
    result.loc[labeled, "labeled_by"] = crowd_label
    result.loc[labeled, "judgments"] = (
        answers.groupby("task").size().reindex(by_task).fillna(0).astype(int).to_numpy())
    return result[COLUMNS]
