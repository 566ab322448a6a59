"""Zero-Based Skill: skill-weighted majority vote whose skills are learned by gradient steps.

Every worker starts at skill 1/K + eps; each iteration votes with the current skills, then
moves each skill towards the worker's accuracy against those votes with a learning rate that
is multiplied by ``lr_reduce_factor`` every ``lr_steps_to_reduce`` iterations — crowd-kit
1.4.2's schedule, so the skills and labels agree with it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crowdline.aggregate.base import (
    Aggregator,
    EncodedAnswers,
    empty_labels,
    encode_answers,
    index_order,
    lay_out,
)
from crowdline.aggregate.majority_vote import vote
from crowdline.errors import InvalidInput


def sorted_if_possible(series: pd.Series) -> pd.Series:
    """``series`` sorted by its index (crowd-kit's groupby order), as is when not sortable."""
    try:
        return series.sort_index()
    except TypeError:
        return series


class ZeroBasedSkill(Aggregator):
    """Skills (``skills_``, by worker, sorted as crowd-kit sorts them) from ``n_iter`` steps
    of skill ← skill + lr · (accuracy against the weighted vote − skill); ``labels_`` and
    ``probas_`` are the vote weighted by the final skills (crowd-kit's ``predict``).

    ``predict(answers)`` / ``predict_proba(answers)`` vote on other answers with the fitted
    skills; every worker in them must have a skill.

    >>> ZeroBasedSkill(n_iter=100).fit(answers).labels_          # doctest: +SKIP
    """

    skills_: pd.Series

    def __init__(self, n_iter: int = 100, lr_init: float = 1.0, lr_steps_to_reduce: int = 20,
                 lr_reduce_factor: float = 0.5, eps: float = 1e-5) -> None:
        if n_iter < 0:
            raise InvalidInput(f"n_iter must be >= 0, got {n_iter}", hint="100 is the default")
        if lr_steps_to_reduce < 1:
            raise InvalidInput(f"lr_steps_to_reduce must be >= 1, got {lr_steps_to_reduce}",
                               hint="20 is the default")
        self.n_iter = n_iter
        self.lr_init = lr_init
        self.lr_steps_to_reduce = lr_steps_to_reduce
        self.lr_reduce_factor = lr_reduce_factor
        self.eps = eps

    def fit(self, answers: pd.DataFrame) -> ZeroBasedSkill:
        encoded = encode_answers(answers)
        if encoded.empty:
            self.skills_ = pd.Series(dtype=float, name="skill").rename_axis("worker")
            self._vote(encoded, np.zeros(0))
            return self
        skills = np.full(encoded.n_workers, 1 / encoded.n_classes + self.eps)
        # accuracy against the vote, counting a repeated (task, worker, label) row once, as
        # crowd-kit's get_accuracy: the rows and totals do not change between iterations
        first = encoded.first_rows()
        worker, task, label = encoded.worker[first], encoded.task[first], encoded.label[first]
        totals = np.bincount(worker, minlength=encoded.n_workers)
        order = index_order(encoded.classes, True)
        rate = self.lr_init
        for iteration in range(1, self.n_iter + 1):
            if iteration % self.lr_steps_to_reduce == 0:
                rate *= self.lr_reduce_factor
            shares = vote(encoded, skills[encoded.worker])
            # ties to the smallest label, as the weighted MajorityVote breaks them
            best = np.argmax(shares if order is None else shares[:, order], axis=1)
            truth = best if order is None else order[best]
            hits = np.bincount(worker, weights=label == truth[task], minlength=encoded.n_workers)
            skills = skills + rate * (hits / totals - skills)
        result = pd.Series(skills, index=encoded.workers, name="skill")
        self.skills_ = sorted_if_possible(result) if self.n_iter else result
        self._vote(encoded, skills)
        return self

    def _vote(self, encoded: EncodedAnswers, skills: np.ndarray) -> None:
        """crowd-kit's ``predict``: the weighted Majority Vote, laid out as it lays it out."""
        if encoded.empty:
            self.probas_ = pd.DataFrame(index=pd.Index([], name="task"),
                                        columns=pd.Index([], name="label"))
            self.labels_ = empty_labels("object")
            return
        results = lay_out(encoded, vote(encoded, skills[encoded.worker]), sort_tasks=True,
                          sort_labels=True)
        self.probas_ = results.probas
        self.labels_ = results.labels

    def _apply(self, answers: pd.DataFrame) -> None:
        if not hasattr(self, "skills_"):
            raise InvalidInput("ZeroBasedSkill is not fitted yet", hint="call fit(answers) first")
        encoded = encode_answers(answers)
        skills = self.skills_.reindex(encoded.workers)
        if skills.isna().any():
            missing = list(encoded.workers[skills.isna().to_numpy()][:5])
            raise InvalidInput(f"{int(skills.isna().sum())} workers have no fitted skill, "
                               f"e.g. {missing}", hint="fit on answers that include them")
        self._vote(encoded, skills.to_numpy(dtype=float))

    def predict(self, answers: pd.DataFrame) -> pd.Series:
        self._apply(answers)
        return self.labels_

    def predict_proba(self, answers: pd.DataFrame) -> pd.DataFrame:
        self._apply(answers)
        return self.probas_
