"""The ``Model`` protocol: what the router, the monitor and the registry need from a model.

Any object with these members works (scikit-learn pipelines wrapped in a few lines, a remote
model behind HTTP, a rule set); :class:`crowdline.model.text.TextClassifier` is the default.

    model.fit(texts, labels)                 # -> the model itself
    model.classes_                           # the labels, in predict_proba's column order
    model.predict_proba(texts)               # -> ndarray (n_texts, n_classes), rows sum to 1
    model.save(path); Model.load(path)       # a file the registry stores as a commit
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, Self, runtime_checkable

import numpy as np

from crowdline.errors import BadTrainingData


@runtime_checkable
class Model(Protocol):
    """A probabilistic classifier over items (texts by default)."""

    @property
    def classes_(self) -> np.ndarray: ...

    def fit(self, texts: Sequence[str], labels: Sequence[object]) -> Self: ...

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray: ...

    def save(self, path: str | Path) -> None: ...

    @classmethod
    def load(cls, path: str | Path) -> Self: ...


def check_training_data(texts: Sequence[str], labels: Sequence[object]) -> tuple[list[str], list]:
    """Validate training rows and return them as lists; raise BadTrainingData saying the fix.

    Rejected: no rows, texts and labels of different lengths, a text that is not a string,
    a missing label (None/NaN), and fewer than two distinct labels.
    """
    texts = list(texts)
    labels = list(labels)
    if len(texts) != len(labels):
        raise BadTrainingData(
            f"got {len(texts)} texts but {len(labels)} labels",
            hint="pass one label per text, in the same order",
        )
    if not texts:
        raise BadTrainingData(
            "the training set is empty", hint="label some items first, then train"
        )
    for position, text in enumerate(texts):
        if not isinstance(text, str):
            raise BadTrainingData(
                f"text at position {position} is {type(text).__name__}, not str",
                hint="convert items to text (or drop empty rows) before training",
            )
    for position, label in enumerate(labels):
        if label is None or (isinstance(label, float | np.floating) and np.isnan(label)):
            raise BadTrainingData(
                f"label at position {position} is missing",
                hint="drop unlabeled rows before training",
            )
    distinct = set(labels)
    if len(distinct) < 2:
        raise BadTrainingData(
            f"the training set has one class only ({next(iter(distinct))!r})",
            hint="a classifier needs examples of at least two labels; label more items",
        )
    return texts, labels
