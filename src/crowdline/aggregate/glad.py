"""GLAD (Whitehill et al., 2009): worker expertise α and task difficulty β, fitted by EM.

P(worker w answers task t correctly) = σ(α_w · exp(β_t)); wrong answers spread evenly over
the other K − 1 labels. The M-step maximises the expected log-likelihood plus N(1, 1) priors on
α and β with SciPy's conjugate gradient, as crowd-kit 1.4.2 does (same objective, gradient,
start and stopping rules), but computed per answer with NumPy instead of per (answer, label)
row in pandas.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit, logsumexp
from scipy.stats import norm

from crowdline.aggregate.base import (
    Aggregator,
    EncodedAnswers,
    encode_answers,
    labels_series,
    probas_frame,
)
from crowdline.errors import InvalidInput


def _softplus(x: np.ndarray, limit: float = 30.0) -> np.ndarray:
    """log(1 + eˣ), taken as x above ``limit`` and 0 below −``limit`` (crowd-kit's cut-off)."""
    inside = np.abs(x) <= limit
    return np.where(inside, np.log1p(np.exp(np.where(inside, x, 0.0))), np.where(x > limit, x, 0.0))


class _Objective:
    """Expected complete log-likelihood Q(α, β) for fixed posteriors, and its gradient."""

    def __init__(self, encoded: EncodedAnswers, probas: np.ndarray) -> None:
        self.encoded = encoded
        self.given = probas[encoded.task, encoded.label]  # posterior of the label given
        self.other = probas.sum(axis=1)[encoded.task] - self.given  # of all other labels
        self.log_other_labels = np.log(encoded.n_classes - 1)

    def split(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return x[:self.encoded.n_workers], x[self.encoded.n_workers:]

    def q(self, alphas: np.ndarray, betas: np.ndarray) -> float:
        strength = alphas[self.encoded.worker] * np.exp(betas[self.encoded.task])
        expectation = (self.given * -_softplus(-strength)
                       + self.other * (-_softplus(strength) - self.log_other_labels))
        with np.errstate(divide="ignore"):
            total = float(expectation.sum())
            total += float(np.log(norm.pdf(alphas - 1.0)).sum())
            total += float(np.log(norm.pdf(betas - 1.0)).sum())
        return -np.inf if np.isnan(total) else total

    def minus_q(self, x: np.ndarray) -> float:
        return -self.q(*self.split(x))

    def minus_gradient(self, x: np.ndarray) -> np.ndarray:
        alphas, betas = self.split(x)
        encoded = self.encoded
        exp_beta = np.exp(betas[encoded.task])
        strength = alphas[encoded.worker] * exp_beta
        # Σ over labels v of P(v)·(δ(answer = v) − σ) = P(answer) − σ·Σ P
        residual = self.given - expit(strength) * (self.given + self.other)
        d_alpha = np.bincount(encoded.worker, weights=residual * exp_beta,
                              minlength=encoded.n_workers) - (alphas - 1.0)
        d_beta = np.bincount(encoded.task, weights=residual * strength,
                             minlength=encoded.n_tasks) - (betas - 1.0)
        return -np.concatenate([d_alpha, d_beta])


class GLAD(Aggregator):
    """GLAD: ``alphas_`` (worker expertise, by worker), ``betas_`` (log inverse task
    difficulty, by task), ``probas_``, ``labels_``. Needs at least two labels.
    Slower than Dawid-Skene (a CG optimisation per EM step): not for the online path."""

    alphas_: pd.Series
    betas_: pd.Series
    loss_history_: list[float]

    def __init__(self, n_iter: int = 100, tol: float = 1e-5, m_step_max_iter: int = 25,
                 m_step_tol: float = 1e-2) -> None:
        if n_iter < 0 or m_step_max_iter < 1:
            raise InvalidInput(f"n_iter must be >= 0 and m_step_max_iter >= 1, got {n_iter} and "
                               f"{m_step_max_iter}", hint="the defaults are 100 and 25")
        self.n_iter = n_iter
        self.tol = tol
        self.m_step_max_iter = m_step_max_iter
        self.m_step_tol = m_step_tol

    def _e_step(self, encoded: EncodedAnswers, alphas: np.ndarray, betas: np.ndarray,
                log_priors: np.ndarray) -> np.ndarray:
        strength = alphas[encoded.worker] * np.exp(betas[encoded.task])
        log_wrong = -_softplus(strength) - np.log(encoded.n_classes - 1)
        log_right = -_softplus(-strength)
        base = np.bincount(encoded.task, weights=log_wrong, minlength=encoded.n_tasks)
        log_likelihood = np.repeat(base[:, None], encoded.n_classes, axis=1)
        log_likelihood += encoded.task_label_counts(log_right - log_wrong)
        log_likelihood += log_priors
        return np.exp(log_likelihood - logsumexp(log_likelihood, axis=1, keepdims=True))

    def fit(self, answers: pd.DataFrame) -> GLAD:
        encoded = encode_answers(answers, min_classes=2)
        alphas = np.ones(encoded.n_workers)
        betas = np.ones(encoded.n_tasks)
        log_priors = np.full(encoded.n_classes, np.log(1.0 / encoded.n_classes))
        rows = len(encoded.task) * encoded.n_classes  # crowd-kit normalises by (answer, label) rows

        probas = self._e_step(encoded, alphas, betas, log_priors)
        q = _Objective(encoded, probas).q(alphas, betas)
        self.loss_history_ = []
        for _ in range(self.n_iter):
            last_q = q
            probas = self._e_step(encoded, alphas, betas, log_priors)
            objective = _Objective(encoded, probas)
            result = minimize(objective.minus_q, np.concatenate([alphas, betas]), method="CG",
                              jac=objective.minus_gradient, tol=self.m_step_tol,
                              options={"disp": False, "maxiter": self.m_step_max_iter})
            alphas, betas = objective.split(result.x)
            q = objective.q(alphas, betas) / rows
            self.loss_history_.append(q)
            if q - last_q < self.tol:
                break

        self.probas_ = probas_frame(encoded, probas)
        self.labels_ = labels_series(encoded, probas, ties="sorted")
        self.alphas_ = pd.Series(alphas, index=encoded.workers, name="alpha")
        self.betas_ = pd.Series(betas, index=encoded.tasks, name="beta")
        return self
