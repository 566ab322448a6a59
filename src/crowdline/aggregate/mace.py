"""MACE (Hovy et al., 2013): each worker either knows the answer or spams from a personal
label distribution.

Worker w spams with probability ``spamming_[w, 0]`` (knows with ``spamming_[w, 1]``) and,
when spamming, answers label l with probability ``thetas_[w, l]``. So an answer l to a task
whose true label is k has probability spamming_[w, 0]·thetas_[w, l] + spamming_[w, 1]·[k = l].
The true labels are uniform a priori. EM as in crowd-kit 1.4.2: the E-step multiplies these
per answer (in row order, as pandas does), the M-step normalises expected counts with
smoothing (``method="em"``) or takes the variational-Bayes update with Beta(``alpha``,
``beta``) and Dirichlet(10) priors (``method="vb"``, the default). Vectorised per answer with
``np.bincount`` and ``np.multiply.reduceat``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
import scipy.stats as sps
from scipy.special import digamma

from crowdline.aggregate.base import (
    Aggregator,
    EncodedAnswers,
    empty_labels,
    encode_answers,
    labels_series,
    probas_frame,
)
from crowdline.errors import InvalidInput


def _normalise(counts: np.ndarray, smoothing: float) -> np.ndarray:
    total = (counts + smoothing).sum(axis=1, keepdims=True)
    return np.divide(counts + smoothing, total, out=np.zeros_like(counts),
                     where=~np.isclose(total, 0.0))


def _variational_normalise(counts: np.ndarray, priors: np.ndarray) -> np.ndarray:
    total = np.exp(digamma((counts + priors).sum(axis=1, keepdims=True)))
    return np.divide(np.exp(digamma(counts + priors)), total, out=np.zeros_like(counts),
                     where=~np.isclose(total, 0.0))


class _Answers:
    """The answers sorted by task once, for the per-task products of the E-step."""

    def __init__(self, encoded: EncodedAnswers) -> None:
        self.encoded = encoded
        self.order = np.argsort(encoded.task, kind="stable")
        sorted_tasks = encoded.task[self.order]
        self.starts = np.flatnonzero(np.r_[True, sorted_tasks[1:] != sorted_tasks[:-1]])
        self.task_of_start = sorted_tasks[self.starts]


class MACE(Aggregator):
    """``fit(answers)`` sets ``labels_``, ``probas_`` (by task × label, first-seen order),
    ``spamming_`` (workers × [spam, know]) and ``thetas_`` (workers × labels), the arrays in
    the order workers and labels first appear.

    crowd-kit seeds every restart with the same ``random_state``, so its ``n_restarts`` runs
    are identical; this class runs one (same result, ``n_restarts`` times faster).

    >>> MACE(n_iter=50).fit(answers).labels_          # doctest: +SKIP
    """

    spamming_: np.ndarray
    thetas_: np.ndarray
    theta_priors_: np.ndarray | None
    strategy_priors_: np.ndarray | None
    smoothing_: float
    log_marginal_likelihood_: float

    def __init__(self, n_restarts: int = 10, n_iter: int = 50,
                 method: Literal["vb", "em"] = "vb", smoothing: float = 0.1,
                 default_noise: float = 0.5, alpha: float = 0.5, beta: float = 0.5,
                 random_state: int = 0, verbose: int = 0) -> None:
        if method not in ("vb", "em"):
            raise InvalidInput(f"method must be 'vb' or 'em', got {method!r}",
                               hint="'vb' (variational Bayes) is the default")
        if n_restarts < 1 or n_iter < 0:
            raise InvalidInput(f"n_restarts must be >= 1 and n_iter >= 0, got {n_restarts} and "
                               f"{n_iter}", hint="the defaults are 10 and 50")
        self.n_restarts = n_restarts
        self.n_iter = n_iter
        self.method = method
        self.smoothing = smoothing
        self.default_noise = default_noise
        self.alpha = alpha
        self.beta = beta
        self.random_state = random_state
        self.verbose = verbose  # accepted for crowd-kit's signature; there is no progress bar

    def fit(self, answers: pd.DataFrame) -> MACE:
        encoded = encode_answers(answers)
        if encoded.empty:
            self.probas_ = pd.DataFrame(index=pd.Index([], name="task"),
                                        columns=pd.Index([], name="label"))
            self.labels_ = empty_labels("object")
            self.spamming_ = np.zeros((0, 2))
            self.thetas_ = np.zeros((0, 0))
            return self
        rows = _Answers(encoded)
        n_workers, n_classes = encoded.n_workers, encoded.n_classes
        self.smoothing_ = 0.01 / n_classes
        self._initialise(n_workers, n_classes)
        likelihood, gold, strategy, knowing = self._e_step(rows)
        for _ in range(self.n_iter):
            if self.method == "vb":
                assert self.theta_priors_ is not None
                assert self.strategy_priors_ is not None
                self.spamming_ = _variational_normalise(knowing, self.theta_priors_)
                self.thetas_ = _variational_normalise(strategy, self.strategy_priors_)
            else:
                self.spamming_ = _normalise(knowing, self.smoothing_)
                self.thetas_ = _normalise(strategy, self.smoothing_)
            likelihood, gold, strategy, knowing = self._e_step(rows)
        self.log_marginal_likelihood_ = likelihood
        with np.errstate(invalid="ignore", divide="ignore"):
            probas = gold / gold.sum(axis=1, keepdims=True)
        self.probas_ = probas_frame(encoded, probas)
        self.labels_ = labels_series(encoded, probas)
        return self

    def _initialise(self, n_workers: int, n_classes: int) -> None:
        start = sps.uniform(1, 1 + self.default_noise)
        spamming = start.rvs(size=(n_workers, 2), random_state=self.random_state)
        thetas = start.rvs(size=(n_workers, n_classes), random_state=self.random_state)
        self.spamming_ = spamming / spamming.sum(axis=1, keepdims=True)
        self.thetas_ = thetas / thetas.sum(axis=1, keepdims=True)
        self.theta_priors_ = self.strategy_priors_ = None
        if self.method == "vb":
            self.theta_priors_ = np.column_stack([np.full(n_workers, self.alpha),
                                                  np.full(n_workers, self.beta)])
            self.strategy_priors_ = np.full((n_workers, n_classes), 10.0)

    def _e_step(self, rows: _Answers) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
        """Log marginal likelihood, (tasks × labels) joint of the true label and the answers,
        expected spam counts per (worker, label given) and per worker [spam, know]."""
        encoded = rows.encoded
        task, worker, label = encoded.task, encoded.worker, encoded.label
        n_classes = encoded.n_classes
        spam = self.spamming_[worker, 0] * self.thetas_[worker, label]
        know = self.spamming_[worker, 1]
        given = label[:, None] == np.arange(n_classes)[None, :]
        per_answer = spam[:, None] + know[:, None] * given  # (answers × true label)
        gold = np.zeros((encoded.n_tasks, n_classes))
        gold[rows.task_of_start] = np.multiply.reduceat(per_answer[rows.order], rows.starts,
                                                        axis=0)
        gold /= n_classes
        instance = gold.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            likelihood = float(np.log(instance + 1e-8).sum())
            strategy_share = np.zeros(len(task))
            for k in range(n_classes):  # summed label by label, as crowd-kit does
                strategy_share += gold[task, k] / per_answer[:, k]
            strategy_share = strategy_share * self.spamming_[worker, 0] * self.thetas_[worker,
                                                                                        label]
            strategy_share = strategy_share / instance[task]
            know_share = gold[task, label] * know / (spam + know) / instance[task]
        n_workers = encoded.n_workers
        strategy = np.bincount(worker * n_classes + label, weights=strategy_share,
                               minlength=n_workers * n_classes).reshape(n_workers, n_classes)
        knowing = np.column_stack([
            np.bincount(worker, weights=strategy_share, minlength=n_workers),
            np.bincount(worker, weights=know_share, minlength=n_workers)])
        return likelihood, gold, strategy, knowing
