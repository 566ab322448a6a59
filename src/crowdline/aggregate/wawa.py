"""Wawa (worker agreement with aggregate): majority vote weighted by each worker's agreement
with the plain majority vote."""

from __future__ import annotations

import pandas as pd

from crowdline.aggregate.base import (
    VOTES_SORTED,
    Aggregator,
    encode_answers,
    lay_out,
    worker_accuracy_against,
)
from crowdline.aggregate.majority_vote import MajorityVote, vote
from crowdline.errors import InvalidInput


class SkillWeightedVote(Aggregator):
    """An aggregator whose ``fit`` estimates ``skills_`` and whose ``predict`` /
    ``predict_proba`` weigh the votes of any answers by them (as crowd-kit's Wawa and Gold
    Majority Vote do); every worker in those answers needs a skill."""

    skills_: pd.Series
    skills_come_from = "skills_ (fit on answers of the same workers)"

    def _apply(self, answers: pd.DataFrame) -> None:
        if getattr(self, "skills_", None) is None:
            raise InvalidInput(f"this {type(self).__name__} is not fitted yet",
                               hint="call fit first, then predict")
        weighted = MajorityVote()._fit(answers, self.skills_, what=self.skills_come_from)
        self.labels_ = weighted.labels_
        self.probas_ = weighted.probas_

    def predict(self, answers: pd.DataFrame) -> pd.Series:
        """Labels of the tasks in ``answers`` by the skill-weighted vote."""
        self._apply(answers)
        return self.labels_

    def predict_proba(self, answers: pd.DataFrame) -> pd.DataFrame:
        """Vote shares of the tasks in ``answers`` by the skill-weighted vote."""
        self._apply(answers)
        return self.probas_


class Wawa(SkillWeightedVote):
    """Skills are agreement with the unweighted majority (``fit``); labels are the
    skill-weighted vote (``predict``; ``fit`` sets them too, for the answers it was given)."""

    def fit(self, answers: pd.DataFrame) -> Wawa:
        encoded = encode_answers(answers)
        if encoded.empty:
            self.skills_ = pd.Series(dtype=float, name="skill").rename_axis("worker")
            self._apply(answers)
            return self
        majority = lay_out(encoded, vote(encoded), sort_tasks=False, sort_labels=VOTES_SORTED)
        skills = worker_accuracy_against(encoded, majority.codes, sort=True)
        weights = skills.reindex(encoded.workers).to_numpy()[encoded.worker]
        self.skills_ = skills
        results = lay_out(encoded, vote(encoded, weights), sort_tasks=True, sort_labels=True)
        self.probas_ = results.probas
        self.labels_ = results.labels
        return self

    def fit_predict(self, answers: pd.DataFrame) -> pd.Series:  # type: ignore[override]
        return self.fit(answers).labels_

    def fit_predict_proba(self, answers: pd.DataFrame) -> pd.DataFrame:  # type: ignore[override]
        return self.fit(answers).probas_

