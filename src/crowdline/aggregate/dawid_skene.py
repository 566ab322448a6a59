"""Dawid-Skene and One-coin Dawid-Skene, vectorised with sparse incidence matrices.

EM as in crowd-kit 1.4.2, step for step, so that the results agree with it: start from
majority-vote posteriors, M-step → E-step until the evidence lower bound (per answer) improves
by less than ``tol`` or ``n_iter`` iterations ran. With A the sparse (tasks × workers·classes)
answer counts, the M-step is ``Aᵀ @ probas`` and the E-step ``A @ log(errors)``, so one
iteration costs a few passes over the answers, whatever the number of workers.

Warm start (incremental use): ``fit(answers, initial_error=old.errors_, initial_priors=
old.priors_)`` starts from an earlier fit's confusion matrices and class priors, so after a
batch of new answers EM needs only a few iterations.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from crowdline.aggregate.base import (
    NO_LABEL,
    VOTES_SORTED,
    Aggregator,
    EncodedAnswers,
    empty_labels,
    encode_answers,
    first_appearance,
    index_order,
    lay_out,
)
from crowdline.aggregate.majority_vote import vote
from crowdline.errors import InvalidInput

EPS = 1e-10  # crowd-kit's floor for probabilities before taking logs
LOG_EPS = float(np.log(EPS))
BLOCK = 4096  # rows of tasks × classes arrays handled at once (a few hundred KiB)
InitialErrorStrategy = Literal["assign", "addition"]


class _Incidence:
    """The answers as one sparse (tasks × workers·classes) count matrix A, built once per fit
    in O(answers), and the (worker, label) rows in order of first appearance."""

    def __init__(self, encoded: EncodedAnswers, ones: np.ndarray | None = None) -> None:
        k = encoded.n_classes
        n_rows = encoded.n_workers * k
        pairs = encoded.worker * k
        pairs += encoded.label
        self.first_seen = first_appearance(pairs, n_rows)
        self.observed = np.zeros(n_rows, dtype=bool)  # rows of crowd-kit's groupby
        self.observed[self.first_seen] = True
        self.n_answers = len(pairs)
        self.n_classes = k
        index = np.int32 if max(n_rows, len(pairs)) < 2**31 - 1 else np.int64
        ones = np.ones(len(pairs)) if ones is None else ones
        shape = (encoded.n_tasks, n_rows)
        task = encoded.task
        if len(task) < 2 or bool((task[1:] >= task[:-1]).all()):  # grouped by task: CSR as is
            indptr = np.zeros(encoded.n_tasks + 1, dtype=index)
            np.cumsum(np.bincount(task, minlength=encoded.n_tasks), out=indptr[1:])
            self.by_task = sp.csr_matrix((ones, pairs.astype(index), indptr), shape=shape)
        else:  # SciPy's COO → CSR is a counting sort, O(answers)
            self.by_task = sp.coo_matrix((ones, (task.astype(index), pairs.astype(index))),
                                         shape=shape).tocsr()


def _confusion_counts(incidence: _Incidence, probas: np.ndarray) -> np.ndarray:
    """(workers·classes × classes): row (w, l), column k = Σ P(task is k) over w's answers l."""
    # Aᵀ as a CSC view: reads probas in order and scatters into the small, cached result.
    return np.asarray(incidence.by_task.T @ probas)


def _normalise_confusion(errors: np.ndarray, present: np.ndarray, n_classes: int) -> np.ndarray:
    """Clip present rows at EPS, then make each worker's column (true class) sum to 1."""
    errors = np.where(present[:, None], np.maximum(errors, EPS), 0.0)
    cube = errors.reshape(-1, n_classes, n_classes)
    with np.errstate(invalid="ignore", divide="ignore"):
        cube = cube / cube.sum(axis=1, keepdims=True)
    return np.nan_to_num(cube.reshape(errors.shape), nan=0.0)


def _log_where(values: np.ndarray, present: np.ndarray) -> np.ndarray:
    out = np.zeros_like(values)
    out[present] = np.log(values[present])
    return out


def _answer_log_likelihood(incidence: _Incidence, log_errors: np.ndarray) -> np.ndarray:
    """(tasks × classes): Σ over each task's answers of ln P(answer | true class) = A·ln E."""
    return np.asarray(incidence.by_task @ log_errors)


