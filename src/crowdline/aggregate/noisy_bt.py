"""Noisy Bradley-Terry: item scores with a skill and a left/right bias per worker.

A worker w compares i (left) and j (right): with probability σ(γ_w) they judge — choosing i
with probability σ(s_i − s_j) — otherwise they follow their bias, choosing left with
probability σ(q_w). Scores, biases and skills are σ of the fitted s, q and γ; a weak prior
(``regularization_ratio``) ties the scores to a shared anchor.

As in crowd-kit 1.4.2 (so that the results agree with it): the start is
``np.random.RandomState(random_state).rand(...)``, the fit is SciPy's L-BFGS-B for ``n_iter``
iterations with ``ftol=float32(tol)``, and the gradient handed to it is crowd-kit's own
formula — including its quirks (each worker's q and γ entries come from the worker's last
comparison only, and sit one slot lower than the parameters they belong to), so it is not the
exact gradient of the likelihood. Computed with arrays instead of a Python loop over rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit

from crowdline.aggregate.bradley_terry import TIE, encode_comparisons
from crowdline.errors import InvalidInput


class _Problem:
    """The comparisons in crowd-kit's parameter layout: x = [anchor, s (items), q, γ]."""

    def __init__(self, left: np.ndarray, right: np.ndarray, label: np.ndarray,
                 worker: np.ndarray, n_items: int, n_workers: int, ratio: float) -> None:
        self.left, self.right, self.worker = left + 1, right + 1, worker
        self.y = np.where(label == left, 1.0, -1.0)
        self.n_items, self.n_workers, self.ratio = n_items, n_workers, ratio
        n_rows = len(left)
        # the last comparison of each worker, and which rows come after worker 0's last one
        last = np.full(n_workers, -1)
        last[worker] = np.arange(n_rows)
        self.last_of_worker = last
        self.after_first_worker = np.arange(n_rows) > last[0]

    def parts(self, x: np.ndarray) -> tuple[np.ndarray, ...]:
        s_i, s_j = x[self.left], x[self.right]
        q = x[1 + self.n_items + self.worker]
        gamma = x[1 + self.n_items + self.n_workers + self.worker]
        return s_i, s_j, q, gamma

    def loss(self, x: np.ndarray) -> float:
        s_i, s_j, q, gamma = self.parts(x)
        y, n = self.y, self.n_items
        with np.errstate(all="ignore"):
            total = np.sum(np.log(expit(gamma) * expit(y * (s_i - s_j))
                                  + (1 - expit(gamma)) * expit(y * q)))
            prior = (np.sum(np.log(expit(x[0] - x[1:n + 1])))
                     + np.sum(np.log(expit(x[1:n + 1] - x[0]))))
        return float(-total + self.ratio * prior)

    def gradient(self, x: np.ndarray) -> np.ndarray:
        s_i, s_j, q, gamma = self.parts(x)
        y, n, m = self.y, self.n_items, self.n_workers
        with np.errstate(all="ignore"):
            d = s_i - s_j
            to_left = (y * np.exp(y * (-d))) / (
                (np.exp(-gamma) + 1) * (np.exp(y * (-d)) + 1) ** 2
                * (1 / ((np.exp(-gamma) + 1) * (np.exp(y * (-d)) + 1))
                   + (1 - 1 / (np.exp(-gamma) + 1)) / (np.exp(-q * y) + 1)))
            to_right = -(y * (np.exp(q * y) + 1) * np.exp(y * d + gamma)) / (
                (np.exp(y * d) + 1)
                * (np.exp(y * d + gamma + q * y) + np.exp(y * d + gamma)
                   + np.exp(y * d + q * y) + np.exp(q * y)))
            spread = (np.exp(y * (s_i + q) + gamma) + np.exp(s_i * y + gamma)
                      + np.exp(y * (s_i + q)) + np.exp(y * (s_j + q)))
            to_q = (y * np.exp(q * y) * (np.exp(s_i * y) + np.exp(s_j * y))) / (
                (np.exp(q * y) + 1) * spread)
            to_gamma = (np.exp(gamma) * (np.exp(s_i * y) - np.exp(y * (s_j + q)))) / (
                (np.exp(gamma) + 1) * spread)
            size = len(x)
            gradient = np.bincount(self.left, weights=to_left, minlength=size)
            gradient += np.bincount(self.right, weights=to_right, minlength=size)
            # crowd-kit assigns (not adds) q and γ terms at slots n + w and n + m + w, row by
            # row: the last row of each worker wins, and slot n (the last item's score) keeps
            # only the item terms of rows after worker 0's last row.
            last = self.last_of_worker
            later = self.after_first_worker
            gradient[n] = (np.sum(to_left[later & (self.left == n)])
                           + np.sum(to_right[later & (self.right == n)]) + to_q[last[0]])
            gradient[n + 1:n + m] = to_q[last[1:]]
            gradient[n + m:n + 2 * m] = to_gamma[last]
            gradient[n + 2 * m] = 0.0
            pull = np.tanh((x[1:n + 1] - x[0]) / 2.0)
            gradient[1:n + 1] -= self.ratio * pull
            gradient[0] += self.ratio * np.sum(pull)
        return -gradient


class NoisyBradleyTerry:
    """``fit(comparisons)`` (columns worker, left, right, label) sets ``scores_`` (by item,
    sorted, each in (0, 1)), ``skills_`` and ``biases_`` (by worker, sorted; bias = chance of
    choosing left when not judging). Rows whose label names neither side (ties) are left out;
    workers who only gave ties get no skill."""

    scores_: pd.Series
    skills_: pd.Series
    biases_: pd.Series

    def __init__(self, n_iter: int = 100, tol: float = 1e-5, regularization_ratio: float = 1e-5,
                 random_state: int = 0) -> None:
        if n_iter < 0:
            raise InvalidInput(f"n_iter must be >= 0, got {n_iter}", hint="100 is the default")
        self.n_iter = n_iter
        self.tol = tol
        self.regularization_ratio = regularization_ratio
        self.random_state = random_state

    def fit(self, comparisons: pd.DataFrame) -> NoisyBradleyTerry:
        encoded = encode_comparisons(comparisons, columns=("worker", "left", "right", "label"))
        decided = encoded.label != TIE  # ties say nothing about the items here
        encoded = encoded.without_ties()
        try:
            workers, worker = np.unique(comparisons["worker"].to_numpy()[decided],
                                        return_inverse=True)
        except TypeError as error:
            raise InvalidInput(f"the workers cannot be sorted: {error}",
                               hint="give workers ids of one type") from error
        n, m = encoded.n_items, len(workers)
        start = np.random.RandomState(self.random_state).rand(1 + n + 2 * m)
        if n == 0 or m == 0:
            fitted = start
        else:
            problem = _Problem(encoded.left, encoded.right, encoded.label,
                               worker.astype(np.int64), n, m, self.regularization_ratio)
            fitted = minimize(problem.loss, start, jac=problem.gradient, method="L-BFGS-B",
                              options={"maxiter": self.n_iter, "ftol": np.float32(self.tol)}).x
        self.scores_ = pd.Series(expit(fitted[1:n + 1]), index=pd.Index(encoded.items,
                                                                       name="label"),
                                 name="agg_score")
        self.biases_ = pd.Series(expit(fitted[n + 1:n + 1 + m]), index=workers, name="bias")
        self.skills_ = pd.Series(expit(fitted[n + 1 + m:]), index=workers, name="skill")
        return self

    def fit_predict(self, comparisons: pd.DataFrame) -> pd.Series:
        return self.fit(comparisons).scores_
