"""Stage 4: judgments → labels with confidence, joined with the model's labels.

One datum per labeled batch. Honeypot answers are removed and banned workers' answers are
dropped before Dawid-Skene; rows the model labeled keep the model's label and probability.
For rows the router sent to people because the model was unsure ("human"), the model is one
more voter: its calibrated probability is the prior that the crowd's Dawid-Skene posterior
updates (posterior ∝ prior × likelihood of the answers). Audited rows ("audit") keep the
people's label alone, so the audit still measures the model against people only.
Every output row says who labeled it (`labeled_by`: human, simulated or model), how many
judgments it took, and which model version routed it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
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
    probas = model.probas_.loc[by_task].to_numpy(dtype=float)
    classes = list(model.probas_.columns)
    voter = (result.loc[labeled, "decision"] == "human").to_numpy()
    if voter.any() and len(classes) >= 2:
        prior = model_prior(result.loc[labeled, "model_label"].to_numpy(),
                            result.loc[labeled, "model_confidence"].astype(float).to_numpy(),
                            classes)
        combined = probas * prior
        combined /= combined.sum(axis=1, keepdims=True)
        probas = np.where(voter[:, None], combined, probas)
    result.loc[labeled, "label"] = np.asarray(classes, dtype=object)[probas.argmax(axis=1)]
    result.loc[labeled, "confidence"] = probas.max(axis=1).round(6)
    result.loc[labeled, "labeled_by"] = crowd_label
    result.loc[labeled, "judgments"] = (
        answers.groupby("task").size().reindex(by_task).fillna(0).astype(int).to_numpy())
    return result[COLUMNS]


def model_prior(model_labels: np.ndarray, confidences: np.ndarray,
                classes: list) -> np.ndarray:
    """Per row, the model's probability of each class: its confidence on its own label and
    the rest shared evenly by the other classes (exact for two classes). Clipped away from 0
    and 1 so the model can be outvoted."""
    confidence = np.clip(confidences, 0.02, 0.98)
    others = (1.0 - confidence) / (len(classes) - 1)
    prior = np.repeat(others[:, None], len(classes), axis=1)
    for column, name in enumerate(classes):
        mine = model_labels == name
        prior[mine, column] = confidence[mine]
    # a model label outside the crowd's classes: no opinion
    unknown = ~np.isin(model_labels, classes)
    prior[unknown] = 1.0 / len(classes)
    return prior