def _e_step(priors: np.ndarray, answer_log: np.ndarray, out: np.ndarray | None,
            gold: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, float]:
    """Posteriors p (written into ``out`` when given; gold tasks pinned), their mean (the next
    priors) and crowd-kit's entropy term −Σ p·ln p over p clipped at EPS, from the priors and
    ``_answer_log_likelihood`` (overwritten). Done in blocks of rows that stay in the CPU
    cache: a dozen passes over a block instead of over the whole tasks × classes array.
    crowd-kit works in base 2; natural logs agree to rounding (~1e-16)."""
    n_tasks, n_classes = answer_log.shape
    probas = np.empty_like(answer_log) if out is None else out
    log_priors = np.log(np.maximum(priors, EPS))
    total = np.zeros(n_classes)
    entropy = 0.0
    for start in range(0, n_tasks, BLOCK):
        log_p = answer_log[start:start + BLOCK]
        p = probas[start:start + BLOCK]
        log_p += log_priors
        log_p -= log_p.max(axis=1, keepdims=True)
        np.exp(log_p, out=p)
        totals = p.sum(axis=1, keepdims=True)
        p /= totals
        log_p -= np.log(totals)
        if gold is not None:
            _pin_gold(p, gold[start:start + BLOCK])
            rows = np.flatnonzero(gold[start:start + BLOCK] != NO_LABEL)
            log_p[rows] = np.where(p[rows] > 0, 0.0, LOG_EPS)
        total += p.sum(axis=0)
        np.maximum(log_p, LOG_EPS, out=log_p)
        entropy -= float(np.einsum("ij,ij->", np.maximum(p, EPS), log_p))
    return probas, total / n_tasks, entropy


def _joint(counts: np.ndarray, log_errors: np.ndarray, priors: np.ndarray) -> float:
    """crowd-kit's expected log joint Σ over answers and classes of p·(ln e + ln prior), from
    the M-step's counts C = Aᵀ·p: Σ C·ln E + (Σ_rows C)·ln prior."""
    return (float(np.einsum("ij,ij->", counts, log_errors))
            + float(counts.sum(axis=0) @ np.log(np.maximum(priors, EPS))))


