"""The answers contract every aggregator shares, checked once here.

Answers are a pandas DataFrame with one row per judgment and three columns:

- ``task``   — the task id (str or int);
- ``worker`` — the worker id (str or int, one type for the whole column);
- ``label``  — the worker's answer (str, int or bool; no missing values).

Other columns are ignored. A worker answering a task twice counts twice in the votes (as in
crowd-kit); worker accuracies count a repeated (task, worker, label) row once.

Results follow crowd-kit's names: ``labels_`` (Series by task, name ``agg_label``),
``probas_`` (DataFrame task × label; rows sum to 1), ``skills_`` (Series by worker) and, for
Dawid-Skene, ``errors_`` and ``priors_``. Tasks, workers and labels are in order of first
appearance. Ties between labels are broken as crowd-kit 1.4.2 (with pandas 3) breaks them:
the label seen first wins in Majority Vote and the Dawid-Skene family, the smallest label in
the skill-weighted votes (Wawa, Gold Majority Vote) and GLAD.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from crowdline.errors import InvalidInput

ANSWER_COLUMNS = ("task", "worker", "label")
ID_KINDS = {"string", "integer", "categorical"}
LABEL_KINDS = {"string", "integer", "boolean", "categorical"}
NO_LABEL = -1
UNSEEN_LABEL = -2


@dataclass(frozen=True)
class EncodedAnswers:
    """Answers as integer codes: worker ``worker[i]`` gave ``label[i]`` on ``task[i]``."""

    task: np.ndarray
    worker: np.ndarray
    label: np.ndarray
    tasks: pd.Index
    workers: pd.Index
    classes: pd.Index

    @property
    def n_tasks(self) -> int:
        return len(self.tasks)

    @property
    def n_workers(self) -> int:
        return len(self.workers)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    def task_label_counts(self, weights: np.ndarray | None = None) -> np.ndarray:
        """(tasks × classes) sum of ``weights`` (default 1) of the answers giving each label."""
        flat = np.bincount(self.task * self.n_classes + self.label, weights=weights,
                           minlength=self.n_tasks * self.n_classes)
        return flat.reshape(self.n_tasks, self.n_classes).astype(float)

    def task_by_worker_label(self) -> sp.csr_matrix:
        """Sparse (tasks × workers·classes) count of answers; column w·K + l = worker w said l."""
        columns = self.worker * self.n_classes + self.label
        # CSR built directly (rows = tasks): a repeated answer is a repeated entry, which sums.
        if len(self.task) > 1 and not (self.task[1:] >= self.task[:-1]).all():
            columns = columns[np.argsort(self.task, kind="stable")]
        indptr = np.concatenate([[0], np.cumsum(np.bincount(self.task, minlength=self.n_tasks))])
        return sp.csr_matrix((np.ones(len(columns)), columns, indptr),
                             shape=(self.n_tasks, self.n_workers * self.n_classes))

    def first_rows(self) -> np.ndarray:
        """Mask of rows that are not a repeat of an earlier (task, worker, label) row."""
        key = (self.task.astype(np.int64) * self.n_workers + self.worker) * self.n_classes
        return ~pd.Series(key + self.label).duplicated().to_numpy()


def _column_kind(values: pd.Series) -> str:
    if isinstance(values.dtype, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_bool_dtype(values.dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(values.dtype):
        return "integer"  # without scanning millions of values
    return pd.api.types.infer_dtype(values, skipna=False)


def encode_answers(answers: pd.DataFrame, *, min_classes: int = 1) -> EncodedAnswers:
    """Check ``answers`` against the contract and encode them; raise InvalidInput otherwise."""
    if not isinstance(answers, pd.DataFrame):
        raise InvalidInput(f"answers must be a pandas DataFrame, got {type(answers).__name__}",
                           hint="build one with columns task, worker, label")
    missing = [c for c in ANSWER_COLUMNS if c not in answers.columns]
    if missing:
        raise InvalidInput(f"answers lack the columns {missing} (have {list(answers.columns)})",
                           hint="rename them to task, worker, label")
    if answers.empty:
        raise InvalidInput("answers are empty: there is nothing to aggregate",
                           hint="aggregate after at least one judgment was made")
    for column in ANSWER_COLUMNS:
        empty = int(answers[column].isna().sum())
        if empty:
            raise InvalidInput(f"{empty} answers have no {column} (NaN/None)",
                               hint=f"drop or fill the rows with a missing {column} first")
        kind = _column_kind(answers[column])
        allowed = LABEL_KINDS if column == "label" else ID_KINDS
        if kind not in allowed:
            raise InvalidInput(f"the {column} column holds {kind} values; it must hold one of "
                               f"{sorted(allowed)}",
                               hint=f"convert it with answers[{column!r}].astype(str)")
    task, tasks = pd.factorize(answers["task"], sort=False)
    worker, workers = pd.factorize(answers["worker"], sort=False)
    label, classes = pd.factorize(answers["label"], sort=False)
    if len(classes) < min_classes:
        raise InvalidInput(f"answers hold {len(classes)} distinct label(s) {list(classes)}; this "
                           f"method needs at least {min_classes}",
                           hint="use MajorityVote, or wait for answers with other labels")
    return EncodedAnswers(
        task=task.astype(np.int64, copy=False), worker=worker.astype(np.int64, copy=False),
        label=label.astype(np.int64, copy=False),
        tasks=pd.Index(tasks, name="task"), workers=pd.Index(workers, name="worker"),
        classes=pd.Index(classes, name="label"))


def encode_task_labels(encoded: EncodedAnswers, labels: pd.Series, *, what: str) -> np.ndarray:
    """Class code of ``labels`` (a Series by task) for each task: NO_LABEL where the task has
    none, UNSEEN_LABEL where its label is not among the answers' labels."""
    if not isinstance(labels, pd.Series):
        raise InvalidInput(f"{what} must be a pandas Series indexed by task, got "
                           f"{type(labels).__name__}", hint="pass gold.set_index('task')['label']")
    labels = labels[~labels.index.duplicated(keep="last")].dropna()
    codes = encoded.classes.get_indexer(labels.to_numpy())
    codes[codes < 0] = UNSEEN_LABEL
    return pd.Series(codes, index=labels.index).reindex(
        encoded.tasks, fill_value=NO_LABEL).to_numpy().astype(np.int64)


