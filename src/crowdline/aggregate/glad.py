"""GLAD (Whitehill et al., 2009): worker expertise α and task difficulty β, fitted by EM.

P(worker w answers task t correctly) = σ(α_w · exp(β_t)); wrong answers spread evenly over
the other K − 1 labels. The M-step maximises the expected log-likelihood plus N(1, 1) priors on
α and β with SciPy's conjugate gradient, as crowd-kit 1.4.2 does (same objective, gradient,
start and stopping rules), but computed per answer with NumPy instead of per (answer, label)
row in pandas.
"""

from __future__ import annotations

import dataclasses
import sys

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit, logsumexp
from scipy.stats import norm

from crowdline.aggregate.base import (
    Aggregator,
    EncodedAnswers,
    empty_labels,
    encode_answers,
    lay_out,
)
from crowdline.errors import InvalidInput


def _softplus(x: np.ndarray, limit: float = 30.0) -> np.ndarray:
    """log(1 + eˣ), taken as x above ``limit`` and 0 below −``limit`` (crowd-kit's cut-off)."""
    inside = np.abs(x) <= limit
    return np.where(inside, np.log1p(np.exp(np.where(inside, x, 0.0))), np.where(x > limit, x, 0.0))


class _Objective:
    """Expected complete log-likelihood Q(α, β) for fixed posteriors, and its gradient."""

    def __init__(self, encoded: EncodedAnswers, probas: np.ndarray, alpha_means: np.ndarray,
                 beta_means: np.ndarray) -> None:
        self.encoded = encoded
        self.alpha_means = alpha_means
        self.beta_means = beta_means
        self.given = probas[encoded.task, encoded.label]  # posterior of the label given
        self.other = probas.sum(axis=1)[encoded.task] - self.given  # of all other labels
        self.log_other_labels = np.log(max(encoded.n_classes - 1, 1))  # 1 label: no term

    def split(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return x[:self.encoded.n_workers], x[self.encoded.n_workers:]

    def q(self, alphas: np.ndarray, betas: np.ndarray) -> float:
        strength = alphas[self.encoded.worker] * np.exp(betas[self.encoded.task])
        expectation = (self.given * -_softplus(-strength)
                       + self.other * (-_softplus(strength) - self.log_other_labels))
        with np.errstate(divide="ignore"):
            total = float(expectation.sum())
            total += float(np.log(norm.pdf(alphas - self.alpha_means)).sum())
            total += float(np.log(norm.pdf(betas - self.beta_means)).sum())
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
                              minlength=encoded.n_workers) - (alphas - self.alpha_means)
        d_beta = np.bincount(encoded.task, weights=residual * strength,
                             minlength=encoded.n_tasks) - (betas - self.beta_means)
        return -np.concatenate([d_alpha, d_beta])


def _means(encoded_index: pd.Index, means: pd.Series | float | None, what: str) -> np.ndarray:
    """Prior means of α (by worker) or β (by task): a Series (entries it lacks: 1.0, the
    default), a number, or None (1.0 everywhere)."""
    if means is None:
        return np.ones(len(encoded_index))
    if isinstance(means, pd.Series):
        unique = means[~means.index.duplicated(keep="last")]
        return unique.reindex(encoded_index).fillna(1.0).to_numpy(dtype=float)
    if isinstance(means, int | float) and not isinstance(means, bool):
        return np.full(len(encoded_index), float(means))
    raise InvalidInput(f"{what} must be a pandas Series or a number, got {type(means).__name__}",
                       hint="leave it out for the default N(1, 1) prior")


def _with_prior_labels(encoded: EncodedAnswers, priors: pd.Series | None
                       ) -> tuple[EncodedAnswers, np.ndarray]:
    """The labels' prior probabilities: uniform over the answers' labels, or ``labels_priors``
    (a Series by label, which must cover every label answered; labels only it names become
    labels nobody gave)."""
    if priors is None:
        return encoded, np.full(encoded.n_classes, 1.0 / max(encoded.n_classes, 1))
    if not isinstance(priors, pd.Series) or priors.isna().any() or (priors <= 0).any():
        raise InvalidInput("labels_priors must be a pandas Series of positive numbers indexed "
                           "by label", hint="e.g. pd.Series({'yes': 0.3, 'no': 0.7})")
    priors = priors[~priors.index.duplicated(keep="last")]
    mapping = priors.index.get_indexer(encoded.classes)
    if (mapping < 0).any():
        missing = list(encoded.classes[mapping < 0][:5])
        raise InvalidInput(f"labels_priors lack labels the answers give, e.g. {missing}",
                           hint="give every answered label a prior")
    encoded = dataclasses.replace(encoded, label=mapping[encoded.label],
                                  classes=pd.Index(priors.index, name="label"))
    return encoded, priors.to_numpy(dtype=float)