def _errors_frame(encoded: EncodedAnswers, errors: np.ndarray, present: np.ndarray,
                  columns: np.ndarray, observed: np.ndarray) -> pd.DataFrame:
    """crowd-kit's layout: rows (worker, label) in order of first appearance in the answers
    (``observed``; then any rows an initial error added), columns the labels unnamed, in
    probas_ order."""
    k = encoded.n_classes
    observed = observed[present[observed]]
    extra = np.setdiff1d(np.flatnonzero(present), observed)
    rows = np.concatenate([observed, extra])
    index = pd.MultiIndex.from_arrays(
        [encoded.workers[rows // k], encoded.classes[rows % k]], names=["worker", "label"])
    return pd.DataFrame(errors[rows][:, columns], index=index,
                        columns=pd.Index(encoded.classes[columns].to_numpy()))


def _normalised_frame(errors: pd.DataFrame) -> pd.DataFrame:
    """crowd-kit's M-step ending: clip at EPS, then each worker's columns sum to 1."""
    errors = errors.clip(lower=EPS)
    return errors / errors.groupby(level="worker", sort=False).transform("sum")


def _initial_error_as_given(encoded: EncodedAnswers, initial_error: pd.DataFrame,
                            strategy: InitialErrorStrategy, counts: np.ndarray,
                            errors: np.ndarray, present: np.ndarray,
                            columns: np.ndarray, observed: np.ndarray) -> pd.DataFrame:
    """crowd-kit's ``errors_`` when no iteration ran after an initial error: with ``assign``
    ``initial_error`` itself, with ``addition`` the answers' counts plus ``initial_error``
    aligned by pandas (rows and columns sorted unless they already agree), clipped and
    normalised. With ``assign``, workers it lacks (estimated from the answers here) follow."""
    if strategy == "addition":
        seen = np.zeros(len(counts), dtype=bool)
        seen[observed] = True
        from_answers = _errors_frame(encoded, counts, seen, columns, observed)
        return _normalised_frame(from_answers.add(initial_error, fill_value=0.0))
    given = _normalised_frame(initial_error)
    missing = ~encoded.workers.isin(initial_error.index.get_level_values("worker"))
    rows = np.repeat(missing, encoded.n_classes) & present
    if not rows.any():
        return given
    estimated = _errors_frame(encoded, errors, rows, columns, observed)
    return pd.concat([given, estimated.reindex(columns=given.columns)])


def _dense_initial_error(encoded: EncodedAnswers, initial_error: pd.DataFrame) -> np.ndarray:
    """An errors_ frame from an earlier fit, laid out as (workers·classes × classes); NaN where
    it has no row. Rows and columns for workers or labels absent from the answers are dropped."""
    if not isinstance(initial_error, pd.DataFrame) or list(initial_error.index.names) != [
            "worker", "label"]:
        raise InvalidInput("The index of initial_error must be: ['worker', 'label'] (a DataFrame "
                           "indexed by (worker, label), like DawidSkene().errors_)",
                           hint="pass an earlier fit's errors_")
    grid = pd.MultiIndex.from_product([encoded.workers, encoded.classes], names=["worker", "label"])
    aligned = initial_error.reindex(index=grid, columns=encoded.classes)
    return aligned.to_numpy(dtype=float)


def _apply_initial_error(counts: np.ndarray, present: np.ndarray, initial: np.ndarray,
                         strategy: InitialErrorStrategy, n_classes: int
                         ) -> tuple[np.ndarray, np.ndarray]:
    given = ~np.isnan(initial).all(axis=1)
    if strategy == "addition":
        return counts + np.nan_to_num(initial, nan=0.0), present | given
    if strategy != "assign":
        raise InvalidInput(f"Invalid initial_error_strategy: {strategy!r}, should be 'assign' or "
                           "'addition'", hint="'assign' replaces, 'addition' adds counts")
    per_worker = given.reshape(-1, n_classes).any(axis=1)
    known = np.repeat(per_worker, n_classes)
    sums = np.nansum(initial.reshape(-1, n_classes, n_classes), axis=1)[per_worker]
    if np.nanmax(initial, initial=0.0) <= 1.0 and not np.allclose(sums, 1.0):
        raise InvalidInput("The sum of each worker's error matrix in initial_error should be 1.0 "
                           "(each true-label column of a worker's confusion matrix)",
                           hint="pass an earlier fit's errors_ unchanged, or counts above 1")
    # Workers the earlier fit never saw keep the estimate from the current answers; a label a
    # known worker never gave before starts at EPS (the same for every class: no evidence).
    errors = np.where(known[:, None], np.nan_to_num(initial, nan=0.0), counts)
    return errors, np.where(known, given | present, present)


class _ExpectationMaximisation(Aggregator):
    priors_: pd.Series
    errors_: pd.DataFrame
    loss_history_: list[float]

    def __init__(self, n_iter: int = 100, tol: float = 1e-5) -> None:
        if n_iter < 0:
            raise InvalidInput(f"n_iter must be >= 0, got {n_iter}", hint="100 is the default")
        self.n_iter = n_iter
        self.tol = tol

    def _iterate(self, incidence: _Incidence, priors: np.ndarray, errors: np.ndarray,
                 m_step: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
                 gold: np.ndarray | None, buffer: np.ndarray | None
                 ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
        """E-step, M-step until the ELBO per answer gains less than ``tol``; returns the last
        posteriors (None if no iteration ran), priors and confusion rows. ``m_step(p)`` gives
        the confusion rows and the counts Aᵀ·p. Two tasks × classes arrays are alive at a
        time: the answers' log-likelihood and the posteriors, written into ``buffer`` (the
        starting posteriors, no longer needed once an iteration runs) and reused."""
        probas = None
        answer_log = _answer_log_likelihood(incidence, _log_where(errors, incidence.observed))
        loss = -np.inf
        self.loss_history_ = []
        for _ in range(self.n_iter):
            probas, priors, entropy = _e_step(priors, answer_log, buffer, gold)
            buffer = probas
            answer_log = None  # free it before the next one is allocated
            errors, counts = m_step(probas)
            log_errors = _log_where(errors, incidence.observed)
            new_loss = (_joint(counts, log_errors, priors) + entropy) / incidence.n_answers
            self.loss_history_.append(new_loss)
            if new_loss - loss < self.tol:
                break
            loss = new_loss
            answer_log = _answer_log_likelihood(incidence, log_errors)
        return probas, priors, errors

    def _store(self, encoded: EncodedAnswers, probas: np.ndarray, priors: np.ndarray,
               errors: np.ndarray, present: np.ndarray, observed: np.ndarray) -> None:
        ran = bool(self.loss_history_)
        if ran:  # crowd-kit clips these in place while computing the ELBO
            np.maximum(probas, EPS, out=probas)
            priors = np.maximum(priors, EPS)
        # Without an iteration the posteriors are Majority Vote's, in its layout.
        results = lay_out(encoded, probas, sort_tasks=VOTES_SORTED and not ran,
                          sort_labels=VOTES_SORTED)
        self.probas_ = results.probas
        self.labels_ = results.labels
        columns = _class_order(encoded)
        self.priors_ = pd.Series(priors[columns], index=encoded.classes[columns], name="prior")
        self.errors_ = _errors_frame(encoded, errors, present, columns, observed)

    def _store_empty(self) -> None:
        self.probas_ = pd.DataFrame()
        self.labels_ = empty_labels()
        self.priors_ = pd.Series(dtype=float, name="prior")
        self.errors_ = pd.DataFrame()
        self.loss_history_ = []


def _class_order(encoded: EncodedAnswers) -> np.ndarray:
    order = index_order(encoded.classes, VOTES_SORTED)
    return np.arange(encoded.n_classes) if order is None else order


class DawidSkene(_ExpectationMaximisation):
    """Dawid-Skene: one confusion matrix per worker (``errors_``, rows (worker, observed label),
    columns true label), class ``priors_``, posteriors ``probas_``.

    ``fit(answers, true_labels=None, initial_error=None, initial_priors=None)``: gold labels
    (a Series by task) pin those tasks' posteriors; ``initial_error`` (an earlier ``errors_``)
    replaces (``"assign"``, the default when given) or adds to (``"addition"``) the first
    M-step; ``initial_priors`` (an earlier ``priors_``) replaces the majority-vote priors.
    Unlike crowd-kit, ``assign`` fills workers missing from ``initial_error`` from the data.
    """

    def __init__(self, n_iter: int = 100, tol: float = 1e-5,
                 initial_error_strategy: InitialErrorStrategy | None = None) -> None:
        super().__init__(n_iter, tol)
        self.initial_error_strategy = initial_error_strategy

    def fit(self, answers: pd.DataFrame, true_labels: pd.Series | None = None,
            initial_error: pd.DataFrame | None = None,
            initial_priors: pd.Series | None = None) -> DawidSkene:
        encoded = encode_answers(answers)
        if encoded.empty:
            self._store_empty()
            return self
        n_classes = encoded.n_classes
        gold = None if true_labels is None else _gold_codes(encoded, true_labels)
        ones = np.ones(len(encoded.task))  # as weights, the vote comes out as floats at once
        probas = _pin_gold(vote(encoded, ones), gold)
        incidence = _Incidence(encoded, ones)
        encoded = encoded.without_codes()  # the sparse matrix has all the fit needs
        priors = probas.mean(axis=0)
        if initial_priors is not None:
            priors = _aligned_priors(encoded, initial_priors)
        present = incidence.observed
        answer_counts = counts = _confusion_counts(incidence, probas)
        strategy = self.initial_error_strategy or "assign"
        if initial_error is not None:
            counts, present = _apply_initial_error(
                counts, present, _dense_initial_error(encoded, initial_error), strategy,
                n_classes)
        errors = _normalise_confusion(counts, present, n_classes)

        def m_step(posteriors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            counts = _confusion_counts(incidence, posteriors)
            return _normalise_confusion(counts, incidence.observed, n_classes), counts

        last, priors, errors = self._iterate(incidence, priors, errors, m_step, gold,
                                             buffer=probas)
        if last is not None:
            probas, present = last, incidence.observed
        self._store(encoded, probas, priors, errors, present, incidence.first_seen)
        if last is None and initial_error is not None:
            self.errors_ = _initial_error_as_given(encoded, initial_error, strategy,
                                                   answer_counts, errors, present,
                                                   _class_order(encoded), incidence.first_seen)
        return self


def _gold_codes(encoded: EncodedAnswers, true_labels: pd.Series) -> np.ndarray:
    """The gold class code of each task (NO_LABEL: none). A task with several gold labels
    gets the one whose value appears last among ``true_labels.unique()``, as crowd-kit's
    label-by-label correction leaves it."""
    if not isinstance(true_labels, pd.Series):
        raise InvalidInput(f"true_labels must be a pandas Series indexed by task, got "
                           f"{type(true_labels).__name__}",
                           hint="pass gold.set_index('task')['label']")
    labels = true_labels.dropna()
    rank, _ = pd.factorize(labels.to_numpy(), sort=False)
    tasks = encoded.tasks.get_indexer(labels.index)
    classes = encoded.classes.get_indexer(labels.to_numpy())
    known = tasks >= 0
    if (classes[known] < 0).any():
        raise InvalidInput("some true_labels are not among the labels in the answers",
                           hint="gold labels must be values workers can answer")
    tasks, classes, rank = tasks[known], classes[known], rank[known]
    order = np.lexsort((rank, tasks))
    last = np.ones(len(order), dtype=bool)
    last[:-1] = tasks[order][1:] != tasks[order][:-1]
    codes = np.full(encoded.n_tasks, NO_LABEL, dtype=np.int64)
    codes[tasks[order][last]] = classes[order][last]
    return codes


def _pin_gold(probas: np.ndarray, gold: np.ndarray | None) -> np.ndarray:
    if gold is None:
        return probas
    rows = np.flatnonzero(gold != NO_LABEL)
    probas[rows] = 0.0
    probas[rows, gold[rows]] = 1.0
    return probas


def _aligned_priors(encoded: EncodedAnswers, priors: pd.Series) -> np.ndarray:
    if not isinstance(priors, pd.Series):
        raise InvalidInput("initial_priors must be a Series indexed by label, like "
                           "DawidSkene().priors_", hint="pass an earlier fit's priors_")
    aligned = priors.reindex(encoded.classes).fillna(0.0).to_numpy(dtype=float)
    if aligned.sum() <= 0:
        raise InvalidInput("initial_priors give no weight to any label in the answers",
                           hint="pass an earlier fit's priors_")
    return aligned / aligned.sum()


def _one_coin_errors(encoded: EncodedAnswers, skills: np.ndarray) -> np.ndarray:
    """Rows (w, l): skill on the diagonal, (1 − skill)/(K − 1) elsewhere; clipped into (0, 1)."""
    k = encoded.n_classes
    skill_per_row = np.repeat(skills, k)[:, None]
    diagonal = (np.arange(encoded.n_workers * k) % k)[:, None] == np.arange(k)[None, :]
    errors = np.where(diagonal, skill_per_row, (1 - skill_per_row) / max(k - 1, 1))
    return np.clip(errors, EPS, 1 - EPS)


def _one_coin_skills(encoded: EncodedAnswers, probas: np.ndarray) -> np.ndarray:
    """Mean posterior of the label each worker gave, over the worker's answers."""
    agreement = probas[encoded.task, encoded.label]
    totals = np.bincount(encoded.worker, minlength=encoded.n_workers)
    return np.bincount(encoded.worker, weights=agreement, minlength=encoded.n_workers) / totals


class OneCoinDawidSkene(_ExpectationMaximisation):
    """Dawid-Skene with one number per worker: the chance of answering correctly
    (``skills_``); mistakes are spread evenly over the other labels."""

    skills_: pd.Series

    def fit(self, answers: pd.DataFrame) -> OneCoinDawidSkene:
        encoded = encode_answers(answers)
        if encoded.empty:
            self._store_empty()
            self.skills_ = pd.Series(dtype=float, name="skill")
            return self
        incidence = _Incidence(encoded)
        probas = vote(encoded)
        priors = probas.mean(axis=0)
        skills = [_one_coin_skills(encoded, probas)]
        errors = _one_coin_errors(encoded, skills[-1])

        def m_step(posteriors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            skills.append(_one_coin_skills(encoded, posteriors))
            return (_one_coin_errors(encoded, skills[-1]),
                    _confusion_counts(incidence, posteriors))

        last, priors, errors = self._iterate(incidence, priors, errors, m_step, None,
                                             buffer=probas)
        probas = probas if last is None else last
        self._store(encoded, probas, priors, errors, incidence.observed, incidence.first_seen)
        self.skills_ = pd.Series(skills[-1], index=encoded.workers, name="skill")
        return self
