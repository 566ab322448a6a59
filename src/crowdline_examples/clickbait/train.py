"""Stage 6: retrain the model on the current dataset version and evaluate it.

The whole dataset is one datum (glob "/"), crossed with the held-out evaluation set. The model
becomes the next version of the `ModelRegistry` kept in this pipeline's output repo, `models`:
`model.bin` and its card `model.json` with the metrics (accuracy, F1 — the seed's Random Forest
step reported the same) and the dataset commit it was trained on. The route step, the report,
`crowdline lineage` and the dashboard's model panel all read versions from that registry.

With `target_accuracy` in `config/routing.json` the step also chooses the routing threshold
the new version will route with, from every audited row in the dataset so far (the model's
label and confidence when it routed the row against the people's label, which the model did
not vote on): the lowest threshold whose audited accuracy's lower bound reaches the target
(`crowdline.model.thresholds`). The card's `thresholds` keep the figures (threshold, audits,
accuracy and its bounds); `threshold.json` beside the model keeps the reason and the
evidence table, one row per candidate threshold.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.metrics import accuracy_score, f1_score

from crowdline.model import TextClassifier
from crowdline.model.registry import ModelRegistry
from crowdline.model.thresholds import ThresholdChoice, choose_threshold
from crowdline.pipelines import current_datum
from crowdline_examples.clickbait.checks import read_csv
from crowdline_examples.clickbait.dataset import read_dataset

POSITIVE = "clickbait"
MODELS_REPO = "models"  # this pipeline's output repo: the model registry
CROWD = ("human", "simulated")  # labeled_by values of rows people (or their stand-ins) labeled


def train_model(inputs: dict[str, Path], output: Path) -> None:
    dataset = read_dataset(inputs["dataset"])
    if dataset.empty:
        return  # the dataset's empty first commit: nothing to learn from yet
    evaluation = read_csv(next(inputs["evaluation"].rglob("*.csv")),
                          required=("headline", "label"), what="CSV of labeled headlines")
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
    }
    workspace = context.workspace()
    settings = json.loads(workspace.store.get_file("config", "master", "/routing.json"))
    thresholds: dict[str, float] = {}
    if settings.get("target_accuracy") is not None:
        choice = choose_routing_threshold(dataset, settings)
        thresholds = {**choice.as_numbers(), "audit_rate": float(settings["audit_rate"])}
        output.mkdir(parents=True, exist_ok=True)
        (output / "threshold.json").write_text(json.dumps(
            {"threshold": choice.threshold, "reason": choice.reason,
             "settings": settings, "figures": choice.as_numbers(),
             "evidence": choice.evidence}, indent=2))
    registry = ModelRegistry(workspace.store, MODELS_REPO)
    registry.write_version(output, model, metrics=metrics, thresholds=thresholds,
                           training_data=("dataset", context.input_commits["dataset"]))


def choose_routing_threshold(dataset: pd.DataFrame, settings: dict[str, Any]
                             ) -> ThresholdChoice:
    """The threshold for the next batches, from the dataset's audited rows (people-only)."""
    audited = dataset[(dataset["decision"] == "audit")
                      & dataset["labeled_by"].isin(CROWD)]
    audits = pd.DataFrame({
        "model_label": audited["model_label"], "model_confidence": audited["model_confidence"],
        "people_label": audited["label"], "people_confidence": audited["confidence"]})
    return choose_threshold(
        audits, start_threshold=float(settings["threshold"]),
        target_accuracy=float(settings["target_accuracy"]),
        min_audits=int(settings.get("min_audits", 200)),
        floor=float(settings.get("audit_floor", settings["threshold"])),
        confidence=float(settings.get("bound_confidence", 0.95)))
