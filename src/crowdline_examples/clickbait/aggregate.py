"""Stage 4: judgments → labels with confidence, joined with the model's labels.

One datum per labeled batch. Honeypot answers are removed and banned workers' answers are
dropped before Dawid-Skene; rows the model labeled keep the model's label and probability.
Every output row says who labeled it (`labeled_by`: human or model), how many judgments it
took, and which model version routed it.
"""

from __future__ import annotations

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
    tasks = pd.read_csv(batch_dir / "tasks.csv", dtype=str) if (
        batch_dir / "tasks.csv").stat().st_size > 1 else pd.DataFrame(columns=["id", "task_id"])
    answers = human_answers(batch_dir)
    import json

    pool_id = json.loads((batch_dir / "pool.json").read_text()).get("pool_id")

    result = routed.copy()
    result["label"] = result["model_label"]
    result["confidence"] = result["model_confidence"].astype(float)
    result["labeled_by"] = "model"
    result["judgments"] = 0
    result["pool_id"] = pool_id or ""

    if len(answers) and answers["label"].nunique() >= 1:
        frame = answers[["task", "worker", "label"]]
        if frame["label"].nunique() >= 2 and frame["worker"].nunique() >= 2:
            model = DawidSkene(n_iter=100).fit(frame)
        else:
            model = MajorityVote().fit(frame)
        probabilities = model.probas_
        labels = model.labels_
        counts = frame.groupby("task").size()
        task_of_row = dict(zip(tasks["id"], tasks["task_id"], strict=False))
        for index, row in result.iterrows():
            task_id = task_of_row.get(row["id"])
            if task_id is None or task_id not in labels.index:
                continue
            result.at[index, "label"] = labels[task_id]
            result.at[index, "confidence"] = round(float(probabilities.loc[task_id].max()), 6)
            result.at[index, "labeled_by"] = "human"
            result.at[index, "judgments"] = int(counts.get(task_id, 0))
    return result[[c for c in COLUMNS if c in result.columns]]
