"""The answers contract every aggregator shares, checked once here.

Answers are a pandas DataFrame with one row per judgment and three columns:

- ``task``   — the task id (str or int);
- ``worker`` — the worker id (str or int, one type for the whole column);
- ``label``  — the worker's answer (str, int or bool; no missing values).

Other columns are ignored. A frame without one of the three columns raises
:class:`~crowdline.errors.MissingColumns` (an ``InvalidInput`` and a ``KeyError``); an empty
frame gives empty results, as in crowd-kit. A worker answering a task twice counts twice in the
votes (as in crowd-kit); worker accuracies count a repeated (task, worker, label) row once.

Results follow crowd-kit 1.4.2's names, shapes and orders: ``labels_`` (Series by task, name
``agg_label``), ``probas_`` (DataFrame task × label; rows sum to 1), ``skills_`` (Series by
worker) and, for Dawid-Skene, ``errors_`` and ``priors_``. Ties between labels go to the first
column of ``probas_`` (crowd-kit's ``idxmax``), so the column order decides them: labels are
sorted in the skill-weighted votes (Wawa, Gold Majority Vote, weighted Majority Vote) and GLAD;
in the plain Majority Vote and the Dawid-Skene family they follow pandas' ``value_counts`` /
``unstack``: sorted under pandas 2, in order of first appearance under pandas 3 (see
``VOTES_SORTED``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from crowdline.errors import InvalidInput, MissingColumns

ANSWER_COLUMNS = ("task", "worker", "label")
ID_KINDS = {"string", "integer", "categorical"}
LABEL_KINDS = {"string", "integer", "boolean", "categorical"}
NO_LABEL = -1
UNSEEN_LABEL = -2
VOTES_SORTED = int(pd.__version__.split(".")[0]) < 3
"""Whether crowd-kit's plain Majority Vote (and so the Dawid-Skene start) sorts tasks and
labels: pandas 2's ``value_counts().unstack()`` sorts them, pandas 3's keeps first appearance."""


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

    @property
    def empty(self) -> bool:
        return len(self.task) == 0

    def task_label_counts(self, weights: np.ndarray | None = None) -> np.ndarray:
        """(tasks × classes) sum of ``weights`` (default 1) of the answers giving each label."""
        index = self.task * self.n_classes
        index += self.label  # in place: one per-answer temporary, not two
        flat = np.bincount(index, weights=weights, minlength=self.n_tasks * self.n_classes)
        del index
        return flat.reshape(self.n_tasks, self.n_classes).astype(float, copy=False)

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
        key = (self.task * self.n_workers + self.worker) * self.n_classes
        return ~pd.Series(key + self.label).duplicated().to_numpy()

    def pair_order(self) -> np.ndarray:
        """The (worker, label) row numbers ``worker·K + label`` in order of first appearance."""
        return first_appearance(self.worker * self.n_classes + self.label,
                                self.n_workers * self.n_classes)

    def without_codes(self) -> EncodedAnswers:
        """The same tasks, workers and classes without the per-answer code arrays (to free
        their memory once a model has what it needs from them)."""
        nothing = np.zeros(0, dtype=np.int64)
        return EncodedAnswers(nothing, nothing, nothing, self.tasks, self.workers, self.classes)


def first_appearance(codes: np.ndarray, n_codes: int) -> np.ndarray:
    """The distinct values of ``codes`` (integers in [0, n_codes)) in order of first
    appearance, in O(len + n_codes)."""
    n = len(codes)
    position = np.int32 if n < 2**31 - 1 else np.int64
    first = np.full(n_codes, n, dtype=position)
    first[codes[::-1]] = np.arange(n - 1, -1, -1, dtype=position)  # last assignment wins
    seen = np.flatnonzero(first < n)
    return seen[np.argsort(first[seen], kind="stable")]


def _column_kind(values: pd.Series) -> str:
    if isinstance(values.dtype, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_bool_dtype(values.dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(values.dtype):
        return "integer"  # without scanning millions of values
    return pd.api.types.infer_dtype(values, skipna=False)


def _factorize_integers(values: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """``pd.factorize`` (codes by first appearance) for a plain integer column whose values
    span at most about twice its length: O(n) array passes instead of hashing. None when the
    column is not such a column."""
    if not (isinstance(values.dtype, np.dtype) and values.dtype.kind == "i"):
        return None
    array = values.to_numpy()
    n = len(array)
    low, high = int(array.min()), int(array.max())
    span = high - low + 1
    if span > 2 * n + 1024:
        return None
    shifted = array - low if low else array
    first = np.full(span, n, dtype=np.int64)
    # with repeated indices the last assignment wins (NumPy's rule): scan backwards
    first[shifted[::-1]] = np.arange(n - 1, -1, -1, dtype=np.int64)
    present = np.flatnonzero(first < n)
    order = present[np.argsort(first[present], kind="stable")]
    rank = np.empty(span, dtype=np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    return rank[shifted], (order + low).astype(array.dtype)


def require_columns(frame: object, what: str, columns: tuple[str, ...] = ANSWER_COLUMNS) -> None:
    """``frame`` must be a DataFrame with ``columns``: InvalidInput, or MissingColumns (also a
    KeyError, as crowd-kit's users expect), otherwise."""
    if not isinstance(frame, pd.DataFrame):
        raise InvalidInput(f"{what} must be a pandas DataFrame, got {type(frame).__name__}",
                           hint=f"build one with columns {', '.join(columns)}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise MissingColumns(f"{what} lack the columns {missing} (have {list(frame.columns)})",
                             hint=f"rename them to {', '.join(columns)}")


def encode_answers(answers: pd.DataFrame) -> EncodedAnswers:
    """Check ``answers`` against the contract and encode them in one pass per column; raise
    InvalidInput (MissingColumns for a missing column) otherwise. Empty answers encode to
    empty arrays."""
    require_columns(answers, "answers")
    if answers.empty:
        nothing = np.zeros(0, dtype=np.int64)
        return EncodedAnswers(nothing, nothing, nothing, pd.Index([], name="task"),
                              pd.Index([], name="worker"), pd.Index([], name="label"))
    codes = {}
    for column in ANSWER_COLUMNS:
        values = answers[column]
        empty = int(values.isna().sum())
        if empty:
            raise InvalidInput(f"{empty} answers have no {column} (NaN/None)",
                               hint=f"drop or fill the rows with a missing {column} first")
        kind = _column_kind(values)
        allowed = LABEL_KINDS if column == "label" else ID_KINDS
        if kind not in allowed:
            raise InvalidInput(f"the {column} column holds {kind} values; it must hold one of "
                               f"{sorted(allowed)}",
                               hint=f"convert it with answers[{column!r}].astype(str)")
        fast = _factorize_integers(values)
        code, uniques = fast if fast is not None else pd.factorize(values, sort=False)
        codes[column] = (code.astype(np.int64, copy=False), pd.Index(uniques, name=column))
    return EncodedAnswers(
        task=codes["task"][0], worker=codes["worker"][0], label=codes["label"][0],
        tasks=codes["task"][1], workers=codes["worker"][1], classes=codes["label"][1])


def gold_pairs(encoded: EncodedAnswers, labels: pd.Series, *, what: str
               ) -> tuple[np.ndarray, np.ndarray]:
    """The (task code, class code) of each known label in ``labels`` (a Series by task; a
    task may have several); tasks not in the answers are dropped, labels no answer gives get
    UNSEEN_LABEL. Pairs keep the Series' order."""
    if not isinstance(labels, pd.Series):
        raise InvalidInput(f"{what} must be a pandas Series indexed by task, got "
                           f"{type(labels).__name__}", hint="pass gold.set_index('task')['label']")
    labels = labels.dropna()
    tasks = encoded.tasks.get_indexer(labels.index)
    classes = encoded.classes.get_indexer(labels.to_numpy()) if encoded.n_classes else (
        np.full(len(labels), -1))
    classes[classes < 0] = UNSEEN_LABEL
    known = tasks >= 0
    return tasks[known].astype(np.int64), classes[known].astype(np.int64)


def worker_accuracy(encoded: EncodedAnswers, scored: np.ndarray, correct: np.ndarray, *,
                    sort: bool = False) -> pd.Series:
    """Share of correct answers among each worker's ``scored`` answers (masks by row).

    Like crowd-kit's ``get_accuracy``: a repeated (task, worker, label) row counts once,
    workers with no scored answer are left out; workers in order of first appearance, or
    sorted (crowd-kit's ``groupby``) with ``sort=True``."""
    rows = encoded.first_rows() & scored
    hits = np.bincount(encoded.worker[rows], weights=correct[rows].astype(float),
                       minlength=encoded.n_workers)
    totals = np.bincount(encoded.worker[rows], minlength=encoded.n_workers)
    seen = np.flatnonzero(totals > 0)
    if sort:
        seen = seen[np.argsort(encoded.workers[seen].to_numpy(), kind="stable")]
    return pd.Series(hits[seen] / totals[seen], index=encoded.workers[seen], name="skill")


def worker_accuracy_against(encoded: EncodedAnswers, truth: np.ndarray, *,
                            sort: bool = False) -> pd.Series:
    """``worker_accuracy`` against one class code per task (NO_LABEL: not scored)."""
    expected = truth[encoded.task]
    return worker_accuracy(encoded, expected != NO_LABEL, encoded.label == expected, sort=sort)


def index_order(index: pd.Index, sort: bool) -> np.ndarray | None:
    """Positions that sort ``index`` (None: keep the order of first appearance)."""
    if not sort or index.is_monotonic_increasing:
        return None
    return np.asarray(index.argsort(), dtype=np.int64)


@dataclass
class Results:
    """``probas`` (tasks × classes, in code order) laid out the way crowd-kit lays them out."""

    probas: pd.DataFrame
    labels: pd.Series
    codes: np.ndarray  # the chosen class code of each task, in code order of tasks


def lay_out(encoded: EncodedAnswers, probas: np.ndarray, *, sort_tasks: bool,
            sort_labels: bool) -> Results:
    """Rows (tasks) and columns (labels) sorted or in order of first appearance; each task's
    label is the first column holding its largest probability (crowd-kit's ``idxmax``)."""
    rows = index_order(encoded.tasks, sort_tasks)
    columns = index_order(encoded.classes, sort_labels)
    ordered = probas if columns is None else probas[:, columns]
    best = np.argmax(ordered, axis=1) if len(ordered) else np.zeros(0, dtype=np.int64)
    codes = best if columns is None else columns[best]
    classes = encoded.classes if columns is None else encoded.classes[columns]
    tasks = encoded.tasks
    if rows is not None:
        ordered, tasks, best = ordered[rows], tasks[rows], best[rows]
    frame = pd.DataFrame(ordered, index=tasks, columns=classes, copy=False)
    labels = pd.Series(classes.to_numpy()[best], index=tasks, name="agg_label")
    return Results(frame, labels, codes)


def probas_frame(encoded: EncodedAnswers, probas: np.ndarray) -> pd.DataFrame:
    """``probas`` as a frame in code order (tasks and labels by first appearance)."""
    return pd.DataFrame(probas, index=encoded.tasks, columns=encoded.classes, copy=False)


def labels_series(encoded: EncodedAnswers, probas: np.ndarray, *,
                  ties: Literal["first_seen", "sorted"] = "first_seen") -> pd.Series:
    """Most probable label of each task, in code order. Ties go to the label seen first, or
    with ``ties="sorted"`` to the smallest label (see ``lay_out`` for crowd-kit's layouts)."""
    order = index_order(encoded.classes, ties == "sorted")
    if order is None:
        codes = np.argmax(probas, axis=1)
    else:
        codes = order[np.argmax(probas[:, order], axis=1)]
    return pd.Series(encoded.classes.to_numpy()[codes], index=encoded.tasks, name="agg_label")


def normalize_rows(scores: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return scores / scores.sum(axis=1, keepdims=True)


class Aggregator:
    """Base of the classification aggregators: settings in ``__init__`` (kept as public
    attributes of the same names, so ``type(a)(**public attributes)`` clones one, as crowd-kit
    does), ``fit(answers)`` returns self and sets ``labels_`` and ``probas_`` (see the module
    doc for the contract)."""

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

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v!r}" for k, v in vars(self).items()
                             if not k.startswith("_") and not k.endswith("_"))
        return f"{type(self).__name__}({settings})"


def empty_labels(dtype: str = "float") -> pd.Series:
    """crowd-kit's ``labels_`` for empty answers."""
    return pd.Series(dtype=dtype, name="agg_label")
