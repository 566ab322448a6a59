"""Stage 6: retrain the model on the current dataset version and evaluate it.

The whole dataset is one datum (glob "/"), crossed with the held-out evaluation set. The model
becomes the next version of the `ModelRegistry` kept in this pipeline's output repo, `models`:
`model.bin` and its card `model.json` with the metrics (accuracy, F1 — the seed's Random Forest
step reported the same) and the dataset commit it was trained on. The route step, the report,
`crowdline lineage` and the dashboard's model panel all read versions from that registry.
"""

from __future__ import annotations

from pathlib import Path

from sklearn.metrics import accuracy_score, f1_score

from crowdline.model import TextClassifier
from crowdline.model.registry import ModelRegistry
from crowdline.pipelines import current_datum
from crowdline_examples.clickbait.checks import read_csv
from crowdline_examples.clickbait.dataset import read_dataset

POSITIVE = "clickbait"
MODELS_REPO = "models"  # this pipeline's output repo: the model registry


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
    registry = ModelRegistry(context.workspace().store, MODELS_REPO)
    registry.write_version(output, model, metrics=metrics,
                           training_data=("dataset", context.input_commits["dataset"]))
