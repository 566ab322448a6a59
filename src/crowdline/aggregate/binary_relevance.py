"""Binary Relevance: multi-label answers aggregated one label at a time.

Each answer's ``label`` is a collection of labels (list, tuple, set or frozenset, e.g.
``["house", "tree"]``). For every label seen, the answers become a binary task — 1 if the
worker chose that label, 0 if not — and a fresh copy of ``base_aggregator`` aggregates it.
A task's result is the list of labels whose aggregate is 1, in sorted order, as in crowd-kit
1.4.2's ``BinaryRelevance``; unlike crowd-kit's, any crowdline aggregator (or any object
with crowd-kit's ``fit_predict``/``labels_`` shape) is accepted.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Collection
from typing import Any

import numpy as np
import pandas as pd

from crowdline.aggregate.base import Aggregator, require_columns
from crowdline.aggregate.majority_vote import MajorityVote
from crowdline.errors import InvalidInput


def clone(aggregator: Any) -> Any:
    """A new, unfitted aggregator with the same settings: its ``__init__`` parameters read
    back from the attributes of the same names, or a deep copy if they are not all there."""
    parameters = [name for name in inspect.signature(type(aggregator).__init__).parameters
                  if name != "self"]
    if all(hasattr(aggregator, name) for name in parameters):
        return type(aggregator)(**{name: getattr(aggregator, name) for name in parameters})
    return copy.deepcopy(aggregator)


class BinaryRelevance(Aggregator):
    """``fit(answers)`` sets ``labels_`` (a Series by task of label lists, name
    ``agg_label``) and ``aggregators_`` (label → the fitted copy of ``base_aggregator``).

    A label every worker chose on every answer (or none did) leaves a one-valued binary task,
    which KOS and M-MSR refuse; Majority Vote aggregates that label for them instead.

    >>> BinaryRelevance(DawidSkene(n_iter=20)).fit(answers).labels_   # doctest: +SKIP
    """

    aggregators_: dict[Any, Any]

    def __init__(self, base_aggregator: Any = None) -> None:
        base_aggregator = MajorityVote() if base_aggregator is None else base_aggregator
        if not (callable(getattr(base_aggregator, "fit_predict", None))
                and not isinstance(base_aggregator, type)):
            raise InvalidInput(f"base_aggregator must be an aggregator instance with "
                               f"fit_predict, got {base_aggregator!r}",
                               hint="pass e.g. MajorityVote() or DawidSkene(n_iter=20)")
        self.base_aggregator = base_aggregator

    def fit(self, answers: pd.DataFrame) -> BinaryRelevance:
        rows, classes, chosen_row, chosen_class = _explode(answers)
        self.aggregators_ = {}
        if rows.empty:
            self.labels_ = pd.Series([], dtype=float, name="agg_label")
            return self
        per_task: dict[Any, list] = {}
        for code, label in enumerate(classes):
            binary = np.zeros(len(rows), dtype=np.int64)
            binary[chosen_row[chosen_class == code]] = 1
            single = rows.assign(label=binary)
            aggregator = clone(self.base_aggregator if np.unique(binary).size == 2
                               or not _needs_two_labels(self.base_aggregator)
                               else MajorityVote())
            aggregator.fit_predict(single)
            self.aggregators_[label] = aggregator
            for task, value in aggregator.labels_.items():
                found = per_task.setdefault(task, [])
                if value:
                    found.append(label)
        self.labels_ = pd.Series(per_task, name="agg_label", dtype=object)
        self.labels_.index.name = "task"
        return self


def _needs_two_labels(aggregator: Any) -> bool:
    from crowdline.aggregate.kos import KOS
    from crowdline.aggregate.mmsr import MMSR

    return isinstance(aggregator, KOS | MMSR)


def _explode(answers: pd.DataFrame) -> tuple[pd.DataFrame, list, np.ndarray, np.ndarray]:
    """(task, worker) rows; the sorted labels; for every (row, chosen label) pair, the row
    number and the label's code."""
    require_columns(answers, "answers")
    values = answers["label"].tolist()
    bad = [v for v in values if isinstance(v, str | bytes) or not isinstance(v, Collection)]
    if bad:
        raise InvalidInput(f"{len(bad)} answers have a label that is not a list of labels, "
                           f"e.g. {bad[0]!r}", hint="give each answer a list, e.g. ['cat']")
    lengths = np.fromiter((len(v) for v in values), dtype=np.int64, count=len(values))
    flat = [label for v in values for label in v]
    try:
        classes = sorted(set(flat))
    except TypeError as error:
        raise InvalidInput(f"the labels cannot be sorted: {error}",
                           hint="use labels of one type (all str or all int)") from error
    chosen_class = pd.Index(classes).get_indexer(flat) if flat else np.array([], dtype=np.int64)
    chosen_row = np.repeat(np.arange(len(values)), lengths)
    rows = answers[["task", "worker"]].reset_index(drop=True)
    return rows, classes, chosen_row, np.asarray(chosen_class)
