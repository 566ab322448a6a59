"""Retrain on the current labeled dataset and register the result as the next model version.

The dataset is CSV files in a store repo (default: every ``/*.csv`` of ``dataset@master``).
The branch is resolved to one commit first; the model is trained on that commit's files and
registered with that commit as its training data, so the version says exactly what it saw.

    version = retrain(ws.store, dataset="dataset@master", text_column="headline",
                      thresholds={"route": 0.9, "audit_rate": 0.05})
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable, Mapping

import pandas as pd
from sklearn.model_selection import train_test_split

from crowdline.errors import BadTrainingData, InvalidInput
from crowdline.model.monitoring import evaluate
from crowdline.model.protocol import Model, check_training_data
from crowdline.model.registry import ModelRegistry, ModelVersion, parse_commit_ref
from crowdline.model.text import TextClassifier


def read_labeled(store: object, dataset: str, pattern: str, text_column: str,
                 label_column: str) -> tuple[str, pd.DataFrame]:
    """(commit id, rows with ``text`` and ``label``) of the CSV files matching ``pattern``."""
    repo, ref = parse_commit_ref(dataset)
    commit_id = store.inspect_commit(repo, ref).id
    files = [info for info in store.glob_files(repo, commit_id, pattern) if info.type == "file"]
    if not files:
        raise BadTrainingData(
            f"no files match {pattern!r} in {repo}@{commit_id}",
            hint="commit labeled CSV files to the dataset repo, or pass another pattern",
        )
    frames = []
    for info in files:
        frame = pd.read_csv(io.BytesIO(store.get_file(repo, commit_id, info.path)))
        missing = [c for c in (text_column, label_column) if c not in frame.columns]
        if missing:
            raise BadTrainingData(
                f"{info.path} has no column(s) {missing} (it has {list(frame.columns)})",
                hint="pass text_column= and label_column= naming the file's columns",
            )
        frames.append(frame[[text_column, label_column]].set_axis(["text", "label"], axis=1))
    rows = pd.concat(frames, ignore_index=True).dropna(subset=["label"])
    rows["text"] = rows["text"].fillna("").astype(str)
    return commit_id, rows


def retrain(
    store: object,
    *,
    dataset: str = "dataset@master",
    pattern: str = "/*.csv",
    text_column: str = "text",
    label_column: str = "label",
    holdout: float = 0.2,
    seed: int = 0,
    thresholds: Mapping[str, float] | None = None,
    registry: ModelRegistry | None = None,
    make_model: Callable[[], Model] | None = None,
) -> ModelVersion:
    """Train on the dataset's current commit, evaluate on a held-out share, register.

    Metrics come from a stratified ``holdout`` split (skipped when a class has fewer than two
    rows); the registered model is then refitted on every row.
    """
    if not 0.0 <= holdout < 1.0:
        raise InvalidInput(f"holdout must be in [0, 1), got {holdout}",
                           hint="a share such as 0.2; 0 skips evaluation")
    registry = registry or ModelRegistry(store)
    make_model = make_model or (lambda: TextClassifier(seed=seed))
    repo, _ = parse_commit_ref(dataset)
    commit_id, rows = read_labeled(store, dataset, pattern, text_column, label_column)
    texts, labels = check_training_data(rows["text"].tolist(), rows["label"].tolist())
    metrics: dict[str, float] = {"n_train": float(len(texts))}
    counts = Counter(labels)
    n_test = round(len(texts) * holdout)
    if holdout > 0 and min(counts.values()) >= 2 and len(counts) <= n_test < len(texts) - 1:
        train_texts, test_texts, train_labels, test_labels = train_test_split(
            texts, labels, test_size=n_test, stratify=labels, random_state=seed)
        held_out_model = make_model().fit(train_texts, train_labels)
        metrics |= evaluate(held_out_model, test_texts, test_labels)
    model = make_model().fit(texts, labels)
    return registry.register(
        model, training_data=(repo, commit_id), metrics=metrics, thresholds=thresholds,
        message=f"retrained on {repo}@{commit_id[:12]} ({len(texts)} rows)",
    )
