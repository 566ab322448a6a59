"""Stage 6: retrain the model on the current dataset version and evaluate it.

The whole dataset is one datum (glob "/"), crossed with the held-out evaluation set. The model
is written to this pipeline's output repo, `models`, with its metrics (accuracy, F1 — the
seed's Random Forest step reported the same) and the dataset commit it was trained on.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from sklearn.metrics import accuracy_score, f1_score

from crowdline.model import TextClassifier
from crowdline.pipelines import current_datum
from crowdline_examples.clickbait.dataset import read_dataset

POSITIVE = "clickbait"


def train_model(inputs: dict[str, Path], output: Path) -> None:
    dataset = read_dataset(inputs["dataset"])
    if dataset.empty:
        return  # the dataset's empty first commit: nothing to learn from yet
    evaluation = pd.read_csv(next(inputs["evaluation"].rglob("*.csv")), dtype=str)
    model = TextClassifier()
    model.fit(dataset["headline"].tolist(), dataset["label"].tolist())
    predicted = model.predict(evaluation["headline"].tolist())
    context = current_datum()
    metrics = {
        "accuracy": round(float(accuracy_score(evaluation["label"], predicted)), 4),
        "f1": round(float(f1_score(evaluation["label"], predicted, pos_label=POSITIVE)), 4),
        "train_rows": len(dataset),
        "human_rows": int(dataset["labeled_by"].isin(["human", "simulated"]).sum()),
        "model_rows": int((dataset["labeled_by"] == "model").sum()),
        "evaluation_rows": len(evaluation),
        "trained_on": {name: commit for name, commit in context.input_commits.items()}
        if hasattr(context, "input_commits") else {},
    }
    model.save(output / "model.bin")
    (output / "metrics.json").write_text(json.dumps(metrics, indent=2, default=str))
