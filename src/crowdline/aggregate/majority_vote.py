"""Majority Vote: the label with the most votes (or the largest sum of worker skills)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crowdline.aggregate.base import (
    Aggregator,
    EncodedAnswers,
    encode_answers,
    labels_series,
    normalize_rows,
    probas_frame,
    worker_accuracy_against,
)
from crowdline.errors import InvalidInput


def worker_weights(encoded: EncodedAnswers, skills: pd.Series, *,
                   what: str = "skills") -> np.ndarray:
    """The skill of each answer's worker; every worker in the answers must have one."""
    if not isinstance(skills, pd.Series):
        raise InvalidInput(f"{what} must be a pandas Series indexed by worker, got "
                           f"{type(skills).__name__}", hint="pass e.g. Wawa().fit(a).skills_")
    by_worker = skills[~skills.index.duplicated(keep="last")].reindex(encoded.workers)
    unknown = by_worker.isna().to_numpy()
    if unknown.any():
        missing = list(encoded.workers[unknown][:5])
        raise InvalidInput(f"{int(unknown.sum())} workers in the answers have no skill, e.g. "
                           f"{missing}", hint=f"give every worker a value in {what}, or drop "
                           "their answers")
    return by_worker.to_numpy(dtype=float)[encoded.worker]


def vote(encoded: EncodedAnswers, weights: np.ndarray | None = None) -> np.ndarray:
    """(tasks × classes) vote shares: counts, or sums of ``weights``, normalised per task."""
    return normalize_rows(encoded.task_label_counts(weights))


class MajorityVote(Aggregator):
    """Each task gets its most frequent label; ``fit(answers, skills)`` weighs votes by skill.

    ``skills_`` is each worker's agreement with the aggregated labels.

    >>> MajorityVote().fit(answers).labels_          # doctest: +SKIP
    """

    skills_: pd.Series

    def fit(self, answers: pd.DataFrame, skills: pd.Series | None = None) -> MajorityVote:
        encoded = encode_answers(answers)
        weights = None if skills is None else worker_weights(encoded, skills)
        probas = vote(encoded, weights)
        self.probas_ = probas_frame(encoded, probas)
        ties = "first_seen" if weights is None else "sorted"
        self.labels_ = labels_series(encoded, probas, ties=ties)
        self.skills_ = worker_accuracy_against(encoded, np.argmax(probas, axis=1))
        return self
