"""M-MSR (Ma and Olshevsky, 2020): worker skills from a robust rank-one completion of the
workers' agreement matrix, then a skill-weighted vote.

With K labels, C[i, j] = K/(K − 1) · (share of common tasks on which i and j agree) − 1/(K − 1)
estimates s_i·s_j, where s is each worker's skill above chance. M-MSR alternates u, v ← the
trimmed mean (the F largest and F smallest values dropped, F from the sparsest worker's number
of co-workers) of |C[i, j]| / v_j (resp. / u_i) over observed pairs, until u·vᵀ moves by less
than ``tol``; signs come from an eigenvector of a graph built on C's signs. Skills are
log((K − 1)·p / (1 − p)) with p = s·(K − 1)/K + 1/K, and labels the skill-weighted vote.

As in crowd-kit 1.4.2 (so that the skills agree): u and v start from
``scipy.stats.uniform.rvs(random_state=random_state)``, a worker's repeated answer to a task
keeps the last one, and the sign step is the same ARPACK call. The trimmed means run for all
workers at once on sorted matrices instead of a Python loop per worker and iteration.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
import scipy.sparse.linalg as sla
import scipy.stats as sps

from crowdline.aggregate.base import (
    Aggregator,
    EncodedAnswers,
    empty_labels,
    encode_answers,
    lay_out,
)
from crowdline.aggregate.majority_vote import vote
from crowdline.errors import InvalidInput


def _agreement(encoded: EncodedAnswers) -> tuple[np.ndarray, np.ndarray]:
    """(workers × workers) numbers of common tasks (diagonal 0) and the centred agreement C."""
    last = ~pd.Series(encoded.worker * encoded.n_tasks + encoded.task).duplicated(
        keep="last").to_numpy()
    worker, task, label = encoded.worker[last], encoded.task[last], encoded.label[last]
    shape = (encoded.n_workers, encoded.n_tasks)
    answered = sp.csr_matrix((np.ones(len(worker)), (worker, task)), shape=shape)
    common = (answered @ answered.T).toarray()
    np.fill_diagonal(common, 0.0)
    by_label = sp.csr_matrix((np.ones(len(worker)), (worker, task * encoded.n_classes + label)),
                             shape=(encoded.n_workers, encoded.n_tasks * encoded.n_classes))
    agree = (by_label @ by_label.T).toarray()
    k = encoded.n_classes
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(common > 0, agree / common, 0.0)
    return common, share * (k / (k - 1)) - 1.0 / (k - 1)


def _trimmed_means(values: np.ndarray, observed: np.ndarray, current: np.ndarray, trim: int,
                   n_tasks: int) -> np.ndarray:
    """Per column: the observed values without the ``trim`` smallest below ``current`` and the
    ``trim`` largest above it (fewer if fewer lie on that side); their mean, or ``current``
    when none is left. ``trim = -1`` keeps only the largest value (crowd-kit's slicing)."""
    # unobserved cells sort last (inf); an observed NaN (0/0 once a skill reached 0) sorts
    # just before them, where NumPy's sort of the observed values alone would put it
    missing = observed & np.isnan(values)
    ordered = np.sort(np.where(observed, np.where(missing, np.finfo(float).max, values), np.inf),
                      axis=0)
    ordered[ordered == np.finfo(float).max] = np.nan
    count = observed.sum(axis=0)
    below = (observed & (values < current[None, :])).sum(axis=0)
    above = (observed & (values > current[None, :])).sum(axis=0)
    if trim >= 0:
        start = np.minimum(below, trim)
        end = count - np.minimum(above, trim)
    else:
        start, end = np.maximum(count - 1, 0), count
    rank = np.arange(values.shape[0])[:, None]
    keep = (rank >= start[None, :]) & (rank < end[None, :])
    kept = end - start
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(keep, ordered, 0.0).sum(axis=0) / kept
    single_zero = (kept == 1) & (means == 0)
    means = np.where(single_zero, 1 / np.sqrt(n_tasks), means)
    return np.where(kept > 0, means, current)


def _signs(agreement: np.ndarray, magnitudes: np.ndarray) -> np.ndarray:
    """crowd-kit's sign step: the eigenvector of the smallest-magnitude eigenvalue of a
    random walk on the workers with C ≠ 0 rows plus one node per positive pair."""
    n = len(magnitudes)
    valid = np.flatnonzero(agreement.sum(axis=1) != 0)
    signs = np.sign(agreement)[np.ix_(valid, valid)]
    k = len(valid)
    first, second = np.nonzero(np.triu(signs == 1))
    signs[signs == 1] = 0
    n_pairs = len(first)
    rows = np.repeat(np.arange(n_pairs), 2)
    pairs = sp.csr_matrix((np.ones(2 * n_pairs), (rows, np.column_stack([first, second]).ravel())),
                          shape=(n_pairs, k))
    graph = sp.bmat([[sp.csr_matrix(np.abs(signs)), pairs.T], [pairs, None]], format="csr")
    size = k + n_pairs
    # a sparse copy of crowd-kit's dense (1/degree)·A + I: same operator, ~100× fewer flops
    walk = sp.diags(1.0 / np.asarray(graph.sum(axis=1)).ravel()) @ graph + sp.eye(size)
    if size > 2:
        _, vectors = sla.eigs(walk, 1, which="SM")
    else:  # too small for ARPACK (crowd-kit fails here): the dense eigenvector directly
        values, every = np.linalg.eig(walk.toarray())
        vectors = every[:, [int(np.argmin(np.abs(values)))]]
    direction = np.sign(vectors.real)
    result = np.zeros((n, 1))
    result[valid] = np.sign(np.sum(direction[:k])) * magnitudes[valid] * direction[:k]
    return result


class MMSR(Aggregator):
    """``fit(answers)`` sets ``skills_`` (by worker, first-seen order, as crowd-kit),
    ``labels_`` and ``scores_`` (the skill-weighted vote shares; skills below chance are
    negative, so scores are not probabilities), and ``loss_history_``.

    >>> MMSR().fit(answers).labels_          # doctest: +SKIP
    """

    skills_: pd.Series
    scores_: pd.DataFrame
    loss_history_: list[float]

    def __init__(self, n_iter: int = 10000, tol: float = 1e-10,
                 random_state: int | None = 0) -> None:
        if n_iter < 0:
            raise InvalidInput(f"n_iter must be >= 0, got {n_iter}", hint="10000 is the default")
        self.n_iter = n_iter
        self.tol = tol
        self.random_state = random_state

    def fit(self, answers: pd.DataFrame) -> MMSR:
        encoded = encode_answers(answers)
        if encoded.empty:
            self.loss_history_ = []
            self.skills_ = pd.Series(dtype=float, name="skill").rename_axis("worker")
            self._vote(encoded, np.zeros(0))
            return self
        if encoded.n_classes < 2:  # crowd-kit divides by K − 1 = 0
            raise InvalidInput(f"M-MSR needs at least 2 distinct labels, the answers hold "
                               f"{list(encoded.classes)}",
                               hint="use MajorityVote, or wait for answers with other labels")
        common, agreement = _agreement(encoded)
        sparsity = int((common > 0).sum(axis=0).min())
        trim = sparsity // 2 - 1
        n = encoded.n_workers
        u = sps.uniform.rvs(size=(n, 1), random_state=self.random_state).ravel()
        v = sps.uniform.rvs(size=(n, 1), random_state=self.random_state).ravel()
        observed = common > 0
        magnitude = np.abs(agreement)
        self.loss_history_ = []
        with np.errstate(divide="ignore", invalid="ignore"):
            for _ in range(self.n_iter):
                u_prev, v_prev = u, v
                v = _trimmed_means(magnitude / u[:, None], observed, v, trim, encoded.n_tasks)
                u = _trimmed_means((magnitude / v[None, :]).T, observed.T, u, trim,
                                   encoded.n_tasks)
                loss = float(np.linalg.norm(np.outer(u, v) - np.outer(u_prev, v_prev)))
                self.loss_history_.append(loss)
                if loss < self.tol or np.isnan(loss):  # NaN stays NaN: see the error below
                    break
        scale = np.sqrt(np.linalg.norm(u) / np.linalg.norm(v))
        signed = _signs(agreement, (u / scale)[:, None])
        k = encoded.n_classes
        clipped = np.maximum(np.minimum(signed, 1 - 1.0 / np.sqrt(encoded.n_tasks)),
                             -1 / (k - 1) + 1.0 / np.sqrt(encoded.n_tasks))
        chance = (clipped * (k - 1) / k + 1 / k).ravel()
        skills = np.log(chance * (k - 1) / (1 - chance))
        if np.isnan(skills).any():
            # crowd-kit ends here with NaN skills and its predict raises ValueError
            raise InvalidInput(
                f"M-MSR could not estimate {int(np.isnan(skills).sum())} of {n} skills: a "
                "worker agrees with co-workers exactly at chance, so the completion divides "
                "0 by 0 (e.g. on sparse overlap such as 3 answers per task)",
                hint="use DawidSkene or ZeroBasedSkill, or collect more overlapping answers")
        self.skills_ = pd.Series(skills, index=encoded.workers, name="skill")
        self._vote(encoded, skills)
        return self

    def _vote(self, encoded: EncodedAnswers, skills: np.ndarray) -> None:
        """crowd-kit's ``predict``: the weighted Majority Vote, laid out as it lays it out."""
        if encoded.empty:
            self.scores_ = pd.DataFrame(index=pd.Index([], name="task"),
                                        columns=pd.Index([], name="label"))
            self.labels_ = empty_labels("object")
            return
        with np.errstate(invalid="ignore", divide="ignore"):
            scores = vote(encoded, skills[encoded.worker])
        results = lay_out(encoded, scores, sort_tasks=True, sort_labels=True)
        self.scores_ = results.probas
        self.labels_ = results.labels

    def predict(self, answers: pd.DataFrame) -> pd.Series:
        self._apply(answers)
        return self.labels_

    def predict_score(self, answers: pd.DataFrame) -> pd.DataFrame:
        self._apply(answers)
        return self.scores_

    def fit_predict_score(self, answers: pd.DataFrame) -> pd.DataFrame:
        return self.fit(answers).scores_

    def _apply(self, answers: pd.DataFrame) -> None:
        if not hasattr(self, "skills_"):
            raise InvalidInput("MMSR is not fitted yet", hint="call fit(answers) first")
        encoded = encode_answers(answers)
        skills = self.skills_.reindex(encoded.workers)
        if skills.isna().any():
            raise InvalidInput(f"{int(skills.isna().sum())} workers have no fitted skill",
                               hint="fit on answers that include them")
        self._vote(encoded, skills.to_numpy(dtype=float))