def worker_accuracy_against(encoded: EncodedAnswers, truth: np.ndarray) -> pd.Series:
    """Share of each worker's answers equal to ``truth`` (class code by task, or NO_LABEL).

    Like crowd-kit's ``get_accuracy``: tasks without truth are skipped, a repeated
    (task, worker, label) row counts once, workers with no scored answer are left out.
    """
    known = truth[encoded.task] != NO_LABEL
    rows = encoded.first_rows() & known
    correct = (encoded.label == truth[encoded.task])[rows].astype(float)
    hits = np.bincount(encoded.worker[rows], weights=correct, minlength=encoded.n_workers)
    totals = np.bincount(encoded.worker[rows], minlength=encoded.n_workers)
    scored = totals > 0
    return pd.Series(hits[scored] / totals[scored], index=encoded.workers[scored], name="skill")


def probas_frame(encoded: EncodedAnswers, probas: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(probas, index=encoded.tasks, columns=encoded.classes, copy=False)


def labels_series(encoded: EncodedAnswers, probas: np.ndarray, *,
                  ties: Literal["first_seen", "sorted"] = "first_seen") -> pd.Series:
    """Most probable label of each task. Ties go to the label seen first in the answers, or
    with ``ties="sorted"`` to the smallest label: crowd-kit's idxmax over its column order."""
    if ties == "sorted":
        order = np.argsort(encoded.classes.to_numpy(), kind="stable")
        codes = order[np.argmax(probas[:, order], axis=1)]
    else:
        codes = np.argmax(probas, axis=1)
    return pd.Series(encoded.classes.to_numpy()[codes], index=encoded.tasks, name="agg_label")


def normalize_rows(scores: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return scores / scores.sum(axis=1, keepdims=True)


class Aggregator:
    """Base of the classification aggregators: settings in ``__init__``, ``fit(answers)``
    returns self and sets ``labels_`` and ``probas_`` (see the module doc for the contract)."""

    labels_: pd.Series
    probas_: pd.DataFrame

    def fit(self, answers: pd.DataFrame) -> Aggregator:
        raise NotImplementedError

    def fit_predict(self, answers: pd.DataFrame, *args: object, **kwargs: object) -> pd.Series:
        self.fit(answers, *args, **kwargs)
        return self.labels_

    def fit_predict_proba(self, answers: pd.DataFrame, *args: object,
                          **kwargs: object) -> pd.DataFrame:
        self.fit(answers, *args, **kwargs)
        return self.probas_