class GLAD(Aggregator):
    """GLAD: ``alphas_`` (worker expertise, by worker), ``betas_`` (log inverse task
    difficulty, by task), ``priors_`` (the labels' prior, fixed: uniform or ``labels_priors``),
    ``probas_``, ``labels_``. crowd-kit's settings: ``alphas_priors_mean`` (by worker) and
    ``betas_priors_mean`` (by task) centre the N(·, 1) priors on α and β (default 1.0);
    ``silent=False`` prints each iteration's objective to stderr.
    Slower than Dawid-Skene (a CG optimisation per EM step): not for the online path."""

    alphas_: pd.Series
    betas_: pd.Series
    priors_: pd.Series
    loss_history_: list[float]

    def __init__(self, n_iter: int = 100, tol: float = 1e-5, silent: bool = True,
                 labels_priors: pd.Series | None = None,
                 alphas_priors_mean: pd.Series | float | None = None,
                 betas_priors_mean: pd.Series | float | None = None,
                 m_step_max_iter: int = 25, m_step_tol: float = 1e-2) -> None:
        if n_iter < 0 or m_step_max_iter < 1:
            raise InvalidInput(f"n_iter must be >= 0 and m_step_max_iter >= 1, got {n_iter} and "
                               f"{m_step_max_iter}", hint="the defaults are 100 and 25")
        self.n_iter = n_iter
        self.tol = tol
        self.silent = silent
        self.labels_priors = labels_priors
        self.alphas_priors_mean = alphas_priors_mean
        self.betas_priors_mean = betas_priors_mean
        self.m_step_max_iter = m_step_max_iter
        self.m_step_tol = m_step_tol

    def _e_step(self, encoded: EncodedAnswers, alphas: np.ndarray, betas: np.ndarray,
                log_priors: np.ndarray) -> np.ndarray:
        strength = alphas[encoded.worker] * np.exp(betas[encoded.task])
        log_wrong = -_softplus(strength) - np.log(max(encoded.n_classes - 1, 1))
        log_right = -_softplus(-strength)
        base = np.bincount(encoded.task, weights=log_wrong, minlength=encoded.n_tasks)
        log_likelihood = np.repeat(base[:, None], encoded.n_classes, axis=1)
        log_likelihood += encoded.task_label_counts(log_right - log_wrong)
        log_likelihood += log_priors
        return np.exp(log_likelihood - logsumexp(log_likelihood, axis=1, keepdims=True))

    def fit(self, answers: pd.DataFrame) -> GLAD:
        encoded = encode_answers(answers)
        encoded, priors = _with_prior_labels(encoded, self.labels_priors)
        alpha_means = _means(encoded.workers, self.alphas_priors_mean, "alphas_priors_mean")
        beta_means = _means(encoded.tasks, self.betas_priors_mean, "betas_priors_mean")
        self.priors_ = pd.Series(priors, index=encoded.classes, name="prior")
        self.loss_history_ = []
        if encoded.empty:  # crowd-kit divides by zero here
            self.probas_ = pd.DataFrame()
            self.labels_ = empty_labels()
            self.alphas_ = pd.Series(dtype=float, name="alpha").rename_axis("worker")
            self.betas_ = pd.Series(dtype=float, name="beta").rename_axis("task")
            return self
        alphas = np.ones(encoded.n_workers)
        betas = np.ones(encoded.n_tasks)
        with np.errstate(divide="ignore"):
            log_priors = np.log(priors)
        rows = len(encoded.task) * encoded.n_classes  # crowd-kit normalises by (answer, label) rows

        def objective_for(posteriors: np.ndarray) -> _Objective:
            return _Objective(encoded, posteriors, alpha_means, beta_means)

        probas = self._e_step(encoded, alphas, betas, log_priors)
        q = objective_for(probas).q(alphas, betas)
        for iteration in range(self.n_iter):
            last_q = q
            probas = self._e_step(encoded, alphas, betas, log_priors)
            objective = objective_for(probas)
            result = minimize(objective.minus_q, np.concatenate([alphas, betas]), method="CG",
                              jac=objective.minus_gradient, tol=self.m_step_tol,
                              options={"disp": False, "maxiter": self.m_step_max_iter})
            alphas, betas = objective.split(result.x)
            q = objective.q(alphas, betas) / rows
            self.loss_history_.append(q)
            if not self.silent:
                print(f"GLAD iteration {iteration + 1}: Q = {q:.6f}", file=sys.stderr)
            if q - last_q < self.tol:
                break

        # crowd-kit unstacks a groupby: tasks and labels sorted
        results = lay_out(encoded, probas, sort_tasks=True, sort_labels=True)
        self.probas_ = results.probas
        self.labels_ = results.labels
        self.alphas_ = pd.Series(alphas, index=encoded.workers, name="alpha")
        self.betas_ = pd.Series(betas, index=encoded.tasks, name="beta")
        return self
